#![no_main]
//! Any body of `POST /uploads` or `POST /uploads/{id}/complete`, and any `Idempotency-Key`
//! value, is either read into what the domain promises or refused with a documented 4xx.

use image_api::domain::{IdempotencyKey, NewUpload, completed_parts};
use libfuzzer_sys::fuzz_target;

const MAX: u64 = 1 << 30;

fuzz_target!(|data: &[u8]| {
    match NewUpload::from_json(data, MAX) {
        Ok(upload) => assert!((1..=MAX).contains(&upload.size)),
        Err(error) => refused(error),
    }
    match completed_parts(data) {
        Ok(parts) => {
            assert!(parts.windows(2).all(|pair| pair[0].number < pair[1].number));
            assert!(parts.iter().all(|part| (1..=10_000).contains(&part.number)));
            assert!(parts.iter().all(|part| !part.etag.is_empty() && !part.etag.chars().any(char::is_control)));
        }
        Err(error) => refused(error),
    }
    match IdempotencyKey::parse(data) {
        Ok(key) => {
            let key = key.as_str();
            assert!((1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        Err(error) => refused(error),
    }
});

fn refused(error: image_api::domain::InputError) {
    let error = image_api::ApiError::from(error);
    assert!(error.status().is_client_error(), "{}", error.code());
}
