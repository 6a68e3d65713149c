//! Every input a fuzz target found a fault with (tests/regressions/, named for the fault),
//! through every path that reads untrusted bytes, at every thumbnail size: an answer or a
//! refusal, never a panic.

use imaging::budget::Budget;
use imaging::media::MediaType;
use imaging::{dimensions, thumbnail};

const BUDGET: Budget = Budget {
    memory: 64 << 20,
    pixels: 1 << 24,
};

#[test]
fn every_input_that_once_failed_is_answered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let media = MediaType::sniff(&bytes).unwrap_or(MediaType::Jpeg);
        let _ = dimensions::read(&bytes, media);
        let _ = dimensions::orientation(&bytes);
        for size in thumbnail::SIZES {
            let _ = thumbnail::make(&bytes, media, size, None, &BUDGET);
        }
        let _ = imaging::jpeg::read_eighth(&bytes, 1 << 24, true);
        let _ =
            thumbnail::png_rows::decode_shrunk(&bytes, |w, h| thumbnail::fit(w, h, 64), &BUDGET);
        seen += 1;
    }
    assert!(seen > 0, "no inputs in {dir}");
}

#[test]
fn a_decoder_that_panics_costs_the_file_its_thumbnail_only() {
    // Kept out of tests/regressions/, which seeds the fuzz corpora: the fuzz targets stop at
    // any panic, caught or not, and this one is a dependency's.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dependency-panics");
    let bytes =
        std::fs::read(format!("{dir}/zune-jpeg-idct-unwrap-chroma-above-luma.jpg")).unwrap();
    for size in thumbnail::SIZES {
        let made = thumbnail::make(&bytes, MediaType::Jpeg, size, None, &BUDGET);
        assert!(
            matches!(made, Err(thumbnail::ThumbnailError::Undecodable)),
            "{size}: {made:?}"
        );
    }
}

#[test]
fn fitting_keeps_a_side_of_zero() {
    assert_eq!(thumbnail::fit(16384, 0, 64), (64, 0));
    assert_eq!(thumbnail::fit(0, 5000, 256), (0, 256));
    assert_eq!(thumbnail::fit(4000, 3000, 256), (256, 192));
    assert_eq!(thumbnail::fit(3000, 1, 64), (64, 1));
}
