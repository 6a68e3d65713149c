use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::helpers::{TEST_MAX_UPLOAD, assert_problem, png, spawn_app};

#[tokio::test]
async fn json_upload_stores_object_and_record() {
    let app = spawn_app().await;
    let bytes = png(100);
    let response = app
        .post_json(&json!({"file_name": "cat 🐈.png", "content": STANDARD.encode(&bytes), "metadata": {"camera": "x100"}}))
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();

    assert_eq!(location, format!("/images/{id}"));
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(body["file_name"], "cat 🐈.png");
    assert_eq!(body["content_type"], "image/png");
    assert_eq!(body["size"], bytes.len());
    assert_eq!(body["metadata"], json!({"camera": "x100"}));
    let created_at = body["created_at"].as_str().unwrap();
    assert_eq!(created_at.len(), 24, "{created_at}");
    assert!(
        created_at.ends_with('Z') && created_at.as_bytes()[19] == b'.',
        "{created_at}"
    );

    let (stored, content_type) = app.object(id).await.expect("object stored");
    assert_eq!(stored, bytes);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    let record = app.record(id).await.expect("record stored");
    assert_eq!(record["file_name"].as_s().unwrap(), "cat 🐈.png");
    assert_eq!(record["created_at"].as_s().unwrap(), created_at);
    assert_eq!(record["content_type"].as_s().unwrap(), "image/png");
    assert_eq!(record["size"].as_n().unwrap(), &bytes.len().to_string());
    assert_eq!(
        record["metadata"].as_m().unwrap()["camera"].as_s().unwrap(),
        "x100"
    );
}

#[tokio::test]
async fn metadata_defaults_to_an_empty_object() {
    let app = spawn_app().await;
    let body = app.create("a.png", &png(1)).await;
    assert_eq!(body["metadata"], json!({}));
    let fetched: serde_json::Value = app
        .get_json(&format!("/images/{}", body["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched["metadata"], json!({}));
    let record = app.record(body["id"].as_str().unwrap()).await.unwrap();
    assert!(record["metadata"].as_m().unwrap().is_empty());
}

#[tokio::test]
async fn raw_upload_takes_the_name_from_the_query() {
    let app = spawn_app().await;
    // SOI, a JFIF APP0, and a baseline frame header of 3 x 2 pixels: enough to know its size.
    let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xc0\0\x11\x08\0\x02\0\x03\x03\x01\x22\0\x02\x11\x01\x03\x11\x01rest".to_vec();
    // The declared type is wrong on purpose: the bytes decide.
    let response = app
        .upload_raw(
            "?file_name=r%C3%A9sum%C3%A9.jpg",
            "application/octet-stream",
            jpeg.clone(),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["file_name"], "résumé.jpg");
    assert_eq!(body["content_type"], "image/jpeg");
    assert_eq!(
        app.object(body["id"].as_str().unwrap()).await.unwrap().0,
        jpeg
    );

    let missing = app.upload_raw("", "image/png", png(10)).await;
    assert_problem(missing, 400, "missing_field").await;
}

#[tokio::test]
async fn each_malformed_upload_gets_its_own_code_and_stores_nothing() {
    let app = spawn_app().await;
    let good = STANDARD.encode(png(10));
    let svg = STANDARD
        .encode(br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#);
    let cases = [
        (
            app.http
                .post(app.url("/images"))
                .header("content-type", "application/json")
                .body("{\"file_name\": ")
                .send()
                .await
                .unwrap(),
            400,
            "invalid_json",
        ),
        (
            app.post_json(&json!(["not", "an", "object"])).await,
            400,
            "invalid_json",
        ),
        (
            app.post_json(&json!({"content": good})).await,
            400,
            "missing_field",
        ),
        (
            app.post_json(&json!({"file_name": "a.png"})).await,
            400,
            "missing_field",
        ),
        (
            app.post_json(&json!({"file_name": 12, "content": good}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "", "content": good}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "x".repeat(256), "content": good}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "a\nb.png", "content": good}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "a.png", "content": 5}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "a.png", "content": good, "metadata": "x"}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "a.png", "content": good, "metadata": {"k": 1}}))
                .await,
            400,
            "invalid_field",
        ),
        (
            app.post_json(&json!({"file_name": "a.png", "content": "%%%not-base64"}))
                .await,
            400,
            "invalid_base64",
        ),
        (
            app.post_json(
                &json!({"file_name": "a.png", "content": format!("data:image/png;base64,{good}")}),
            )
            .await,
            400,
            "invalid_base64",
        ),
        (
            app.post_json(&json!({"file_name": "a.png", "content": ""}))
                .await,
            400,
            "empty_content",
        ),
        (
            app.upload_raw("?file_name=a.png", "image/png", Vec::new())
                .await,
            400,
            "empty_content",
        ),
        (
            app.post_json(&json!({"file_name": "a.svg", "content": svg}))
                .await,
            415,
            "unsupported_media_type",
        ),
        (
            app.upload("a.txt", b"just some text").await,
            415,
            "unsupported_media_type",
        ),
    ];
    for (response, status, code) in cases {
        assert_problem(response, status, code).await;
    }
    let listed = app
        .s3
        .list_objects_v2()
        .bucket(&app.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.key_count(),
        Some(0),
        "a refused upload left an object"
    );
    let records = app.get_json("/images").await;
    assert_eq!(records["items"], json!([]));
}

