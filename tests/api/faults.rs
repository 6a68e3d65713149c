//! Mixed uploads and deletes through a proxy that breaks a share of the S3 and DynamoDB
//! requests; then, with the faults off, the invariants: nothing acknowledged is lost, nothing
//! deleted remains, no record points at nothing, and failed deletes converge when repeated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Response;

use crate::helpers::{TestApp, moto_endpoint, png, spawn_app_at};
use crate::proxy::{FaultyProxy, Plan};

const BOUND: Duration = Duration::from_secs(15);
const UPLOADS: usize = 60;
const CONCURRENCY: usize = 8;

struct Outcome {
    status: u16,
    elapsed: Duration,
    body: serde_json::Value,
    problem: bool,
}

async fn outcome(started: Instant, response: Response) -> Outcome {
    let status = response.status().as_u16();
    let problem = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json");
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    Outcome {
        status,
        elapsed: started.elapsed(),
        body,
        problem,
    }
}

fn check_failure(what: &str, o: &Outcome) {
    assert!(o.elapsed < BOUND, "{what} took {:?}", o.elapsed);
    if o.status >= 500 {
        assert!(
            o.problem,
            "{what}: a 5xx without a problem document: {}",
            o.body
        );
        assert!(
            matches!(
                o.body["code"].as_str(),
                Some("upstream_unavailable" | "internal")
            ),
            "{what}: {}",
            o.body
        );
    }
}

