//! The HTTP edge under hostile or careless clients: connections reset mid-request, slow
//! clients, too many connections, odd request ids, queries and tokens.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use crate::helpers::{TestApp, assert_problem, moto_endpoint, png, spawn_app, spawn_app_at};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Closes with a TCP reset, as a client that crashes or gives up does.
fn reset(stream: TcpStream) {
    stream.set_zero_linger().unwrap();
    drop(stream);
}

/// Reads one response (head, then a body of its `Content-Length`); returns the status and the
/// head's text. `None` if the server closed the connection first.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut buffer = Vec::new();
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let status = head[9..12].parse().unwrap();
    Some((status, head))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n")
}

/// Every object has its record and every record its object, once the sequences that lost
/// their clients have finished.
async fn assert_storage_consistent(app: &TestApp, ids: &[String]) {
    // A handler that read its whole request may start its sequence just after the reset.
    sleep(Duration::from_millis(300)).await;
    app.state.store.finish_pending().await;
    for id in app.object_ids().await {
        assert!(
            app.record(&id).await.is_some(),
            "object {id} without a record"
        );
    }
    for id in ids {
        assert_eq!(
            app.record(id).await.is_some(),
            app.object(id).await.is_some(),
            "{id}: a record without its object or an object without its record"
        );
    }
}

