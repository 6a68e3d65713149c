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
async fn unknown_paths_get_404() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/image",
        "/images/a/b/c",
        "/images/6f9619ff-8b86-4011-b42d-00c04fc964ff/preview",
    ] {
        assert_problem(app.get(path).await, 404, "not_found").await;
    }
}
