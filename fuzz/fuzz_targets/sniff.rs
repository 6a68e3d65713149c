#![no_main]
//! The sniffer sees every uploaded byte first: it must never panic or read out of bounds.

use imaging::media::MediaType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(media) = MediaType::sniff(data) {
        assert!(media.as_str().starts_with("image/"));
    }
});
