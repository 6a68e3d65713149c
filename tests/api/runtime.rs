//! The compiled binary in its Lambda mode, as Lambda starts it: events go through the real
//! runtime loop, the event reader (`lambda::event`) and lambda_http's adapter, from a minimal
//! Lambda Runtime API; and one thread serves them.

use std::process::Stdio;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

use crate::helpers::{moto_endpoint, png, spawn_app};
use crate::lambda::{Event, Payload};

const BINARY: &str = env!("CARGO_BIN_EXE_image-api");

/// Hands events to the function one at a time and collects what it posts back.
struct RuntimeApi {
    events: mpsc::Sender<Value>,
    answers: mpsc::Receiver<Value>,
}

struct Shared {
    events: Mutex<mpsc::Receiver<Value>>,
    answers: mpsc::Sender<Value>,
}

async fn next_event(State(shared): State<Arc<Shared>>) -> (HeaderMap, String) {
    let event = shared.events.lock().await.recv().await.expect("an event");
    let mut headers = HeaderMap::new();
    let id = uuid::Uuid::new_v4().to_string();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        "4102444800000".parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:image-api"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    (headers, event.to_string())
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    Path((_id, kind)): Path<(String, String)>,
    body: String,
) -> StatusCode {
    let answer = if kind == "response" {
        serde_json::from_str(&body).expect("a JSON response")
    } else {
        json!({"runtime_error": body})
    };
    shared.answers.send(answer).await.unwrap();
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    async fn start() -> (Self, String) {
        let (event_tx, event_rx) = mpsc::channel(1);
        let (answer_tx, answer_rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            events: Mutex::new(event_rx),
            answers: answer_tx,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let api = Self {
            events: event_tx,
            answers: answer_rx,
        };
        (api, address)
    }

    async fn invoke(&mut self, event: Value) -> Value {
        self.events.send(event).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(30), self.answers.recv())
            .await
            .expect("the function answered in time")
            .unwrap()
    }
}

/// The compiled binary in its Lambda mode, as Lambda starts it, polling `runtime_api`.
fn start_function(
    runtime_api: &str,
    bucket: &str,
    table: &str,
    endpoint: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(BINARY)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "image-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("BUCKET_NAME", bucket)
        .env("TABLE_NAME", table)
        .env("LOCALSTACK_ENDPOINT", endpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn events_pass_through_the_real_runtime_loop() {
    let app = spawn_app().await;
    let (mut api, address) = RuntimeApi::start().await;
    let mut child = start_function(&address, &app.bucket, &app.table, &moto_endpoint());

    // REST (v1) events, as template.yaml's API sends; HTTP API and function URL (v2) ones.
    for payload in [Payload::RestV1, Payload::HttpV2] {
        // A JSON upload: a JSON body inside the event's JSON, quotes escaped and all.
        let image = png(48 * 1024);
        let upload = json!({"file_name": "say \"cheese\".png", "content": STANDARD.encode(&image)});
        let event = Event::new("POST", "/images")
            .header("content-type", "application/json")
            .text_body(upload.to_string());
        let answer = api.invoke(event.to_json(payload)).await;
        assert_eq!(answer["statusCode"], 201, "{payload:?}: {answer}");
        let record: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(record["file_name"], "say \"cheese\".png");
        let id = record["id"].as_str().unwrap().to_owned();

        // A raw upload arrives base64-encoded, as API Gateway sends binary bodies.
        let raw = png(1024);
        let event = Event::new("POST", "/images")
            .query("file_name", "raw.png")
            .header("content-type", "image/png")
            .binary_body(&raw);
        let answer = api.invoke(event.to_json(payload)).await;
        assert_eq!(answer["statusCode"], 201, "{payload:?}: {answer}");
        let raw_id = serde_json::from_str::<Value>(answer["body"].as_str().unwrap()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Both are stored byte for byte, and come back as base64 binary responses.
        for (id, bytes) in [(id, &image), (raw_id, &raw)] {
            let event = Event::new("GET", format!("/images/{id}/content"));
            let answer = api.invoke(event.to_json(payload)).await;
            assert_eq!(answer["statusCode"], 200, "{payload:?}: {answer}");
            assert_eq!(answer["isBase64Encoded"], true);
            let body = STANDARD.decode(answer["body"].as_str().unwrap()).unwrap();
            assert_eq!(&body, bytes);
        }

        // A malformed request is still answered with a problem document.
        let event = Event::new("POST", "/images")
            .header("content-type", "application/json")
            .text_body("{");
        let answer = api.invoke(event.to_json(payload)).await;
        assert_eq!(answer["statusCode"], 400, "{payload:?}: {answer}");
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn inside_lambda_one_thread_serves_the_invocations() {
    // A fake Lambda Runtime API that accepts the runtime's "next invocation" poll and never
    // answers it: the process is then idle in its serving loop.
    let runtime_api = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = runtime_api.local_addr().unwrap().to_string();
    let mut child = start_function(&address, "b", "t", "http://127.0.0.1:9");
    let (_poll, _) = tokio::task::spawn_blocking(move || runtime_api.accept())
        .await
        .unwrap()
        .unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().unwrap())).unwrap();
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .map(|n| n.trim().to_owned());
    assert_eq!(threads.as_deref(), Some("1"), "{status}");
    child.kill().await.unwrap();
}
