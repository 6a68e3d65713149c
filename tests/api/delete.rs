use aws_sdk_dynamodb::types::AttributeValue;

use crate::helpers::{assert_problem, ids, jpeg, png, spawn_app};

#[tokio::test]
async fn delete_removes_object_and_record_and_repeats_harmlessly() {
    let app = spawn_app().await;
    let keep = app.create("keep.png", &png(5)).await;
    let gone = app.create("gone.png", &png(5)).await;
    let id = gone["id"].as_str().unwrap();

    let response = app.delete(id).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    assert!(app.object(id).await.is_none());
    assert!(app.record(id).await.is_none());
    assert_problem(app.get(&format!("/images/{id}")).await, 404, "not_found").await;

    for _ in 0..2 {
        assert_problem(app.delete(id).await, 404, "not_found").await;
    }
    let other = keep["id"].as_str().unwrap();
    assert!(app.object(other).await.is_some() && app.record(other).await.is_some());
}

fn item_key(id: &str) -> (String, AttributeValue) {
    ("id".to_owned(), AttributeValue::S(id.to_owned()))
}

/// Only a record of the caller's lets a delete touch objects: an object whose record is gone
/// (a hand edit, a failed rollback) is left to `reconcile`, like another owner's.
#[tokio::test]
async fn a_delete_that_finds_no_record_of_its_owner_deletes_no_object() {
    let app = spawn_app().await;
    let created = app.create("orphan.png", &png(5)).await;
    let id = created["id"].as_str().unwrap();
    let (name, value) = item_key(id);
    app.dynamodb
        .delete_item()
        .table_name(&app.table)
        .key(name, value)
        .send()
        .await
        .unwrap();

    assert_problem(app.delete(id).await, 404, "not_found").await;
    assert!(app.object(id).await.is_some(), "the object was deleted");
}

/// The state a delete leaves when it fails after marking the record (DeleteObject failed,
/// say): the image is gone to every read, and a repeat finishes the delete.
#[tokio::test]
async fn a_repeat_finishes_a_delete_that_stopped_after_marking_the_record() {
    let app = spawn_app().await;
    let created = app.create("half.jpg", &jpeg(64, 48)).await;
    let id = created["id"].as_str().unwrap();
    let thumbnail = app.get(&format!("/images/{id}/thumbnail?size=64")).await;
    assert_eq!(thumbnail.status(), 200);
    assert!(
        !app.keys_under(&format!("thumbnails/{id}/"))
            .await
            .is_empty()
    );
    app.mark_deleting(id).await;

    assert_problem(app.get(&format!("/images/{id}")).await, 404, "not_found").await;
    assert_problem(
        app.get(&format!("/images/{id}/content")).await,
        404,
        "not_found",
    )
    .await;
    let listed: serde_json::Value = app.get_json("/images").await;
    assert!(ids(&listed).is_empty(), "{listed}");
    assert!(app.object(id).await.is_some());

    let finished = app.delete(id).await;
    assert_eq!(finished.status(), 204);
    assert!(app.object(id).await.is_none());
    assert!(
        app.keys_under(&format!("thumbnails/{id}/"))
            .await
            .is_empty()
    );
    let (name, value) = item_key(id);
    let item = app
        .dynamodb
        .get_item()
        .table_name(&app.table)
        .key(name, value)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(item.item.is_none(), "the mark is left: {item:?}");
    assert_problem(app.delete(id).await, 404, "not_found").await;
}

#[tokio::test]
async fn delete_checks_the_id() {
    let app = spawn_app().await;
    assert_problem(app.delete("nope").await, 400, "invalid_id").await;
    assert_problem(
        app.delete(&uuid::Uuid::new_v4().to_string()).await,
        404,
        "not_found",
    )
    .await;
}
