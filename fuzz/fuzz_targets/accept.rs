#![no_main]
//! Any `Accept` header, split into values at its newlines (a request may carry several): the
//! answer never panics, and a type counts as named only if the header names it outright.

use image_api::accept;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let values: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    for media in ["image/webp", "image/avif"] {
        if accept::names(&values, media) {
            let lower = data.to_ascii_lowercase();
            assert!(lower.windows(media.len()).any(|w| w == media.as_bytes()), "{media}");
        }
    }
});
