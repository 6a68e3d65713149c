//! `Idempotency-Key` on `POST /images` and `POST /uploads`: a repeat is answered as the first
//! request was, and never makes a second image or upload.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use image_api::domain::{
    FileName, Fingerprint, IdempotencyKey, IdempotentRequest, ImageId, ImageRecord, Metadata,
    Timestamp,
};
use reqwest::{RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, assert_problem, moto_endpoint, png, spawn_app, spawn_app_at};
use image_api::storage::Hold;

use crate::proxy::{FaultyProxy, Plan};

fn fresh_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn json_upload(app: &TestApp, key: &str, body: &Value) -> RequestBuilder {
    app.http
        .post(app.url("/images"))
        .header("idempotency-key", key)
        .json(body)
}

fn image_body(seed: usize) -> Value {
    json!({"file_name": "same.png", "content": STANDARD.encode(png(300 + seed)), "metadata": {"k": "v"}})
}

async fn created(response: Response) -> (Option<String>, Value) {
    assert_eq!(response.status(), 201);
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (location, response.json().await.unwrap())
}

/// Every image the table lists and every object the bucket holds.
async fn stored(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let listed: Value = app.get_json("/images").await;
    let mut records: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    records.sort();
    let mut objects = app.object_ids().await;
    objects.sort();
    (records, objects)
}

