#![no_main]
//! Any upload body, JSON or raw, is either accepted or refused with a documented 4xx.

use image_api::domain::{ImageBytes, NewImage};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    for result in [
        NewImage::from_json(data, MAX),
        NewImage::from_raw(pieces_of(data), Some("f.png".into()), MAX),
    ] {
        match result {
            Ok(image) => assert!(!image.content.is_empty() && image.content.len() <= MAX),
            Err(error) => assert!(error.status().is_client_error(), "{}", error.code()),
        }
    }
});

/// The body as an HTTP server may hand it over: in pieces, here of 1 to 7 bytes.
fn pieces_of(data: &[u8]) -> ImageBytes {
    let step = data.first().map_or(1, |b| usize::from(b % 7) + 1);
    data.chunks(step).map(axum::body::Bytes::copy_from_slice).collect()
}
