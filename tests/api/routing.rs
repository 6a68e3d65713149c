use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4();
    let cases = [
        (
            reqwest::Method::PUT,
            "/images".to_owned(),
            vec!["GET", "HEAD", "POST"],
        ),
        (
            reqwest::Method::PATCH,
            format!("/images/{id}"),
            vec!["DELETE", "GET", "HEAD"],
        ),
        (
            reqwest::Method::POST,
            format!("/images/{id}/content"),
            vec!["GET", "HEAD"],
        ),
    ];
    for (method, path, allowed) in cases {
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let mut listed: Vec<&str> = allow.split(',').map(str::trim).collect();
        listed.sort_unstable();
        assert_eq!(listed, allowed, "{method} {path}");
        let body = assert_problem(response, 405, "method_not_allowed").await;
        assert!(body["detail"].as_str().unwrap().contains(method.as_str()));
    }
}

#[tokio::test]
async fn the_gallery_page_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let policy = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    // Direct uploads go to where presigned URLs point: the emulator here.
    assert!(
        policy.contains(&format!(
            "connect-src 'self' {}",
            crate::helpers::moto_endpoint()
        )),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="assets/app.js" defer></script>"#));
    assert!(!html.contains("{{"), "every placeholder is filled");
    assert!(!html.contains("<script>"), "no inline script");
    for (asset, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let response = app.get(&format!("/assets/{asset}")).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert_eq!(response.headers()["content-type"], content_type, "{asset}");
    }
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let app = spawn_app().await;
    for path in [
        "/index.html",
        "/assets/nope.js",
        "/image",
        "/images/a/b/c",
        "/images/6f9619ff-8b86-4011-b42d-00c04fc964ff/preview",
    ] {
        assert_problem(app.get(path).await, 404, "not_found").await;
    }
}
