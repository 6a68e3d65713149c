use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::helpers::{assert_problem, png, spawn_app};

#[tokio::test]
async fn get_returns_record_and_base64_content() {
    let app = spawn_app().await;
    let bytes = png(300);
    let created = app.create("a.png", &bytes).await;
    let id = created["id"].as_str().unwrap();

    let response = app.get(&format!("/images/{id}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        STANDARD.decode(body["content"].as_str().unwrap()).unwrap(),
        bytes
    );
    for field in [
        "id",
        "file_name",
        "content_type",
        "size",
        "created_at",
        "metadata",
    ] {
        assert_eq!(body[field], created[field], "{field}");
    }
}

#[tokio::test]
async fn content_is_served_raw_with_caching_and_safety_headers() {
    let app = spawn_app().await;
    let bytes = b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04".to_vec();
    let created = app.create("smile \"ü\".gif", &bytes).await;
    let id = created["id"].as_str().unwrap();

    let response = app.get(&format!("/images/{id}/content")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/gif");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(
        headers["cache-control"],
        "private, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "inline; filename=\"smile ___.gif\"; filename*=UTF-8''smile%20%22%C3%BC%22.gif"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert_eq!(&response.bytes().await.unwrap()[..], &bytes[..]);

    let revalidated = app
        .http
        .get(app.url(&format!("/images/{id}/content")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());
    assert!(revalidated.bytes().await.unwrap().is_empty());

    let stale = app
        .http
        .get(app.url(&format!("/images/{id}/content")))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn malformed_and_unknown_ids_are_told_apart() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        "/images/not-a-uuid",
        "/images/not-a-uuid/content",
        "/images/%2e%2e%2fetc",
    ] {
        assert_problem(app.get(path).await, 400, "invalid_id").await;
    }
    assert_problem(
        app.get(&format!("/images/{unknown}")).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/images/{unknown}/content")).await,
        404,
        "not_found",
    )
    .await;
}
