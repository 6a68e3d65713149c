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
    read_answer(stream)
        .await
        .map(|answer| (answer.status, answer.head))
}

struct Answer {
    status: u16,
    /// Lowercased.
    head: String,
    body: Vec<u8>,
}

impl Answer {
    /// Asserts a problem document with this status and code, a request id and `nosniff`.
    fn assert_problem(&self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.head);
        assert!(
            self.head.contains("content-type: application/problem+json"),
            "{}",
            self.head
        );
        assert!(
            self.head.contains("x-content-type-options: nosniff"),
            "{}",
            self.head
        );
        let request_id = self
            .head
            .lines()
            .find_map(|line| line.strip_prefix("x-request-id: "))
            .expect("an x-request-id");
        let problem: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status);
        assert_eq!(
            problem["request_id"]
                .as_str()
                .map(str::to_lowercase)
                .as_deref(),
            Some(request_id.trim())
        );
        problem
    }
}

async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buffer = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some((answer, _)) = parse_answer(&buffer) {
            return Some(answer);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The response at the front of `bytes` (a body of its `Content-Length`), and its length.
fn parse_answer(bytes: &[u8]) -> Option<(Answer, usize)> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let body = bytes.get(head_end..head_end + length)?.to_vec();
    let status = head[9..12].parse().unwrap();
    Some((Answer { status, head, body }, head_end + length))
}

