//! Thumbnails in the format a client asks for (`format`) or names in `Accept`: WebP beside
//! JPEG and PNG, with the default variant's dimensions, upright, without metadata, with its
//! transparency, and cached apart per format.

use image::{DynamicImage, GenericImageView, ImageFormat, Rgba, RgbaImage};
use reqwest::StatusCode;

use crate::helpers::{TestApp, assert_problem, jpeg, spawn_app, with_orientation};

/// A GET of `query` with `accept` (if any): its headers and bytes, which must be a 200.
async fn fetch(
    app: &TestApp,
    id: &str,
    query: &str,
    accept: Option<&str>,
) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let path = format!("/images/{id}/thumbnail?{query}");
    let response = match accept {
        Some(accept) => app.get_with(&path, "accept", accept).await,
        None => app.get(&path).await,
    };
    assert_eq!(response.status(), StatusCode::OK, "{path} {accept:?}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers[name].to_str().unwrap()
}

/// The bytes are a WebP that carries nothing but its picture: RIFF, then lossy VP8 data (VP8X
/// only to hold an ALPH chunk, with no EXIF, XMP or ICC flags).
fn assert_bare_webp(bytes: &[u8]) {
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
    match &bytes[12..16] {
        b"VP8 " => {}
        b"VP8X" => {
            let flags = bytes[20];
            assert_eq!(
                flags & 0b0010_1100,
                0,
                "ICC, EXIF or XMP flagged: {flags:#010b}"
            );
            assert_ne!(flags & 0b0001_0000, 0, "VP8X without alpha");
        }
        other => panic!("not lossy WebP: {other:?}"),
    }
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.contains("EXIF") && !text.contains("XMP "),
        "metadata chunk"
    );
}

