#![no_main]
//! `thumbnail::make`, as `GET /images/{id}/thumbnail` runs it, over every accepted format: the
//! input is the file, which only reaches `make` if it sniffs as an image (as at upload); its
//! length picks the size and the format asked for, so the seeds stay whole files. A thumbnail
//! of the format asked for, or a documented refusal; never a panic.

use imaging::budget::Budget;
use imaging::media::MediaType;
use imaging::thumbnail::{self, Format, SIZES, ThumbnailError};
use libfuzzer_sys::fuzz_target;

const BUDGET: Budget = Budget {
    memory: 64 << 20,
    pixels: 1 << 24,
};

fuzz_target!(|data: &[u8]| {
    let Some(media) = MediaType::sniff(data) else {
        return;
    };
    let size = SIZES[data.len() % SIZES.len()];
    let format = [None, Some(Format::Webp), Some(Format::Jpeg), Some(Format::Png)]
        [data.len() / SIZES.len() % 4];
    match thumbnail::make(data, media, size, format, &BUDGET) {
        Ok(made) => {
            match format {
                Some(format) => assert_eq!(made.media, format.media()),
                None => assert!(matches!(made.media, MediaType::Jpeg | MediaType::Png)),
            }
            assert!(!made.bytes.is_empty());
        }
        Err(ThumbnailError::Unsupported(_) | ThumbnailError::Undecodable) => {}
        Err(ThumbnailError::OverBudget(_)) => {}
    }
});