async fn scenario(plan: Plan) {
    let proxy = FaultyProxy::start(&moto_endpoint()).await;
    let app = spawn_app_at(&proxy.endpoint, &[]).await;
    app.create_resources().await;
    proxy.set(plan);

    // Uploads.
    let uploads = futures_util::stream::iter(0..UPLOADS)
        .map(|i| {
            let app = &app;
            async move {
                let bytes = png(100 + i * 37);
                let started = Instant::now();
                let response = app
                    .upload_raw(&format!("?file_name=f{i}.png"), "image/png", bytes.clone())
                    .await;
                (bytes, outcome(started, response).await)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut stored: HashMap<String, Vec<u8>> = HashMap::new();
    for (bytes, o) in &uploads {
        check_failure("upload", o);
        assert!(
            matches!(o.status, 201 | 500 | 503),
            "upload answered {}: {}",
            o.status,
            o.body
        );
        if o.status == 201 {
            stored.insert(o.body["id"].as_str().unwrap().to_owned(), bytes.clone());
        }
    }

    // Deletes: half of what was stored, plus ids that never existed.
    let mut targets: Vec<String> = stored.keys().take(stored.len() / 2).cloned().collect();
    targets.extend((0..10).map(|_| uuid::Uuid::new_v4().to_string()));
    let deletes = futures_util::stream::iter(targets)
        .map(|id| {
            let app = &app;
            async move {
                let started = Instant::now();
                let response = app.delete(&id).await;
                (id, outcome(started, response).await)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;

    let injected = proxy.injected.load(std::sync::atomic::Ordering::Relaxed);
    proxy.set(Plan::default());
    assert!(injected > 10, "the proxy injected only {injected} faults");

    let mut gone = Vec::new();
    for (id, o) in &deletes {
        check_failure("delete", o);
        assert!(
            matches!(o.status, 204 | 404 | 500 | 503),
            "delete answered {}: {}",
            o.status,
            o.body
        );
        if o.status >= 500 {
            // Repeating a failed delete converges once the faults stop.
            let again = app.delete(id).await.status().as_u16();
            assert!(
                matches!(again, 204 | 404),
                "repeated delete of {id} answered {again}"
            );
        }
        if o.status == 204 || o.status >= 500 || stored.contains_key(id) {
            gone.push(id.clone());
        }
    }
    for id in &gone {
        stored.remove(id);
        assert!(
            app.object(id).await.is_none(),
            "deleted image {id} left its object"
        );
        assert!(
            app.record(id).await.is_none(),
            "deleted image {id} left its record"
        );
    }
    // Every acknowledged upload that was not deleted is intact, byte for byte.
    for (id, bytes) in &stored {
        let response = app.get(&format!("/images/{id}/content")).await;
        assert_eq!(response.status(), 200, "acknowledged upload {id} is lost");
        assert_eq!(
            &response.bytes().await.unwrap()[..],
            &bytes[..],
            "upload {id} changed"
        );
    }
    assert_consistent(&app).await;
}

/// No record without its object; orphan objects (unknown-outcome uploads) are swept by
/// reconcile without touching anything acknowledged.
async fn assert_consistent(app: &TestApp) {
    let report = app.reconcile(0, false).await;
    assert!(
        report.ghost_records.is_empty(),
        "records without objects: {:?}",
        report.ghost_records
    );
    app.reconcile(0, true).await;
}

#[tokio::test]
async fn faulty_s3_loses_nothing() {
    scenario(Plan {
        s3: 0.3,
        dynamodb: 0.0,
    })
    .await;
}

#[tokio::test]
async fn faulty_dynamodb_loses_nothing() {
    scenario(Plan {
        s3: 0.0,
        dynamodb: 0.3,
    })
    .await;
}

#[tokio::test]
async fn faulty_s3_and_dynamodb_together_lose_nothing() {
    scenario(Plan {
        s3: 0.2,
        dynamodb: 0.2,
    })
    .await;
}

/// Direct uploads completed while S3 and DynamoDB fail a share of requests: every completion
/// answers a record it made (or one made before), or a prompt 5xx problem; repeated once the
/// faults stop, every one converges on exactly one image with the bytes that were sent.
#[tokio::test]
async fn completing_direct_uploads_under_faults_makes_each_image_once() {
    let proxy = FaultyProxy::start(&moto_endpoint()).await;
    let app = spawn_app_at(&proxy.endpoint, &[("DIRECT_UPLOAD_PART_BYTES", "5242880")]).await;
    app.create_resources().await;

    // Plans and parts go through cleanly; the faults are for `complete`.
    let mut uploads = Vec::new();
    for i in 0..40usize {
        let len = if i < 2 {
            6 * 1024 * 1024
        } else {
            2000 + i * 997
        };
        let mut bytes = png(len);
        bytes.truncate(len);
        let plan = app.plan(&format!("d{i}.png"), len).await;
        let parts = app.send_parts(&plan, &bytes, &[]).await;
        let id = plan["id"].as_str().unwrap().to_owned();
        uploads.push((id, bytes, parts));
    }

    proxy.set(Plan {
        s3: 0.3,
        dynamodb: 0.2,
    });
    let complete = |id: &str, parts: &serde_json::Value| {
        app.http
            .post(app.url(&format!("/uploads/{id}/complete")))
            .json(parts)
            .send()
    };
    let first = futures_util::stream::iter(&uploads)
        .map(|(id, _, parts)| async move {
            let started = Instant::now();
            let response = complete(id, parts).await.unwrap();
            (id.clone(), outcome(started, response).await)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let injected = proxy.injected.load(std::sync::atomic::Ordering::Relaxed);
    proxy.set(Plan::default());
    assert!(injected > 5, "the proxy injected only {injected} faults");

    let mut made: HashMap<String, serde_json::Value> = HashMap::new();
    for (id, o) in &first {
        check_failure("complete", o);
        assert!(
            matches!(o.status, 200 | 201 | 500 | 503),
            "complete of {id} answered {}: {}",
            o.status,
            o.body
        );
        if o.status < 300 {
            made.insert(id.clone(), o.body.clone());
        }
    }
    for (id, bytes, parts) in &uploads {
        let again = complete(id, parts).await.unwrap();
        let status = again.status().as_u16();
        let record: serde_json::Value = again.json().await.unwrap();
        assert!(matches!(status, 200 | 201), "{id}: {status} {record}");
        if let Some(earlier) = made.get(id) {
            assert_eq!(status, 200, "{id} was made before");
            assert_eq!(&record, earlier, "{id}: a second image");
        }
        let served = app.get(&format!("/images/{id}/content")).await;
        assert_eq!(served.status(), 200);
        assert!(
            served.bytes().await.unwrap()[..] == bytes[..],
            "{id} changed"
        );
    }
    let listed: serde_json::Value = app.get_json("/images?limit=100").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), uploads.len());
    assert_consistent(&app).await;
}