#[tokio::test]
async fn a_repeated_upload_is_answered_as_the_first_and_stored_once() {
    let app = spawn_app().await;
    let key = fresh_key();
    let body = image_body(0);
    let first = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
    for _ in 0..3 {
        let again = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
        assert_eq!(again, first);
    }
    // Raw bytes under another key: the same.
    let raw = |key: &str| {
        app.http
            .post(app.url("/images?file_name=raw.png"))
            .header("idempotency-key", key)
            .header("content-type", "image/png")
            .body(png(500))
    };
    let other = fresh_key();
    let raw_first = created(raw(&other).send().await.unwrap()).await;
    assert_eq!(created(raw(&other).send().await.unwrap()).await, raw_first);
    // The quoted form of a key is the same key.
    let quoted = format!("\"{other}\"");
    assert_eq!(created(raw(&quoted).send().await.unwrap()).await, raw_first);

    let (records, objects) = stored(&app).await;
    let mut expected = vec![
        first.1["id"].as_str().unwrap().to_owned(),
        raw_first.1["id"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(records, expected);
    assert_eq!(objects, expected);

    // Without a key, each request is its own.
    let a = app.create("same.png", &png(300)).await;
    let b = app.create("same.png", &png(300)).await;
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn a_key_used_with_another_request_is_refused() {
    let app = spawn_app().await;
    let key = fresh_key();
    created(
        json_upload(&app, &key, &image_body(0))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Another body, another type or query, another route: each a different request.
    let other_body = json_upload(&app, &key, &image_body(1))
        .send()
        .await
        .unwrap();
    assert_problem(other_body, 422, "idempotency_key_reused").await;
    let raw = app
        .http
        .post(app.url("/images?file_name=same.png"))
        .header("idempotency-key", &key)
        .header("content-type", "image/png")
        .body(png(300))
        .send()
        .await
        .unwrap();
    assert_problem(raw, 422, "idempotency_key_reused").await;
    let plan = app
        .http
        .post(app.url("/uploads"))
        .header("idempotency-key", &key)
        .json(&json!({"file_name": "same.png", "size": 300}))
        .send()
        .await
        .unwrap();
    assert_problem(plan, 422, "idempotency_key_reused").await;
    assert_eq!(stored(&app).await.0.len(), 1);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_is_stored() {
    let app = spawn_app().await;
    let long = "k".repeat(256);
    for key in ["", "\" \"", "two words", "tab\tkey", long.as_str()] {
        let response = json_upload(&app, key, &image_body(0)).send().await.unwrap();
        let problem = assert_problem(response, 400, "invalid_idempotency_key").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
    // Given twice: which one is meant?
    let twice = json_upload(&app, "k1", &image_body(0)).header("idempotency-key", "k2");
    assert_problem(twice.send().await.unwrap(), 400, "invalid_idempotency_key").await;
    // Not ASCII.
    let response = app
        .http
        .post(app.url("/uploads"))
        .header("idempotency-key", "caf\u{e9}".as_bytes())
        .json(&json!({"file_name": "a.png", "size": 10}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "invalid_idempotency_key").await;
    // 255 characters is the most a key may have.
    created(
        json_upload(&app, &"k".repeat(255), &image_body(0))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stored(&app).await.0.len(), 1);
}

#[tokio::test]
async fn concurrent_repeats_make_one_image_and_the_others_wait_their_turn() {
    let app = spawn_app().await;
    let key = fresh_key();
    let body = image_body(7);
    let requests = (0..12).map(|_| json_upload(&app, &key, &body).send());
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = Vec::new();
    let mut in_progress = 0;
    for response in responses {
        let response = response.unwrap();
        match response.status().as_u16() {
            201 => ids.push(created(response).await.1["id"].clone()),
            409 => {
                assert_problem(response, 409, "request_in_progress").await;
                in_progress += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(ids.len() + in_progress, 12);
    let (records, objects) = stored(&app).await;
    assert_eq!(records, [ids[0].as_str().unwrap()]);
    assert_eq!(objects, records);
    // Once the first has answered, a repeat gets its answer.
    let (_, again) = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
    assert_eq!(again["id"], ids[0]);
}

#[tokio::test]
async fn concurrent_repeats_of_a_plan_make_one_upload() {
    let app = spawn_app().await;
    let key = fresh_key();
    let requests = (0..8).map(|_| {
        app.http
            .post(app.url("/uploads"))
            .header("idempotency-key", &key)
            .json(&json!({"file_name": "raced.png", "size": 1000}))
            .send()
    });
    let mut ids = Vec::new();
    for response in futures_util::future::join_all(requests).await {
        let response = response.unwrap();
        match response.status().as_u16() {
            201 => ids.push(created(response).await.1["id"].clone()),
            409 => {
                assert_problem(response, 409, "request_in_progress").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        !ids.is_empty() && ids.iter().all(|id| *id == ids[0]),
        "{ids:?}"
    );
    // One pending upload: the table holds it and the key's claim, nothing else.
    let scanned = app
        .dynamodb
        .scan()
        .table_name(&app.table)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.items().len(), 2, "{:?}", scanned.items());
}

#[tokio::test]
async fn a_failed_request_frees_its_key_so_its_repeat_runs() {
    let proxy = FaultyProxy::start(&moto_endpoint()).await;
    let app = spawn_app_at(&proxy.endpoint, &[]).await;
    app.create_resources().await;
    let key = fresh_key();
    let body = image_body(3);
    // S3 fails every call; DynamoDB (the key's claim) does not.
    proxy.set(Plan {
        s3: 1.0,
        dynamodb: 0.0,
    });
    let failed = json_upload(&app, &key, &body).send().await.unwrap();
    assert!(failed.status().is_server_error(), "{:?}", failed.status());
    proxy.set(Plan::default());
    let (_, first) = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
    let (_, again) = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
    assert_eq!(first, again);
    assert_eq!(stored(&app).await.0, [first["id"].as_str().unwrap()]);
}

/// Forwards one request to `upstream`, waits for the start of its answer and then closes the
/// client's connection without passing it on: the answer is lost after the server acted.
async fn lose_one_answer(upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(upstream.trim_start_matches("http://"))
            .await
            .unwrap();
        let (mut from_client, mut to_server) = (client.split(), server.split());
        let forward = tokio::io::copy(&mut from_client.0, &mut to_server.1);
        let mut answer = [0u8; 1];
        tokio::select! {
            _ = forward => {}
            read = to_server.0.read(&mut answer) => { read.unwrap(); }
        }
        // Both connections close here; the client sees its request cut off.
        let _ = client.shutdown().await;
    });
    address
}

#[tokio::test]
async fn an_upload_whose_answer_was_lost_is_stored_once_when_retried() {
    let app = spawn_app().await;
    let key = fresh_key();
    let body = image_body(11);
    let lossy = lose_one_answer(app.address.clone()).await;
    let lost = reqwest::Client::new()
        .post(format!("{lossy}/images"))
        .header("idempotency-key", &key)
        .json(&body)
        .send()
        .await;
    assert!(lost.is_err(), "the answer should have been lost: {lost:?}");
    // The server stored the image; the client does not know its id and retries.
    let (location, record) = created(json_upload(&app, &key, &body).send().await.unwrap()).await;
    let (records, objects) = stored(&app).await;
    assert_eq!(records, [record["id"].as_str().unwrap()]);
    assert_eq!(objects, records);
    assert_eq!(
        location.unwrap(),
        format!("/images/{}", record["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_repeated_plan_is_the_same_upload_and_completes_once() {
    let app = spawn_app_at(&moto_endpoint(), &[("DIRECT_UPLOAD_PART_BYTES", "5242880")]).await;
    app.create_resources().await;
    let key = fresh_key();
    let size = 6 * 1024 * 1024;
    let plan = || {
        app.http
            .post(app.url("/uploads"))
            .header("idempotency-key", &key)
            .json(&json!({"file_name": "big.png", "size": size}))
    };
    let first: Value = created(plan().send().await.unwrap()).await.1;
    let again: Value = created(plan().send().await.unwrap()).await.1;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["expires_at"], first["expires_at"]);
    assert_eq!(again["parts"].as_array().unwrap().len(), 2);
    // The repeat's URLs send the bytes of the one upload.
    let mut bytes = png(size);
    bytes.truncate(size);
    let parts = app.send_parts(&again, &bytes, &[]).await;
    let id = first["id"].as_str().unwrap();
    assert_eq!(app.complete(id, &parts).await.status(), 201);
    let other = app
        .http
        .post(app.url("/uploads"))
        .header("idempotency-key", &key)
        .json(&json!({"file_name": "big.png", "size": size + 1}))
        .send()
        .await
        .unwrap();
    assert_problem(other, 422, "idempotency_key_reused").await;
    assert_eq!(stored(&app).await.0, [id]);
}

/// A request that died holding its key (its lease over) is taken over by its repeat, which
/// makes the id it claimed: once, whether or not the dead one had made it.
#[tokio::test]
async fn a_repeat_takes_over_from_a_request_that_died() {
    let app = spawn_app().await;
    let store = &app.state.store;
    let record = |id: ImageId| {
        let mut record = ImageRecord::new(
            app.owner(),
            FileName::parse("dead.png".into()).unwrap(),
            imaging::media::MediaType::Png,
            300,
            imaging::dimensions::Dimensions {
                width: 1,
                height: 1,
            },
            Metadata::default(),
        );
        record.id = id;
        record
    };
    let bytes = Bytes::from(png(300));
    let now = Timestamp::now().unix_ms();
    for made_before_dying in [false, true] {
        let key = IdempotencyKey::parse(fresh_key().as_bytes()).unwrap();
        let fingerprint = Fingerprint::of(&[b"test", &bytes]);
        let request = IdempotentRequest {
            owner: app.owner(),
            key,
            fingerprint,
        };
        let claimed = ImageId::new();
        // The dead request: claimed its key, its lease over; maybe it had stored the image.
        let dead = Hold {
            holder: "dead",
            now: now - 60_000,
            lease_until: now - 1,
            expires: now + 60_000,
        };
        let held = store
            .catalog()
            .claim(&request, claimed, &dead)
            .await
            .unwrap();
        assert!(held.is_none());
        if made_before_dying {
            store.create(&record(claimed), bytes.clone()).await.unwrap();
        }
        let made = store
            .create_once(request.clone(), record(ImageId::new()), bytes.clone())
            .await
            .unwrap();
        assert_eq!(made.id, claimed, "made before dying: {made_before_dying}");
        let repeat = store
            .create_once(request, record(ImageId::new()), bytes.clone())
            .await
            .unwrap();
        assert_eq!(repeat, made);
    }
    let (records, objects) = stored(&app).await;
    assert_eq!(records.len(), 2);
    assert_eq!(objects, records);
    // A live lease is respected: its repeat is told to wait.
    let request = IdempotentRequest {
        owner: app.owner(),
        key: IdempotencyKey::parse(b"live").unwrap(),
        fingerprint: Fingerprint::of(&[b"live"]),
    };
    let live = Hold {
        holder: "live",
        now,
        lease_until: now + 60_000,
        expires: now + 120_000,
    };
    store
        .catalog()
        .claim(&request, ImageId::new(), &live)
        .await
        .unwrap();
    // A request that outlived its lease and was taken over cannot end the new holder's claim.
    store
        .catalog()
        .release_claim(&request, "dead")
        .await
        .unwrap();
    let made = image_api::storage::Stored::Image(record(ImageId::new()));
    assert!(
        store
            .catalog()
            .finish_claim(&request, "dead", &made)
            .await
            .is_err()
    );
    let waiting = store
        .create_once(request, record(ImageId::new()), bytes)
        .await;
    assert!(
        matches!(waiting, Err(image_api::storage::OnceError::InProgress)),
        "{waiting:?}"
    );
    // Keys share the table with the records; the operators' pass sees only records.
    let report = app.reconcile(0, false).await;
    assert_eq!(report.records, 2);
    assert!(report.ghost_records.is_empty() && report.orphan_objects.is_empty());
}