/// A transparent PNG: an opaque red disc on a clear field.
fn disc(side: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (x as i64 - side as i64 / 2, y as i64 - side as i64 / 2);
        if dx * dx + dy * dy < (side as i64 / 3).pow(2) {
            Rgba([220, 30, 30, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(image)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn webp_has_the_default_variants_size_upright_and_without_metadata() {
    let app = spawn_app().await;
    // 600×400 stored, shown turned a quarter (orientation 6): 400×600 displayed.
    let photo = app
        .created_id("turned.jpg", &with_orientation(&jpeg(600, 400), 6))
        .await;
    let (headers, default) = fetch(&app, &photo, "size=256", None).await;
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    let default = image::load_from_memory(&default).unwrap();
    assert_eq!(default.height(), 256, "upright: {:?}", default.dimensions());

    let (headers, webp) = fetch(&app, &photo, "size=256&format=webp", None).await;
    assert_eq!(header(&headers, "content-type"), "image/webp");
    assert_eq!(header(&headers, "vary"), "authorization");
    assert_bare_webp(&webp);
    let decoded = image::load_from_memory_with_format(&webp, ImageFormat::WebP).unwrap();
    assert_eq!(decoded.dimensions(), default.dimensions());
    // The same picture: every pixel close to the JPEG variant's.
    let (a, b) = (decoded.to_rgb8(), default.to_rgb8());
    let mean = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.as_raw().len() as f64;
    assert!(mean < 6.0, "mean difference from the JPEG variant: {mean}");

    // Transparency stays in WebP; JPEG puts it on white; PNG of an opaque photo is PNG.
    let clear = app.created_id("disc.png", &disc(300)).await;
    let (headers, webp) = fetch(&app, &clear, "size=128&format=webp", None).await;
    assert_eq!(header(&headers, "content-type"), "image/webp");
    assert_bare_webp(&webp);
    let decoded = image::load_from_memory(&webp).unwrap().to_rgba8();
    assert_eq!(decoded.dimensions(), (128, 128));
    assert_eq!(decoded.get_pixel(0, 0).0[3], 0, "the clear corner");
    assert_eq!(decoded.get_pixel(64, 64).0[3], 255, "the opaque disc");
    let (headers, flat) = fetch(&app, &clear, "size=128&format=jpeg", None).await;
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    let corner = image::load_from_memory(&flat).unwrap().to_rgb8();
    assert!(
        corner.get_pixel(0, 0).0.iter().all(|&c| c > 240),
        "on white"
    );
    let (headers, png) = fetch(&app, &photo, "size=64&format=png", None).await;
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png);
}

#[tokio::test]
async fn accept_picks_webp_only_when_it_names_it() {
    let app = spawn_app().await;
    let id = app.created_id("photo.jpg", &jpeg(320, 240)).await;
    for (accept, expected) in [
        ("image/webp", "image/webp"),
        ("image/avif,image/webp,image/apng,*/*;q=0.8", "image/webp"),
        ("IMAGE/WEBP;q=0.1", "image/webp"),
        ("*/*", "image/jpeg"),
        ("image/*", "image/jpeg"),
        ("image/webp;q=0, image/*", "image/jpeg"),
        ("image/webp;q=2", "image/jpeg"),
        ("text/html", "image/jpeg"),
    ] {
        let (headers, bytes) = fetch(&app, &id, "size=64", Some(accept)).await;
        assert_eq!(header(&headers, "content-type"), expected, "{accept}");
        assert_eq!(
            image::guess_format(&bytes).unwrap().to_mime_type(),
            expected,
            "{accept}: the bytes are what the type says"
        );
        assert_eq!(
            header(&headers, "vary"),
            "authorization, accept",
            "{accept}"
        );
    }
    // An explicit format is the answer whatever `Accept` says, and does not vary by it.
    let (headers, _) = fetch(&app, &id, "size=64&format=jpeg", Some("image/webp")).await;
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert_eq!(header(&headers, "vary"), "authorization");
    let (headers, _) = fetch(&app, &id, "size=64", None).await;
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
}

#[tokio::test]
async fn a_format_outside_the_list_is_a_400() {
    let app = spawn_app().await;
    let id = app.created_id("photo.jpg", &jpeg(64, 48)).await;
    for query in [
        "size=64&format=gif",
        "size=64&format=JPEG",
        "size=64&format=",
        "size=64&format",
        "size=64&format=webp&format=webp",
        "size=64&format=webp&format=png",
        "size=64&format=avif%00",
    ] {
        let response = app.get(&format!("/images/{id}/thumbnail?{query}")).await;
        assert_problem(response, 400, "invalid_query").await;
    }
}

#[tokio::test]
async fn each_format_is_kept_validated_and_deleted_apart() {
    let app = spawn_app().await;
    let id = app.created_id("photo.jpg", &jpeg(400, 300)).await;
    let mut etags = Vec::new();
    for (query, accept) in [
        ("size=128", None),
        ("size=128&format=webp", None),
        ("size=128&format=jpeg", None),
        ("size=128&format=png", None),
        ("size=128", Some("image/webp")),
    ] {
        let (headers, first) = fetch(&app, &id, query, accept).await;
        // The second answer comes from S3 and is the same bytes.
        let (again, second) = fetch(&app, &id, query, accept).await;
        assert_eq!(first, second, "{query} {accept:?}");
        assert_eq!(headers["etag"], again["etag"]);
        etags.push((query, accept, header(&headers, "etag").to_owned()));
    }
    // One ETag per format; the negotiated WebP is the WebP.
    assert_eq!(etags[4].2, etags[1].2);
    let mut distinct: Vec<&str> = etags[..4]
        .iter()
        .map(|(_, _, etag)| etag.as_str())
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{etags:?}");
    // Each ETag revalidates its own format and no other.
    for (query, accept, etag) in &etags {
        let path = format!("/images/{id}/thumbnail?{query}");
        let revalidate = |etag: &str| {
            let mut request = app.http.get(app.url(&path)).header("if-none-match", etag);
            if let Some(accept) = accept {
                request = request.header("accept", *accept);
            }
            async { request.send().await.unwrap().status() }
        };
        let other = if etag == &etags[0].2 {
            &etags[1].2
        } else {
            &etags[0].2
        };
        assert_eq!(
            revalidate(etag).await,
            StatusCode::NOT_MODIFIED,
            "{query} {accept:?}"
        );
        assert_eq!(
            revalidate(other).await,
            StatusCode::OK,
            "{query} {accept:?}"
        );
    }
    let mut kept = app.keys_under(&format!("thumbnails/{id}/")).await;
    kept.sort();
    assert_eq!(
        kept,
        ["128", "128.jpeg", "128.png", "128.webp"].map(|name| format!("thumbnails/{id}/{name}"))
    );
    assert_eq!(app.delete(&id).await.status(), StatusCode::NO_CONTENT);
    assert!(
        app.keys_under(&format!("thumbnails/{id}/"))
            .await
            .is_empty()
    );
}
