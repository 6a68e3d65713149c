use crate::helpers::{assert_problem, moto_endpoint, spawn_app, spawn_app_at};

#[tokio::test]
async fn request_ids_are_echoed_or_made_up() {
    let app = spawn_app().await;
    let sent = app
        .get_with("/images", "x-request-id", "client-abc-123")
        .await;
    assert_eq!(sent.headers()["x-request-id"], "client-abc-123");

    let made_up = app.get("/images").await;
    let id = made_up.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let oversized = app
        .get_with("/images", "x-request-id", "x".repeat(500))
        .await;
    assert_ne!(oversized.headers()["x-request-id"].len(), 500);

    let problem = app
        .get_with("/images/nope", "x-request-id", "trace-me")
        .await;
    let body = assert_problem(problem, 400, "invalid_id").await;
    assert_eq!(body["request_id"], "trace-me");
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let response = app
        .get_with("/images", "origin", "https://app.example.com")
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn cors_admits_only_the_configured_origins() {
    let app = spawn_app_at(
        &moto_endpoint(),
        &[("CORS_ALLOWED_ORIGINS", "https://app.example.com")],
    )
    .await;
    app.create_resources().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/images"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        allowed.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );

    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let simple = app
        .get_with("/images", "origin", "https://app.example.com")
        .await;
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("location"),
        "{exposed}"
    );
}

#[tokio::test]
async fn oversized_headers_and_uris_get_their_own_codes() {
    let app = spawn_app().await;
    let big_header = app
        .get_with("/images", "x-padding", "p".repeat(20 * 1024))
        .await;
    assert_problem(big_header, 431, "headers_too_large").await;
    let long_uri = app
        .get(&format!("/images?file_name={}", "a".repeat(9 * 1024)))
        .await;
    assert_problem(long_uri, 414, "uri_too_long").await;
    // Just under the bounds still works.
    let fine = app
        .get_with("/images", "x-padding", "p".repeat(8 * 1024))
        .await;
    assert_eq!(fine.status(), 200);
}
