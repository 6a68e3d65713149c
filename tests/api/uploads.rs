//! Direct uploads over HTTP against moto: the bytes go to the URLs the API hands out, as a
//! client's would, then complete, read, list, download and delete.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, moto_endpoint, png, spawn_app_at};

const MIB: usize = 1024 * 1024;

/// Parts of 5 MiB (S3's minimum), so three parts move 11 MiB, not 17.
async fn app() -> TestApp {
    let app = spawn_app_at(&moto_endpoint(), &[("DIRECT_UPLOAD_PART_BYTES", "5242880")]).await;
    app.create_resources().await;
    app
}

/// A PNG of exactly `len` bytes.
fn image(len: usize) -> Vec<u8> {
    let mut bytes = png(len);
    bytes.truncate(len);
    bytes
}

/// The whole flow for `len` bytes: plan, send, complete, read, list, download, delete.
async fn round_trip(app: &TestApp, len: usize, expected_parts: usize) {
    let bytes = image(len);
    let plan = app.plan("photo.png", len).await;
    assert_eq!(
        plan["parts"].as_array().unwrap().len(),
        expected_parts,
        "{plan}"
    );
    assert_eq!(plan["size"], len);
    let id = plan["id"].as_str().unwrap().to_owned();
    let parts = app.send_parts(&plan, &bytes, &[]).await;

    // Not an image until completed.
    assert_problem(app.get(&format!("/images/{id}")).await, 404, "not_found").await;
    let listed: Value = app.get_json("/images").await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");

    let completed = app.complete(&id, &parts).await;
    assert_eq!(completed.status(), StatusCode::CREATED);
    assert_eq!(completed.headers()["location"], format!("/images/{id}"));
    let record: Value = completed.json().await.unwrap();
    assert_eq!(record["id"], id);
    assert_eq!(record["size"], len);
    assert_eq!(record["content_type"], "image/png");
    assert_eq!(record["metadata"], json!({"camera": "x100"}));

    // Larger than MAX_UPLOAD_BYTES: the record points at the bytes instead of carrying them.
    let got: Value = app.get_json(&format!("/images/{id}")).await;
    assert!(got.get("content").is_none());
    assert!(
        got["content_url"].as_str().unwrap().starts_with("http"),
        "{got}"
    );
    let listed: Value = app.get_json("/images?file_name=photo.png").await;
    assert_eq!(listed["items"][0]["id"], id);

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_redirects
        .get(app.url(&format!("/images/{id}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(redirect.headers()["cache-control"], "no-store");
    // S3 answers with the service's type and disposition (moto ignores these overrides).
    let location = redirect.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("response-content-type=image%2Fpng"),
        "{location}"
    );
    assert!(
        location.contains("response-content-disposition=inline"),
        "{location}"
    );
    let downloaded = app.get(&format!("/images/{id}/content")).await;
    assert_eq!(downloaded.status(), StatusCode::OK);
    let body = downloaded.bytes().await.unwrap();
    assert!(body[..] == bytes[..], "downloaded bytes differ");

    assert_eq!(app.delete(&id).await.status(), StatusCode::NO_CONTENT);
    assert!(app.object(&id).await.is_none());
    assert!(app.record(&id).await.is_none());
}

#[tokio::test]
async fn one_part_round_trip() {
    round_trip(&app().await, 300 * 1024, 1).await;
}

#[tokio::test]
async fn three_parts_round_trip() {
    round_trip(&app().await, 11 * MIB, 3).await;
}

#[tokio::test]
async fn completing_twice_or_at_once_makes_one_image() {
    let app = app().await;
    let bytes = image(70 * 1024);
    let plan = app.plan("a.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &bytes, &[]).await;
    let (a, b) = tokio::join!(app.complete(id, &parts), app.complete(id, &parts));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201]);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a, b, "both answer the same record");
    let again = app.complete(id, &parts).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, a);
    let listed: Value = app.get_json("/images").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // A completed upload is an image now: aborting it is refused, and deletes nothing.
    assert_problem(app.abort(id).await, 409, "upload_completed").await;
    assert!(app.object(id).await.is_some());
}

