//! Everything image-api does with bytes a stranger sent: what type they are (`media`), the
//! size they show at (`dimensions`), JPEG at 1/8 (`jpeg`), what decoding them would cost (`budget`) and their
//! thumbnails (`thumbnail`). No I/O and no AWS here; each reader has a fuzz target (fuzz/).

pub mod budget;
pub mod dimensions;
pub mod jpeg;
pub mod media;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod thumbnail;
