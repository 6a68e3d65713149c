//! Dimensions as displayed, for both upload paths; bombs and unreadable headers refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    assert_problem, jpeg, moto_endpoint, seed, spawn_app, spawn_app_at, with_orientation,
};

/// A PNG whose header claims `width` x `height`, with nothing behind it worth decoding.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

#[tokio::test]
async fn records_carry_the_displayed_size_from_either_path() {
    let app = spawn_app().await;
    // A portrait photo stored sideways: 60 x 40 pixels, orientation 6 (turn 90°).
    let photo = with_orientation(&jpeg(60, 40), 6);

    let json_upload = app.upload("portrait.jpg", &photo).await;
    assert_eq!(json_upload.status(), StatusCode::CREATED);
    let record: Value = json_upload.json().await.unwrap();
    assert_eq!(
        (record["width"].as_u64(), record["height"].as_u64()),
        (Some(40), Some(60))
    );

    let raw = app
        .upload_raw("?file_name=portrait.jpg", "image/jpeg", photo.clone())
        .await;
    let raw: Value = raw.json().await.unwrap();
    assert_eq!(
        (raw["width"].as_u64(), raw["height"].as_u64()),
        (Some(40), Some(60))
    );

    // Direct: plan, PUT, complete.
    let plan = app.plan("portrait.jpg", photo.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &photo, &[]).await;
    let done: Value = app.complete(id, &parts).await.json().await.unwrap();
    assert_eq!(
        (done["width"].as_u64(), done["height"].as_u64()),
        (Some(40), Some(60)),
        "{done}"
    );

    // The listing and the record show them too.
    let listed: Value = app.get_json("/images").await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["width"] == 40 && item["height"] == 60)
    );
    let got: Value = app.get_json(&format!("/images/{id}")).await;
    assert_eq!(got["height"], 60);
}

#[tokio::test]
async fn bombs_and_unreadable_headers_are_refused_before_storage() {
    let app = spawn_app_at(&moto_endpoint(), &[("MAX_PIXELS", "1000000")]).await;
    app.create_resources().await;
    let bomb = png_claiming(50_000, 50_000);
    let body = assert_problem(app.upload("bomb.png", &bomb).await, 422, "too_many_pixels").await;
    assert!(
        body["detail"].as_str().unwrap().contains("2500000000"),
        "{body}"
    );
    let raw = app
        .upload_raw("?file_name=bomb.png", "image/png", bomb.clone())
        .await;
    assert_problem(raw, 422, "too_many_pixels").await;
    // Exactly the limit passes.
    assert_eq!(
        app.upload("ok.png", &png_claiming(1000, 1000))
            .await
            .status(),
        StatusCode::CREATED
    );

    let truncated = &jpeg(30, 30)[..20];
    assert_problem(
        app.upload("cut.jpg", truncated).await,
        422,
        "unreadable_image",
    )
    .await;

    // Through a direct upload the bytes are deleted.
    let plan = app.plan("bomb.png", bomb.len()).await;
    let id = plan["id"].as_str().unwrap();
    let parts = app.send_parts(&plan, &bomb, &[]).await;
    assert_problem(app.complete(id, &parts).await, 422, "too_many_pixels").await;
    assert!(app.object(id).await.is_none());
    let listed: Value = app.get_json("/images").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "only ok.png");
}

#[tokio::test]
async fn records_from_before_dimensions_are_still_served() {
    let app = spawn_app().await;
    let id = seed(&app, "old.png", "2026-01-01T00:00:00.000Z").await;
    let got = app.get(&format!("/images/{id}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    let got: Value = got.json().await.unwrap();
    assert!(
        got.get("width").is_none() && got.get("height").is_none(),
        "{got}"
    );
    assert!(STANDARD.decode(got["content"].as_str().unwrap()).is_ok());
}
