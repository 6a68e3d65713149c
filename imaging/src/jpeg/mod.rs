//! A JPEG at 1/8 scale from its DC coefficients alone (`read_eighth`). At that scale each 8×8 block becomes
//! one pixel, the block's mean, which is its DC coefficient: the 63 AC coefficients only have
//! to be stepped over in the entropy-coded data, not decoded into values, dequantized or
//! transformed. Every decoder does the Huffman walk; this one does nothing else, which is what
//! makes it faster than a general decoder at 1/8 (docs/design-decisions.md, "Thumbnails").
//!
//! It reads baseline Huffman JPEGs with one component (gray) or three (YCbCr), in one scan,
//! with or without restart markers: nearly every photo. Anything else is `Eighth::NotRead`,
//! for another decoder; a damaged scan is `Eighth::Broken`, for none. Its output is
//! the general decoder's 1/8 output (same rounding, same YCbCr conversion), except that chroma
//! is repeated rather than interpolated where it is subsampled.

mod assemble;
mod bits;
mod headers;
mod huffman;
mod scan;
pub(crate) mod segments;
#[cfg(test)]
mod tests;

use image::DynamicImage;

use assemble::assemble;
use headers::read_headers;
use scan::decode_scan;

/// What this decoder makes of a file.
pub enum Eighth {
    /// The file, at 1/8.
    Image(DynamicImage),
    /// Its scan read to the last block, the image not asked for.
    Whole,
    /// Not a kind this decoder reads (or its headers are not readable): another decoder's.
    NotRead,
    /// A kind it reads, whose scan is damaged or ends before its last block: no decoder
    /// should walk the rest of it.
    Broken,
}

/// The file at 1/8 if it is a kind this decoder reads (or, without `image`, only whether its
/// scan holds every block), with the reason if not. Its work is proportional to the scan's
/// bytes: it stops where the data stops.
pub fn read_eighth(bytes: &[u8], max_pixels: u64, image: bool) -> Eighth {
    let Some(mut frame) = read_headers(bytes) else {
        return Eighth::NotRead;
    };
    if (frame.width as u64) * (frame.height as u64) > max_pixels {
        return Eighth::NotRead;
    }
    if decode_scan(bytes, &mut frame).is_none() {
        return Eighth::Broken;
    }
    if !image {
        return Eighth::Whole;
    }
    assemble(&frame).map_or(Eighth::Broken, Eighth::Image)
}
