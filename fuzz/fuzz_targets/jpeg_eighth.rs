#![no_main]
//! The JPEG DC decoder reads every uploaded JPEG's headers and scan: whatever the bytes, it
//! decodes or refuses, never panics, and what it decodes has the frame's size at 1/8.

use imaging::budget::JpegFrame;
use imaging::jpeg::{Eighth, read_eighth};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Eighth::Image(image) = read_eighth(data, 1 << 24, true) {
        let frame = JpegFrame::read(data).expect("a frame the decoder read");
        assert_eq!(
            (image.width(), image.height()),
            (frame.width.div_ceil(8), frame.height.div_ceil(8))
        );
    }
});
