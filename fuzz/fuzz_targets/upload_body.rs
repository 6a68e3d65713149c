#![no_main]
//! Any upload body, JSON or raw, is either accepted or refused with a documented 4xx.

use image_api::domain::NewImage;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    for result in [
        NewImage::from_json(data, MAX, u64::MAX),
        NewImage::from_raw(bytes_of(data), Some("f.png".into()), MAX, u64::MAX),
    ] {
        match result {
            Ok(image) => assert!(!image.content.is_empty() && image.content.len() <= MAX),
            Err(error) => {
                let error = image_api::ApiError::from(error);
                assert!(error.status().is_client_error(), "{}", error.code())
            }
        }
    }
});

fn bytes_of(data: &[u8]) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(data)
}
