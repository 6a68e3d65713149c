#![no_main]
//! PNGs shrunk row by row: decoded within the budget or refused, never a panic; what is
//! decoded has the size it was asked for.

use imaging::budget::Budget;
use imaging::thumbnail::{fit, png_rows::decode_shrunk};
use libfuzzer_sys::fuzz_target;

const BUDGET: Budget = Budget {
    memory: 64 << 20,
    pixels: 1 << 24,
};

fuzz_target!(|data: &[u8]| {
    let mut asked = None;
    let target = |width, height| {
        let fitted = fit(width, height, 64);
        asked = Some(fitted);
        fitted
    };
    if let Ok(Some(image)) = decode_shrunk(data, target, &BUDGET) {
        assert_eq!(Some((image.width(), image.height())), asked);
    }
});
