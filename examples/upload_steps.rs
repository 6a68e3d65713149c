//! What each step of an upload costs, for `make bench`: the CPU of the calling thread (a
//! current-thread runtime, so the SDK's own work is counted where it runs) for each step the
//! upload handler takes, and for the whole request through the router in-process. The
//! emulator's CPU is its own process's and is not counted. Needs the bench's environment
//! (`LOCALSTACK_ENDPOINT`, `BUCKET_NAME`, `TABLE_NAME` of an existing bucket and table).
//! Prints one JSON object: median nanoseconds per step, by upload kind.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use image_api::domain::{ImageRecord, NewImage};
use image_api::{Application, Config};
use tower::ServiceExt;

#[path = "shared/bench_support.rs"]
mod bench_support;
use bench_support::{payload as png, thread_cpu_ns};

const ROUNDS: usize = 41;

#[derive(Default)]
struct Samples(BTreeMap<&'static str, Vec<u64>>);

impl Samples {
    fn add(&mut self, step: &'static str, started: u64) -> u64 {
        let now = thread_cpu_ns();
        self.0.entry(step).or_default().push(now - started);
        thread_cpu_ns()
    }

    fn medians(mut self) -> BTreeMap<&'static str, u64> {
        self.0
            .iter_mut()
            .map(|(step, samples)| {
                samples.sort_unstable();
                (*step, samples[samples.len() / 2])
            })
            .collect()
    }
}

async fn steps(application: &Application, kind: &str, image: &[u8]) -> BTreeMap<&'static str, u64> {
    let state = application.state();
    let config = &state.config;
    let body = match kind {
        "json" => serde_json::to_vec(&serde_json::json!({
            "file_name": "steps.png",
            "content": STANDARD.encode(image),
        }))
        .unwrap(),
        _ => image.to_vec(),
    };
    let router = application.router();
    let mut samples = Samples::default();
    for _ in 0..ROUNDS {
        let body = Bytes::from(body.clone());
        let t = thread_cpu_ns();
        let new = match kind {
            "json" => NewImage::from_json(&body, config.max_upload_bytes, config.max_pixels),
            _ => NewImage::from_raw(
                body.clone(),
                Some("steps.png".into()),
                config.max_upload_bytes,
                config.max_pixels,
            ),
        }
        .expect("a valid upload");
        let t = samples.add("1 read the body: parse, decode, sniff, dimensions", t);
        let record = ImageRecord::new(
            config.owner.clone(),
            new.file_name,
            new.media,
            new.content.len(),
            new.dimensions,
            new.metadata,
        );
        let t = samples.add("2 make the record", t);
        let store = &state.store;
        store
            .objects()
            .put(record.id, record.content_type, new.content)
            .await
            .expect("PutObject");
        let t = samples.add("3 S3 PutObject (SDK: sign, checksum, send, read)", t);
        store.catalog().insert(&record).await.expect("PutItem");
        let t = samples.add("4 DynamoDB PutItem (SDK)", t);
        let answer = serde_json::to_vec(&record).unwrap();
        std::hint::black_box(answer);
        let t = samples.add("5 answer: the record as JSON", t);

        let uri = match kind {
            "json" => "/images".to_owned(),
            _ => "/images?file_name=steps.png".to_owned(),
        };
        let content_type = if kind == "json" {
            "application/json"
        } else {
            "image/png"
        };
        let request = Request::post(uri)
            .header("content-type", content_type)
            .header("content-length", body.len())
            .body(Body::from(body))
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 201);
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        samples.add("all: the whole request through the router, in-process", t);
    }
    samples.medians()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = Config::from_env().expect("the bench's environment");
    let application = Application::build(config).await.unwrap();
    let mut results = BTreeMap::new();
    for (kind, len) in [("json", 64 * 1024), ("raw", 64 * 1024)] {
        let image = png(len);
        // A first request resolves credentials and opens connections: not a step's cost.
        steps(&application, kind, &image).await;
        results.insert(
            format!("{kind} 64KiB"),
            steps(&application, kind, &image).await,
        );
    }
    println!("{}", serde_json::to_string(&results).unwrap());
}
