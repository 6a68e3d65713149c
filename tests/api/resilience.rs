use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::TcpListener;

use crate::helpers::{TestApp, assert_problem, png, spawn_app_at};

/// The bound the contract promises for a dead dependency.
const PROMPT: Duration = Duration::from_secs(15);

async fn assert_every_route_fails_fast(app: &TestApp, endpoint: &str) {
    let id = uuid::Uuid::new_v4();
    let content = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png(10));
    let requests = [
        app.http
            .post(app.url("/images"))
            .json(&json!({"file_name": "a.png", "content": content})),
        app.http
            .post(app.url("/images?file_name=a.png"))
            .header("content-type", "image/png")
            .body(png(10)),
        app.http.get(app.url("/images")),
        app.http.get(app.url(&format!("/images/{id}"))),
        app.http.get(app.url(&format!("/images/{id}/content"))),
        app.http.delete(app.url(&format!("/images/{id}"))),
    ];
    let calls = requests.into_iter().map(|request| async move {
        let started = Instant::now();
        let response = request.send().await.unwrap();
        (started.elapsed(), response)
    });
    for (elapsed, response) in futures_util::future::join_all(calls).await {
        assert!(elapsed < PROMPT, "took {elapsed:?}");
        let body = assert_problem(response, 503, "upstream_unavailable").await;
        let text = body.to_string();
        let port = endpoint.rsplit(':').next().unwrap();
        assert!(
            !text.contains(port)
                && !text.contains("127.0.0.1")
                && !text.to_lowercase().contains("dispatch"),
            "leaks internals: {text}"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_gives_a_prompt_503() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let app = spawn_app_at(&endpoint, &[]).await;
    assert_every_route_fails_fast(&app, &endpoint).await;
}

#[tokio::test]
async fn a_backend_that_never_answers_gives_a_503_within_the_bound() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and holds them open without ever answering.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app_at(&endpoint, &[]).await;
    assert_every_route_fails_fast(&app, &endpoint).await;
}