#[tokio::test]
async fn bytes_that_are_not_an_image_are_refused_and_deleted() {
    let app = app().await;
    let bytes = b"<svg xmlns='http://www.w3.org/2000/svg'/>".repeat(100);
    let plan = app.plan("a.svg", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &bytes, &[]).await;
    assert!(app.object(id).await.is_some());
    assert_problem(
        app.complete(id, &parts).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(app.object(id).await.is_none());
    assert!(app.record(id).await.is_none());
    assert_problem(app.complete(id, &parts).await, 404, "not_found").await;
}

#[tokio::test]
async fn missing_bytes_and_wrong_sizes_are_conflicts_that_say_which() {
    let app = app().await;
    // Nothing sent yet: the upload stays, and completes once the bytes are there.
    let bytes = image(1000);
    let plan = app.plan("a.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let body = assert_problem(app.complete(id, &json!({})).await, 409, "upload_incomplete").await;
    assert!(
        body["detail"].as_str().unwrap().contains("no bytes"),
        "{body}"
    );
    let parts = app.send_parts(&plan, &bytes, &[]).await;
    assert_eq!(app.complete(id, &parts).await.status(), StatusCode::CREATED);

    // Fewer bytes than declared (moto does not enforce the signed length; S3 does).
    let plan = app.plan("b.png", 2000).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &image(1500), &[]).await;
    let body = assert_problem(app.complete(id, &parts).await, 409, "upload_incomplete").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("1500") && detail.contains("2000"),
        "{detail}"
    );
    assert!(app.object(id).await.is_none());

    // A part not sent, then sent.
    let bytes = image(6 * MIB);
    let plan = app.plan("c.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let first = app.send_parts(&plan, &bytes, &[2]).await;
    let body = assert_problem(app.complete(id, &first).await, 409, "upload_incomplete").await;
    assert!(
        body["detail"].as_str().unwrap().contains("missing: 2"),
        "{body}"
    );
    let all = app.send_parts(&plan, &bytes, &[]).await;
    let completed = app.complete(id, &all).await;
    assert_eq!(completed.status(), StatusCode::CREATED);
    let downloaded = app
        .get(&format!("/images/{id}/content"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(downloaded[..] == bytes[..]);
}

#[tokio::test]
async fn aborting_removes_everything_and_repeats() {
    let app = app().await;
    let bytes = image(6 * MIB);
    let plan = app.plan("a.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &bytes, &[]).await;
    assert_eq!(app.abort(id).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.abort(id).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.complete(id, &parts).await, 404, "not_found").await;
    assert!(app.record(id).await.is_none());
    assert!(app.object(id).await.is_none());
    let uploads = app
        .s3
        .list_multipart_uploads()
        .bucket(&app.bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{uploads:?}");

    // A single part sent, then aborted.
    let bytes = image(1000);
    let plan = app.plan("b.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    app.send_parts(&plan, &bytes, &[]).await;
    assert_eq!(app.abort(id).await.status(), StatusCode::NO_CONTENT);
    assert!(app.object(id).await.is_none());
    assert!(app.object_ids().await.is_empty());
}

#[tokio::test]
async fn a_pending_upload_is_no_image() {
    let app = app().await;
    let bytes = image(1000);
    let plan = app.plan("a.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &bytes, &[]).await;
    assert_problem(
        app.get(&format!("/images/{id}/content")).await,
        404,
        "not_found",
    )
    .await;
    // Deleting "the image" touches neither the upload's record nor its bytes.
    assert_problem(app.delete(id).await, 404, "not_found").await;
    assert!(app.object(id).await.is_some());
    assert_eq!(app.complete(id, &parts).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn plans_are_checked_before_anything_is_made() {
    let app = app().await;
    let too_large = app
        .http
        .post(app.url("/uploads"))
        .json(&json!({"file_name": "a.png", "size": 64 * MIB + 1}))
        .send()
        .await
        .unwrap();
    assert_problem(too_large, 413, "payload_too_large").await;
    for (body, code) in [
        (json!({"file_name": "a.png"}), "missing_field"),
        (json!({"file_name": "a.png", "size": 0}), "empty_content"),
        (json!({"file_name": "", "size": 1}), "invalid_field"),
        (
            json!({"file_name": "a.png", "size": 1, "parts": 3}),
            "invalid_field",
        ),
    ] {
        let response = app
            .http
            .post(app.url("/uploads"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400, code).await;
    }
    let scanned = app
        .dynamodb
        .scan()
        .table_name(&app.table)
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.count(), 0);
    let unknown = uuid::Uuid::new_v4();
    assert_problem(
        app.complete(&unknown.to_string(), &json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.abort(&unknown.to_string()).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(app.complete("nope", &json!({})).await, 400, "invalid_id").await;
}

/// PUTs `bytes` to a part's URL again, with its signed headers, as anyone holding the plan could.
async fn put_again(app: &TestApp, part: &Value, bytes: &[u8]) -> StatusCode {
    let mut request = app.http.put(part["url"].as_str().unwrap());
    for (name, value) in part["headers"].as_object().unwrap() {
        if name != "content-length" {
            request = request.header(name, value.as_str().unwrap());
        }
    }
    request.body(bytes.to_vec()).send().await.unwrap().status()
}

/// Bytes of exactly `len`: an HTML page, which must never be served as the image.
fn page(len: usize) -> Vec<u8> {
    let mut page = b"<html><script>alert(1)</script>".to_vec();
    page.resize(len, b' ');
    page
}

#[tokio::test]
async fn a_completed_upload_cannot_be_changed_through_its_urls() {
    let app = app().await;
    for (len, parts) in [(1000, 1), (6 * MIB, 2)] {
        let bytes = image(len);
        let plan = app.plan("kept.png", len).await;
        let id = plan["id"].as_str().unwrap();
        let sent = app.send_parts(&plan, &bytes, &[]).await;
        assert_eq!(app.complete(id, &sent).await.status(), StatusCode::CREATED);
        let urls = plan["parts"].as_array().unwrap();
        assert_eq!(urls.len(), parts);
        for part in urls {
            let length = part["headers"]["content-length"].as_str().unwrap();
            let status = put_again(&app, part, &page(length.parse().unwrap())).await;
            // A single PUT only creates (412); a part of a completed upload has no upload
            // (S3: 404 NoSuchUpload; moto 5.2 answers 500). Either way nothing is written.
            assert!(
                !status.is_success(),
                "{len} bytes, part {}: {status}",
                part["number"]
            );
        }
        let (stored, _) = app.object(id).await.expect("the object is kept");
        assert!(stored[..] == bytes[..], "the validated bytes changed");
        let tags = app.tags(id).await;
        assert!(tags.is_empty(), "{tags:?}");
        let content = app.get(&format!("/images/{id}/content")).await;
        assert_eq!(content.status(), StatusCode::OK);
        assert!(content.bytes().await.unwrap()[..] == bytes[..]);
    }
}

#[tokio::test]
async fn what_an_aborted_upload_url_still_writes_is_pending_and_reconciled() {
    let app = app().await;
    let bytes = image(1000);
    let plan = app.plan("dropped.png", bytes.len()).await;
    let id = plan["id"].as_str().unwrap();
    app.send_parts(&plan, &bytes, &[]).await;
    assert_eq!(app.abort(id).await.status(), StatusCode::NO_CONTENT);
    let part = &plan["parts"][0];
    // The URL lives on until it expires: it may create the object again, but only pending.
    assert!(put_again(&app, part, &page(1000)).await.is_success());
    let tags = app.tags(id).await;
    assert_eq!(tags, vec![("pending".to_owned(), "true".to_owned())]);
    assert!(app.record(id).await.is_none());
    assert_problem(
        app.get(&format!("/images/{id}/content")).await,
        404,
        "not_found",
    )
    .await;
    // No completion can make it an image, and reconcile removes it.
    let sent = json!({"parts": [{"number": 1, "etag": "\"x\""}]});
    assert_problem(app.complete(id, &sent).await, 404, "not_found").await;
    let report = app.reconcile(0, true).await;
    assert!(
        report
            .orphan_objects
            .iter()
            .any(|f| f.id.to_string() == id && f.repaired),
        "{report:?}"
    );
    assert!(app.object(id).await.is_none());
}
