//! Owners: every image and pending upload is one owner's, and nobody else reaches it through
//! any route. Without sign-in, each server has one configured owner (two servers on one table
//! stand for two owners here); with Cognito (`cognito.rs`), each token's `sub` is one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, ids, jpeg, png, spawn_app};

/// What a request for an id nobody has gets: the answer for another owner's id must be the
/// same, code and detail alike.
async fn as_if_absent(response: reqwest::Response, absent: reqwest::Response) {
    let status = absent.status().as_u16();
    let code = if status == 404 { "not_found" } else { "" };
    if status == 204 {
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        return;
    }
    let theirs = assert_problem(response, status, code).await;
    let nobodys = assert_problem(absent, status, code).await;
    assert_eq!(theirs["detail"], nobodys["detail"]);
}

/// Everything `alice` owns stays hers, whatever `bob` does with its ids: every route, direct
/// uploads, idempotency keys and page tokens included.
pub async fn assert_isolated(alice: &TestApp, bob: &TestApp) {
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"file_name": "shared-name.jpg", "content": base64_of(&jpeg(20, 20))});
    let keyed = |app: &TestApp| {
        app.http
            .post(app.url("/images"))
            .header("idempotency-key", &key)
            .json(&body)
    };
    let first = keyed(alice).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let a1: Value = first.json().await.unwrap();
    let a2 = alice.create("alice-2.jpg", &jpeg(40, 30)).await;
    // The same key and body from bob is bob's own request: a new image, not alice's.
    let b1: Value = keyed(bob).send().await.unwrap().json().await.unwrap();
    assert_ne!(b1["id"], a1["id"]);
    // Direct uploads: one alice completes, one she leaves pending.
    let bytes = jpeg(64, 48);
    let done = alice.plan("direct.jpg", bytes.len()).await;
    let parts = alice.send_parts(&done, &bytes, &[]).await;
    let pending = alice.plan("pending.jpg", bytes.len()).await;
    let pending_parts = alice.send_parts(&pending, &bytes, &[]).await;
    let done_id = done["id"].as_str().unwrap().to_owned();
    // bob cannot complete alice's upload: as if it did not exist.
    let nobody = uuid::Uuid::new_v4().to_string();
    as_if_absent(
        bob.complete(&done_id, &parts).await,
        bob.complete(&nobody, &parts).await,
    )
    .await;
    assert_eq!(
        alice.complete(&done_id, &parts).await.status(),
        StatusCode::CREATED
    );
    // Completed, it is alice's image: bob's repeat of the completion is still refused as if
    // nothing were there (her own repeat would get her record back).
    as_if_absent(
        bob.complete(&done_id, &parts).await,
        bob.complete(&nobody, &parts).await,
    )
    .await;
    let pending_id = pending["id"].as_str().unwrap().to_owned();

    let alices: Vec<String> = [&a1, &a2]
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .chain([done_id.clone()])
        .collect();
    for id in &alices {
        for path in [
            format!("/images/{id}"),
            format!("/images/{id}/content"),
            format!("/images/{id}/thumbnail?size=64"),
        ] {
            let absent = path.replace(id.as_str(), &nobody);
            as_if_absent(bob.get(&path).await, bob.get(&absent).await).await;
        }
        as_if_absent(bob.delete(id).await, bob.delete(&nobody).await).await;
        as_if_absent(bob.abort(id).await, bob.abort(&nobody).await).await;
    }
    // Aborting alice's pending upload is, for bob, aborting nothing: it stays hers to complete.
    as_if_absent(bob.abort(&pending_id).await, bob.abort(&nobody).await).await;
    as_if_absent(
        bob.complete(&pending_id, &pending_parts).await,
        bob.complete(&nobody, &pending_parts).await,
    )
    .await;

    // Listings: each sees only their own, with or without the name filter.
    let listed = |app: &TestApp, query: &'static str| {
        let app = app.clone();
        async move {
            let response = app.get(&format!("/images{query}")).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let bob_sees = listed(bob, "").await;
    assert_eq!(ids(&bob_sees), [b1["id"].as_str().unwrap()]);
    let bob_named = listed(bob, "?file_name=shared-name.jpg").await;
    assert_eq!(ids(&bob_named), [b1["id"].as_str().unwrap()]);
    assert!(ids(&listed(bob, "?file_name=alice-2.jpg").await).is_empty());
    // A page token is its owner's: bob's is refused to alice.
    let page = listed(bob, "?limit=1").await;
    assert!(
        page.get("next_token").is_none(),
        "bob has one image: {page}"
    );
    let alice_page = listed(alice, "?limit=1").await;
    let token = alice_page["next_token"].as_str().expect("alice has more");
    let stolen = bob
        .get(&format!("/images?limit=1&next_token={token}"))
        .await;
    assert_problem(stolen, 400, "invalid_token").await;

    // alice still has everything, and can still complete the upload bob tried to abort.
    assert_eq!(
        alice.complete(&pending_id, &pending_parts).await.status(),
        StatusCode::CREATED
    );
    let mut all = alices.clone();
    all.push(pending_id);
    all.sort();
    let mut hers = ids(&listed(alice, "").await);
    hers.sort();
    assert_eq!(hers, all);
    for id in &alices {
        let content = alice.get(&format!("/images/{id}/content")).await;
        assert_eq!(content.status(), StatusCode::OK, "{id}");
        // A browser shared in turn keeps each person's answers apart.
        assert_eq!(content.headers()["vary"], "authorization");
        let thumbnail = alice.get(&format!("/images/{id}/thumbnail?size=64")).await;
        assert_eq!(thumbnail.status(), StatusCode::OK, "{id}");
    }
    // A repeat of alice's keyed request is still answered with hers.
    let again: Value = keyed(alice).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], a1["id"]);
    // And she deletes her own.
    assert_eq!(
        alice.delete(&alices[0]).await.status(),
        StatusCode::NO_CONTENT
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn two_owners_on_one_table_never_reach_each_others_images() {
    let alice = spawn_app().await;
    let bob = alice.beside("bob").await;
    assert_isolated(&alice, &bob).await;
}

/// Records from before owners have no `owner` (and sit in the old single partition): they are
/// the configured owner's, readable at once and listed once `adopt` has run.
/// An image record and a pending upload as the code before owners wrote them (no `owner`, the
/// record in the old single partition `shard = "all"`); returns the record's id.
async fn write_pre_owner_items(app: &TestApp) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let pending_id = uuid::Uuid::new_v4().to_string();
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(format!("images/{id}"))
        .body(png(64).into())
        .send()
        .await
        .unwrap();
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: u64| AttributeValue::N(v.to_string());
    let created = "2025-06-01T10:00:00.000Z";
    let old_record = HashMap::from([
        ("id".to_owned(), s(&id)),
        ("file_name".to_owned(), s("old.png")),
        ("content_type".to_owned(), s("image/png")),
        ("size".to_owned(), n(64)),
        ("created_at".to_owned(), s(created)),
        ("metadata".to_owned(), AttributeValue::M(HashMap::new())),
        ("created_key".to_owned(), s(&format!("{created}#{id}"))),
        ("shard".to_owned(), s("all")),
    ]);
    let expires = image_api::domain::Timestamp::now().plus(std::time::Duration::from_secs(600));
    let old_pending = HashMap::from([
        ("id".to_owned(), s(&pending_id)),
        ("state".to_owned(), s("pending")),
        ("file_name".to_owned(), s("old-plan.png")),
        ("size".to_owned(), n(10)),
        ("metadata".to_owned(), AttributeValue::M(HashMap::new())),
        ("part_size".to_owned(), n(8 << 20)),
        ("part_count".to_owned(), n(1)),
        ("created_at".to_owned(), s(created)),
        ("expires_at".to_owned(), s(&expires.to_string())),
        (
            "ttl".to_owned(),
            n(expires.as_offset().unix_timestamp() as u64),
        ),
    ]);
    for item in [old_record, old_pending] {
        app.dynamodb
            .put_item()
            .table_name(&app.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    id
}

#[tokio::test]
async fn records_written_before_owners_are_the_configured_owners_and_adopted() {
    let app = spawn_app().await;
    let id = write_pre_owner_items(&app).await;
    let s = |v: &str| AttributeValue::S(v.to_owned());
    // Readable by the configured owner at once; not yet listed.
    assert_eq!(
        app.get(&format!("/images/{id}")).await.status(),
        StatusCode::OK
    );
    assert!(ids(&app.get_json("/images").await).is_empty());

    let operator = app.operator_store().await;
    let adopted = operator.catalog().adopt(&app.owner()).await.unwrap();
    assert_eq!((adopted.images, adopted.uploads), (1, 1));
    let listed: Value = app.get_json("/images").await;
    assert_eq!(ids(&listed), [id.as_str()]);
    let named: Value = app.get_json("/images?file_name=old.png").await;
    assert_eq!(ids(&named), [id.as_str()]);
    let item = app
        .dynamodb
        .get_item()
        .table_name(&app.table)
        .key("id", s(&id))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !item.contains_key("shard"),
        "the old partition is gone: {item:?}"
    );
    // Running it again changes nothing.
    let again = operator.catalog().adopt(&app.owner()).await.unwrap();
    assert_eq!((again.images, again.uploads), (0, 0));
    // Adopted, it is its owner's for good: a deployment configured with another owner (for
    // whom records without one would be theirs) no longer reaches it.
    let other = app.beside("someone-else").await;
    assert_problem(other.get(&format!("/images/{id}")).await, 404, "not_found").await;
    assert!(ids(&other.get_json("/images").await).is_empty());
}

/// `image-api adopt --owner`, as an operator runs it: a malformed owner is refused before
/// anything is written; a good one gets the old records, and their listing.
#[tokio::test]
async fn the_adopt_command_gives_old_records_to_the_owner_named() {
    let app = spawn_app().await;
    let id = write_pre_owner_items(&app).await;
    let operator = app.operator_env().await;
    let adopt = |owner: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_image-api"))
            .args(["adopt", "--owner", owner])
            .env("BUCKET_NAME", &app.bucket)
            .env("TABLE_NAME", &app.table)
            .env("LOCALSTACK_ENDPOINT", crate::helpers::moto_endpoint())
            .envs(operator.iter().map(|(name, value)| (name, value)))
            .env_remove("IMAGE_OWNER")
            .output()
            .unwrap()
    };
    let refused = adopt("carol/x");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("an owner is 1 to 128"), "{stderr}");
    let carol = app.beside("carol").await;
    assert!(ids(&carol.get_json("/images").await).is_empty());

    let adopted = adopt("carol");
    assert!(adopted.status.success(), "{adopted:?}");
    assert_eq!(
        String::from_utf8_lossy(&adopted.stdout).trim(),
        "adopted for owner carol: 1 images, 1 pending uploads"
    );
    assert_eq!(ids(&carol.get_json("/images").await), [id.as_str()]);
    // No longer the configured owner's: it has an owner of its own now.
    assert_problem(app.get(&format!("/images/{id}")).await, 404, "not_found").await;
}