#[tokio::test]
async fn clients_that_reset_mid_upload_or_delete_leave_storage_whole() {
    let app = spawn_app().await;
    let body = png(4096);
    let mut ids = Vec::new();
    for delay_ms in 0..30u64 {
        let mut stream = connect(&app).await;
        let head = format!(
            "POST /images?file_name=r{delay_ms}.png HTTP/1.1\r\nhost: test\r\n\
             content-type: image/png\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
        sleep(Duration::from_millis(delay_ms / 2)).await;
        reset(stream);

        let id = app.create("d.png", &png(64)).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut stream = connect(&app).await;
        let request = format!("DELETE /images/{id} HTTP/1.1\r\nhost: test\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        sleep(Duration::from_millis(delay_ms / 2)).await;
        reset(stream);
        ids.push(id);
    }
    assert_storage_consistent(&app, &ids).await;
}

#[tokio::test]
async fn slow_clients_are_dropped() {
    let app = spawn_app_at(&moto_endpoint(), &[("CLIENT_TIMEOUT_SECS", "1")]).await;
    app.create_resources().await;

    // Half a request line, then nothing; and a connection that never sends a byte.
    let mut half = connect(&app).await;
    half.write_all(b"GET /ima").await.unwrap();
    let mut silent = connect(&app).await;
    for stream in [&mut half, &mut silent] {
        let mut byte = [0];
        let read = timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("the server closes a connection without a request head");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }

    // A body that stops half-way gets a 408 problem, and the connection closes.
    let mut stalled = connect(&app).await;
    stalled
        .write_all(
            b"POST /images?file_name=a.png HTTP/1.1\r\nhost: test\r\n\
              content-type: image/png\r\ncontent-length: 1000\r\n\r\n\x89PNG",
        )
        .await
        .unwrap();
    let (status, head) = timeout(Duration::from_secs(5), read_response(&mut stalled))
        .await
        .unwrap()
        .expect("a response");
    assert_eq!(status, 408);
    assert!(head.contains("application/problem+json"), "{head}");
    assert!(head.contains("x-request-id"), "{head}");
    assert!(app.object_ids().await.is_empty());
}

#[tokio::test]
async fn at_the_connection_bound_open_connections_are_still_served() {
    let app = spawn_app_at(&moto_endpoint(), &[("MAX_CONNECTIONS", "3")]).await;
    app.create_resources().await;
    let missing = format!("/images/{}", uuid::Uuid::new_v4());

    let mut served = connect(&app).await;
    served.write_all(get(&missing).as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut served).await.unwrap().0, 404);
    let idle = [connect(&app).await, connect(&app).await];
    sleep(Duration::from_millis(200)).await;

    // A fourth connection waits to be accepted...
    let mut waiting = connect(&app).await;
    waiting.write_all(get(&missing).as_bytes()).await.unwrap();
    assert!(
        timeout(Duration::from_millis(700), read_response(&mut waiting))
            .await
            .is_err(),
        "a connection past the bound is not served yet"
    );
    // ...while one already open is served.
    served.write_all(get(&missing).as_bytes()).await.unwrap();
    let again = timeout(Duration::from_secs(5), read_response(&mut served)).await;
    assert_eq!(again.unwrap().unwrap().0, 404);

    // Once one closes, the waiting one is served.
    drop(idle);
    let answered = timeout(Duration::from_secs(5), read_response(&mut waiting)).await;
    assert_eq!(answered.unwrap().unwrap().0, 404);
}

#[tokio::test]
async fn header_limits_are_the_stated_ones_and_answer_problems() {
    let app = spawn_app().await;
    // Many small headers, well under 16 KiB in all, are fine.
    let mut request = app.http.get(app.url("/images"));
    for i in 0..300 {
        request = request.header(format!("x-h{i}"), "v");
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    // Past 16 KiB in many headers: a problem document, not a bare answer.
    let mut request = app.http.get(app.url("/images"));
    for i in 0..2000 {
        request = request.header(format!("x-header-{i}"), "value");
    }
    assert_problem(request.send().await.unwrap(), 431, "headers_too_large").await;
}

#[tokio::test]
async fn request_ids_that_could_forge_log_fields_are_replaced() {
    let app = spawn_app().await;
    for forged in ["a b", "a\tb", "id status=200", "é"] {
        let response = app.get_with("/images", "x-request-id", forged).await;
        let echoed = response.headers()["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(echoed).is_ok(),
            "{forged:?} -> {echoed:?}"
        );
    }
}

#[tokio::test]
async fn raw_upload_queries_are_strict() {
    let app = spawn_app().await;
    for query in [
        "?file_name=a%ff.png",
        "?file_name=a.png&other=1",
        "?file_name=a&file_name=b",
    ] {
        let response = app.upload_raw(query, "image/png", png(10)).await;
        assert_problem(response, 400, "invalid_query").await;
    }
    let listing = app.get("/images?file_name=%C3").await;
    assert_problem(listing, 400, "invalid_query").await;
    assert!(app.object_ids().await.is_empty());
    let fine = app
        .upload_raw("?file_name=caf%C3%A9.png", "image/png", png(10))
        .await;
    assert_eq!(fine.status(), 201);
    let record: serde_json::Value = fine.json().await.unwrap();
    assert_eq!(record["file_name"], "café.png");
}

#[tokio::test]
async fn a_page_token_is_refused_with_other_filters() {
    let app = spawn_app().await;
    for _ in 0..2 {
        app.create("a.png", &png(8)).await;
    }
    let page: serde_json::Value = app
        .get("/images?file_name=a.png&limit=1")
        .await
        .json()
        .await
        .unwrap();
    let token = page["next_token"].as_str().unwrap();
    let same = app
        .get(&format!(
            "/images?file_name=a.png&limit=1&next_token={token}"
        ))
        .await;
    assert_eq!(same.status(), 200);
    for other in [
        "file_name=b.png&",
        "",
        "created_after=2020-01-01T00:00:00Z&file_name=a.png&",
    ] {
        let response = app.get(&format!("/images?{other}next_token={token}")).await;
        assert_problem(response, 400, "invalid_token").await;
    }
}

#[tokio::test]
async fn every_response_says_nosniff() {
    let app = spawn_app().await;
    let created = app.upload("a.png", &png(8)).await;
    let responses = [
        created,
        app.get("/images").await,
        app.get("/nowhere").await,
        app.get("/images/not-a-uuid").await,
        app.get("/openapi.json").await,
    ];
    for response in responses {
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{}",
            response.url()
        );
    }
}
