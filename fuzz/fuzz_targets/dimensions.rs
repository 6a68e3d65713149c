#![no_main]
//! Dimensions and EXIF orientation, read from every upload's header: a size or a refusal,
//! an orientation from 1 to 8, never a panic.

use imaging::dimensions;
use imaging::media::MediaType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let orientation = dimensions::orientation(data);
    assert!((1..=8).contains(&orientation));
    if let Some(media) = MediaType::sniff(data)
        && let Ok(found) = dimensions::read(data, media)
    {
        assert!(found.width > 0 && found.height > 0);
    }
});