#[tokio::test]
async fn an_image_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not() {
    let app = spawn_app().await;
    let exact = png(TEST_MAX_UPLOAD - png(0).len());
    assert_eq!(exact.len(), TEST_MAX_UPLOAD);
    let body = app.create("exact.png", &exact).await;
    assert_eq!(
        app.object(body["id"].as_str().unwrap()).await.unwrap().0,
        exact
    );
    let raw = app
        .upload_raw("?file_name=exact.png", "image/png", exact.clone())
        .await;
    assert_eq!(raw.status(), 201);

    let over = png(TEST_MAX_UPLOAD + 1 - png(0).len());
    assert_problem(
        app.upload("over.png", &over).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_problem(
        app.upload_raw("?file_name=over.png", "image/png", over)
            .await,
        413,
        "payload_too_large",
    )
    .await;
    // A body far beyond the limit is refused from its Content-Length, before it is read.
    let huge = app
        .upload_raw("?file_name=huge.png", "image/png", png(8 * TEST_MAX_UPLOAD))
        .await;
    assert_problem(huge, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_streamed_body_without_length_is_cut_off_at_the_limit() {
    let app = spawn_app().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(png(TEST_MAX_UPLOAD / 8))).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let response = app
        .http
        .post(app.url("/images?file_name=stream.png"))
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_body_sent_in_pieces_is_stored_whole_with_its_crc32() {
    let app = spawn_app().await;
    let image = png(TEST_MAX_UPLOAD - 100);
    // The first piece is shorter than the PNG signature, so sniffing spans pieces.
    let mut pieces: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(image[..3].to_vec())];
    pieces.extend(image[3..].chunks(5000).map(|c| Ok(c.to_vec())));
    let response = app
        .http
        .post(app.url("/images?file_name=pieces.png"))
        .header("content-type", "image/png")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            pieces,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.object(&id).await.unwrap().0, image);
    let served = app.get(&format!("/images/{id}/content")).await;
    assert_eq!(served.bytes().await.unwrap(), image);

    // S3 verifies the checksum the SDK sends with the object (moto only stores it): it must be
    // the CRC32 of all the pieces, in order.
    let head = app
        .s3
        .head_object()
        .bucket(&app.bucket)
        .key(format!("images/{id}"))
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    let mut crc = aws_smithy_checksums::ChecksumAlgorithm::Crc32.into_impl();
    crc.update(&image);
    assert_eq!(
        head.checksum_crc32(),
        Some(crc.header_value().to_str().unwrap())
    );
}

#[tokio::test]
async fn parallel_uploads_get_unique_ids_and_all_are_retrievable() {
    let app = spawn_app().await;
    let uploads = (0..40).map(|i| {
        let app = &app;
        async move {
            let bytes = png(200 + i);
            let body = app.create(&format!("p{i}.png"), &bytes).await;
            (body["id"].as_str().unwrap().to_owned(), bytes)
        }
    });
    let created = futures_util::future::join_all(uploads).await;
    let ids: HashSet<_> = created.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 40);
    for (id, bytes) in &created {
        let response = app.get(&format!("/images/{id}/content")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(&response.bytes().await.unwrap()[..], &bytes[..]);
    }
}
