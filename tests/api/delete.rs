use crate::helpers::{assert_problem, png, spawn_app};

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

#[tokio::test]
async fn a_repeat_finishes_a_delete_that_removed_only_the_record() {
    let app = spawn_app().await;
    let created = app.create("half.png", &png(5)).await;
    let id = created["id"].as_str().unwrap();
    // The state a delete leaves when DeleteObject fails after DeleteItem succeeded.
    app.dynamodb
        .delete_item()
        .table_name(&app.table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(id.to_owned()),
        )
        .send()
        .await
        .unwrap();
    assert!(app.object(id).await.is_some());

    assert_problem(app.delete(id).await, 404, "not_found").await;
    assert!(
        app.object(id).await.is_none(),
        "the repeat removed the orphan object"
    );
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