/// Sends `bytes` on a fresh connection and reads every answer until the server closes it.
async fn exchange(app: &TestApp, bytes: &[u8]) -> Vec<Answer> {
    let mut stream = connect(app).await;
    stream.write_all(bytes).await.unwrap();
    let mut received = Vec::new();
    timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .expect("and does not reset it");
    let mut answers = Vec::new();
    let mut rest = &received[..];
    while let Some((answer, length)) = parse_answer(rest) {
        answers.push(answer);
        rest = &rest[length..];
    }
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(rest));
    answers
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
    // A JSON upload takes its name from the body and no query parameter at all.
    let body = serde_json::json!({"file_name": "a.png", "content": base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        png(10),
    )});
    for query in ["?file_name=b.png", "?x=1", "?"] {
        let response = app
            .http
            .post(app.url(&format!("/images{query}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        if query == "?" {
            assert_eq!(response.status(), 201, "an empty query is none");
            continue;
        }
        assert_problem(response, 400, "invalid_query").await;
    }
    assert_eq!(app.object_ids().await.len(), 1);
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
    let page: serde_json::Value = app.get_json("/images?file_name=a.png&limit=1").await;
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

/// A head hyper cannot parse gets hyper's own answer: a bare status (or none) and a closed
/// connection, no problem document (README, "Errors"). The server goes on serving.
#[tokio::test]
async fn heads_hyper_cannot_parse_get_its_bare_answer() {
    let app = spawn_app().await;
    let cases: Vec<(&[u8], Option<u16>)> = vec![
        (b"GET /images HTTP/1.1 extra\r\nhost: t\r\n\r\n", Some(400)),
        (b"GET /images HTTP/3.0\r\nhost: t\r\n\r\n", Some(400)),
        (b"GET /im ages HTTP/1.1\r\nhost: t\r\n\r\n", Some(400)),
        (b"GET /images HTTP/1.1\r\nbad header: v\r\n\r\n", Some(400)),
        (b"GET /images HTTP/1.1\r\nx: a\x01b\r\n\r\n", Some(400)),
        (
            b"POST /images HTTP/1.1\r\ncontent-length: 12a\r\n\r\n",
            Some(400),
        ),
        (
            b"POST /images HTTP/1.1\r\ncontent-length: -1\r\n\r\n",
            Some(400),
        ),
        (
            b"POST /images HTTP/1.1\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nabcde",
            Some(400),
        ),
        (
            b"POST /images HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
            Some(400),
        ),
        (
            b"POST /images HTTP/1.1\r\ncontent-length: 18446744073709551615\r\n\r\n",
            Some(431),
        ),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", Some(400)),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None),
    ];
    for (bytes, status) in cases {
        let shown = String::from_utf8_lossy(bytes).into_owned();
        let answers = exchange(&app, bytes).await;
        assert_eq!(
            answers
                .iter()
                .map(|answer| answer.status)
                .collect::<Vec<_>>(),
            Vec::from_iter(status),
            "{shown:?}"
        );
        for answer in answers {
            assert!(answer.body.is_empty(), "{shown:?}: {}", answer.head);
        }
    }
    assert_eq!(app.get("/images").await.status(), 200);
}

#[tokio::test]
async fn heads_within_hyper_limits_get_the_stated_problems() {
    let app = spawn_app().await;
    // Just past the stated 8 KiB URI: a problem. Past 64 KiB (hyper's limit): hyper's 414.
    let path = format!("/images?file_name={}", "a".repeat(8 * 1024));
    exchange(&app, get(&path).as_bytes()).await[0].assert_problem(414, "uri_too_long");
    let path = format!("/images?file_name={}", "a".repeat(70_000));
    let answers = exchange(&app, get(&path).as_bytes()).await;
    assert_eq!((answers[0].status, answers[0].body.len()), (414, 0));

    // One header of 200 KiB: far past the stated bound, within hyper's 256 KiB.
    let huge = format!(
        "GET /images HTTP/1.1\r\nx-big: {}\r\n\r\n",
        "v".repeat(200 * 1024)
    );
    exchange(&app, huge.as_bytes()).await[0].assert_problem(431, "headers_too_large");

    // More header fields than the stated bound, though small in all: a problem naming it...
    let fields = |count: usize| {
        let mut head = String::from("GET /images HTTP/1.1\r\nconnection: close\r\n");
        head.push_str(&"h:\r\n".repeat(count - 1));
        head + "\r\n"
    };
    let answers = exchange(&app, fields(4097).as_bytes()).await;
    let problem = answers[0].assert_problem(431, "headers_too_large");
    assert!(
        problem["detail"].as_str().unwrap().contains("4096"),
        "{problem}"
    );
    // ...up to twice that; past it, hyper's own 431.
    exchange(&app, fields(8192).as_bytes()).await[0].assert_problem(431, "headers_too_large");
    let answers = exchange(&app, fields(8193).as_bytes()).await;
    assert_eq!((answers[0].status, answers[0].body.len()), (431, 0));
    // At the bound, a request is served.
    assert_eq!(exchange(&app, fields(4096).as_bytes()).await[0].status, 200);
}

/// Past 256 KiB, hyper stops reading: a bare 431, or a reset if the client is still
/// sending. Never a problem document, and the server goes on serving.
#[tokio::test]
async fn a_head_past_hyper_buffer_is_cut_off() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /images HTTP/1.1\r\nx-big: {}\r\n\r\n",
        "v".repeat(300 * 1024)
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let mut received = Vec::new();
    let _ = timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");
    if !received.is_empty() {
        let (answer, _) = parse_answer(&received).expect("one whole answer");
        assert_eq!((answer.status, answer.body.len()), (431, 0));
    }
    assert_eq!(app.get("/images").await.status(), 200);
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_up_to_a_malformed_one() {
    let app = spawn_app().await;
    let image = png(3000);
    let mut stream = Vec::new();
    // A raw upload with a Content-Length, another chunked (with an extension and a trailer),
    // a listing, then a malformed head (hyper's bare 400) and a request after it that is
    // never read.
    stream.extend_from_slice(
        format!(
            "POST /images?file_name=a.png HTTP/1.1\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n",
            image.len()
        )
        .as_bytes(),
    );
    stream.extend_from_slice(&image);
    stream.extend_from_slice(
        b"POST /images?file_name=b.png HTTP/1.1\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for piece in image.chunks(1000) {
        stream.extend_from_slice(format!("{:x};note=1\r\n", piece.len()).as_bytes());
        stream.extend_from_slice(piece);
        stream.extend_from_slice(b"\r\n");
    }
    stream.extend_from_slice(b"0\r\nx-trailer: t\r\n\r\n");
    stream.extend_from_slice(get("/images").as_bytes());
    stream.extend_from_slice(b"GET /images HTTP/1.1\r\ncontent-length: x\r\n\r\n");
    stream.extend_from_slice(get("/images").as_bytes());

    let answers = exchange(&app, &stream).await;
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(statuses, [201, 201, 200, 400]);
    assert!(answers[3].body.is_empty(), "{}", answers[3].head);
    let listing: serde_json::Value = serde_json::from_slice(&answers[2].body).unwrap();
    assert_eq!(listing["items"].as_array().unwrap().len(), 2, "{listing}");
    for answer in &answers[..2] {
        let record: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let id = record["id"].as_str().unwrap();
        assert_eq!(app.object(id).await.unwrap().0, image);
    }
}
