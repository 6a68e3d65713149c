//! Thumbnails of real images: upright, fitted, without metadata, in the right format, kept in
//! S3 and removed with their image.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, spawn_app, with_orientation};

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 20];
const BLUE: [u8; 3] = [20, 20, 230];
const WHITE: [u8; 3] = [245, 245, 245];

/// Four solid quadrants, as stored: red top left, green top right, blue bottom left, white
/// bottom right.
fn quadrants(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb(match (x < width / 2, y < height / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    })
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

async fn thumbnail(
    app: &TestApp,
    id: &str,
    size: u32,
) -> (reqwest::header::HeaderMap, DynamicImage, Vec<u8>) {
    let response = app
        .get(&format!("/images/{id}/thumbnail?size={size}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{id} {size}");
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap().to_vec();
    (headers, image::load_from_memory(&bytes).unwrap(), bytes)
}

fn near(pixel: [u8; 3], expected: [u8; 3]) -> bool {
    pixel.iter().zip(expected).all(|(a, b)| a.abs_diff(b) < 40)
}

#[tokio::test]
async fn every_orientation_comes_out_upright() {
    let app = spawn_app().await;
    // 400×240 is decoded at 1/2 for 128 px (jpeg-decoder); 1200×720 at 1/8 from its DC
    // coefficients (`imaging::jpeg`).
    for (width, height) in [(400, 240), (1200, 720)] {
        let stored = encode(
            DynamicImage::ImageRgb8(quadrants(width, height)),
            ImageFormat::Jpeg,
        );
        assert_upright(&app, &stored).await;
    }
}

async fn assert_upright(app: &TestApp, stored: &[u8]) {
    // Which stored quadrant shows at the displayed top left and top right, per orientation.
    let expected = [
        (1, RED, GREEN),
        (2, GREEN, RED),
        (3, WHITE, BLUE),
        (4, BLUE, WHITE),
        (5, RED, BLUE),
        (6, BLUE, RED),
        (7, WHITE, GREEN),
        (8, GREEN, WHITE),
    ];
    for (orientation, top_left, top_right) in expected {
        let id = app
            .created_id("o.jpg", &with_orientation(stored, orientation))
            .await;
        let (headers, thumb, _) = thumbnail(app, &id, 128).await;
        assert_eq!(headers["content-type"], "image/jpeg");
        let (w, h) = (thumb.width(), thumb.height());
        if orientation >= 5 {
            assert_eq!((w, h), (77, 128), "orientation {orientation}");
        } else {
            assert_eq!((w, h), (128, 77), "orientation {orientation}");
        }
        let rgb = thumb.to_rgb8();
        let at = |x: u32, y: u32| rgb.get_pixel(x, y).0;
        assert!(
            near(at(4, 4), top_left),
            "orientation {orientation}: top left {:?}",
            at(4, 4)
        );
        assert!(
            near(at(w - 5, 4), top_right),
            "orientation {orientation}: top right {:?}",
            at(w - 5, 4)
        );
    }
}

#[tokio::test]
async fn thumbnails_are_fitted_stripped_kept_and_cached() {
    let app = spawn_app().await;
    let gradient = RgbImage::from_fn(1000, 600, |x, y| Rgb([(x / 4) as u8, (y / 3) as u8, 128]));
    let jpeg = with_orientation(
        &encode(DynamicImage::ImageRgb8(gradient.clone()), ImageFormat::Jpeg),
        1,
    );
    let id = app.created_id("g.jpg", &jpeg).await;
    let (headers, thumb, bytes) = thumbnail(&app, &id, 256).await;
    assert_eq!((thumb.width(), thumb.height()), (256, 154));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // No metadata: no EXIF segment in the thumbnail.
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"));
    // Close to a plain resize of the same picture.
    let reference = DynamicImage::ImageRgb8(gradient)
        .resize(256, 154, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let diff: u64 = thumb
        .to_rgb8()
        .pixels()
        .zip(reference.pixels())
        .map(|(a, b)| {
            a.0.iter()
                .zip(b.0)
                .map(|(x, y)| u64::from(x.abs_diff(y)))
                .sum::<u64>()
        })
        .sum();
    let mean = diff as f64 / (256.0 * 154.0 * 3.0);
    assert!(mean < 6.0, "mean difference {mean}");

    // Kept in S3; the next answer is the kept one, and revalidation is a 304.
    let kept = app
        .s3
        .get_object()
        .bucket(&app.bucket)
        .key(format!("thumbnails/{id}/256"))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.content_type(), Some("image/jpeg"));
    let (again_headers, _, again) = thumbnail(&app, &id, 256).await;
    assert_eq!(again, bytes);
    let etag = again_headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, headers["etag"].to_str().unwrap());
    let revalidated = app
        .get_with(
            &format!("/images/{id}/thumbnail?size=256"),
            "if-none-match",
            &etag,
        )
        .await;
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    // Never larger than the image.
    let small = app
        .created_id(
            "s.png",
            &encode(DynamicImage::ImageRgb8(quadrants(40, 30)), ImageFormat::Png),
        )
        .await;
    let (_, thumb, _) = thumbnail(&app, &small, 1024).await;
    assert_eq!((thumb.width(), thumb.height()), (40, 30));

    // Deleting the image deletes its thumbnails, of sizes no longer offered too.
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(format!("thumbnails/{id}/999"))
        .body(b"old".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(app.delete(&id).await.status(), StatusCode::NO_CONTENT);
    let listed = app
        .s3
        .list_objects_v2()
        .bucket(&app.bucket)
        .prefix(format!("thumbnails/{id}/"))
        .send()
        .await
        .unwrap();
    assert!(listed.contents().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn transparency_stays_png_and_animations_give_their_first_frame() {
    let app = spawn_app().await;
    let alpha = RgbaImage::from_fn(300, 300, |x, _| {
        Rgba([200, 10, 10, if x < 150 { 0 } else { 255 }])
    });
    let id = app
        .created_id(
            "a.png",
            &encode(DynamicImage::ImageRgba8(alpha), ImageFormat::Png),
        )
        .await;
    let (headers, thumb, _) = thumbnail(&app, &id, 64).await;
    assert_eq!(headers["content-type"], "image/png");
    let rgba = thumb.to_rgba8();
    assert_eq!(rgba.get_pixel(2, 32).0[3], 0);
    assert_eq!(rgba.get_pixel(61, 32).0[3], 255);

    // An opaque PNG becomes a JPEG.
    let opaque = app
        .created_id(
            "o.png",
            &encode(
                DynamicImage::ImageRgb8(quadrants(200, 200)),
                ImageFormat::Png,
            ),
        )
        .await;
    let (headers, _, _) = thumbnail(&app, &opaque, 64).await;
    assert_eq!(headers["content-type"], "image/jpeg");

    // Two frames, red then blue: the thumbnail is red.
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        for color in [RED, BLUE] {
            let frame = RgbaImage::from_pixel(80, 80, Rgba([color[0], color[1], color[2], 255]));
            encoder.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    let id = app.created_id("anim.gif", &gif).await;
    let (_, thumb, _) = thumbnail(&app, &id, 64).await;
    assert!(near(thumb.to_rgb8().get_pixel(32, 32).0, RED));

    for format in [
        ImageFormat::WebP,
        ImageFormat::Bmp,
        ImageFormat::Tiff,
        ImageFormat::Gif,
    ] {
        let id = app
            .created_id(
                "f",
                &encode(
                    DynamicImage::ImageRgba8(RgbaImage::from_pixel(
                        90,
                        60,
                        Rgba([20, 200, 20, 255]),
                    )),
                    format,
                ),
            )
            .await;
        let (_, thumb, _) = thumbnail(&app, &id, 64).await;
        assert_eq!((thumb.width(), thumb.height()), (64, 43), "{format:?}");
    }
}

#[tokio::test]
async fn what_cannot_be_made_is_a_problem_never_a_broken_image() {
    let app = spawn_app().await;
    let png = encode(DynamicImage::ImageRgb8(quadrants(50, 50)), ImageFormat::Png);
    let id = app.created_id("p.png", &png).await;
    for query in ["size=100", "size=", "", "size=64&x=1", "size=-64"] {
        let response = app.get(&format!("/images/{id}/thumbnail?{query}")).await;
        assert_problem(response, 400, "invalid_query").await;
    }
    let unknown = uuid::Uuid::new_v4();
    // The query is judged before the record is looked up.
    assert_problem(
        app.get(&format!("/images/{unknown}/thumbnail?size=7"))
            .await,
        400,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get(&format!("/images/{unknown}/thumbnail?size=64"))
            .await,
        404,
        "not_found",
    )
    .await;

    // A PNG whose header is fine and whose pixels are garbage.
    let mut broken = png[..33].to_vec();
    broken.extend_from_slice(&[0x55; 200]);
    let id = app.created_id("b.png", &broken).await;
    assert_problem(
        app.get(&format!("/images/{id}/thumbnail?size=64")).await,
        422,
        "unreadable_image",
    )
    .await;

    // HEIC: a header the service reads, and no decoder in the function.
    let heic = imaging::samples::heif_header(b"heic", (640, 480), None);
    let record: Value = app.create("p.heic", &heic).await;
    assert_eq!(
        (record["width"].as_u64(), record["height"].as_u64()),
        (Some(640), Some(480))
    );
    let id = record["id"].as_str().unwrap();
    let body = assert_problem(
        app.get(&format!("/images/{id}/thumbnail?size=64")).await,
        422,
        "thumbnail_unsupported",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("image/heic"),
        "{body}"
    );
}

/// `jpeg` with a DHT segment put right after SOI: DC table 0 as three 1-bit codes, which no
/// prefix code has. The image's own tables follow and redefine it, so only a decoder that
/// fills tables as it reads them trips over it.
fn with_impossible_table(jpeg: &[u8]) -> Vec<u8> {
    let mut counts = [0u8; 16];
    counts[0] = 3;
    let mut segment = vec![0xff, 0xc4, 0, 2 + 1 + 16 + 3, 0x00];
    segment.extend_from_slice(&counts);
    segment.extend_from_slice(&[0, 1, 2]);
    [&jpeg[..2], &segment, &jpeg[2..]].concat()
}

/// A GIF that declares `side`×`side` pixels in 40 bytes: its frame data is a clear code and
/// the end.
fn many_pixels_gif(side: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&side.to_le_bytes());
    out.extend_from_slice(&side.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2c, 0, 0, 0, 0]);
    out.extend_from_slice(&side.to_le_bytes());
    out.extend_from_slice(&side.to_le_bytes());
    out.extend_from_slice(&[0, 2, 2, 0x4c, 0x01, 0, 0x3b]);
    out
}

#[tokio::test]
async fn hostile_files_get_a_problem_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let jpeg = crate::helpers::jpeg(64, 48);
    // A table no decoder may fill: the thumbnail is made anyway from the file's real tables,
    // or refused as unreadable; never a 500.
    let id = app
        .created_id("table.jpg", &with_impossible_table(&jpeg))
        .await;
    let response = app.get(&format!("/images/{id}/thumbnail?size=64")).await;
    match response.status() {
        StatusCode::OK => {}
        _ => {
            assert_problem(response, 422, "unreadable_image").await;
        }
    }
    // 9990 x 9990 in 40 bytes: refused from its header, before a buffer exists.
    let id = app.created_id("many.gif", &many_pixels_gif(9990)).await;
    let response = app.get(&format!("/images/{id}/thumbnail?size=64")).await;
    assert_problem(response, 422, "decode_budget_exceeded").await;
    // And the next request is served.
    let id = app.created_id("fine.jpg", &jpeg).await;
    let response = app.get(&format!("/images/{id}/thumbnail?size=64")).await;
    assert_eq!(response.status(), StatusCode::OK);
}
