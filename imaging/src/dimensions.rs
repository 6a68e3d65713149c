//! An image's size as displayed, read from its header without decoding a pixel: the stored
//! size from the format's own header (`imagesize`), turned by the EXIF orientation when it
//! says the picture is stored on its side (`kamadak-exif`, which finds EXIF in JPEG, TIFF,
//! PNG, WebP and HEIF/AVIF containers).

use std::io::Cursor;

use serde::Serialize;

use crate::media::MediaType;

/// Width and height in pixels, as the image is meant to be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Why no size could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header is cut short or malformed.
    #[error("the image header could not be read")]
    Unreadable,
    /// A size of zero, or beyond what any format stores (2^32 - 1 per side).
    #[error("the image header declares an impossible size")]
    Impossible,
}

/// The displayed size of the image whose first bytes (or all of them) are `head`. HEIF and
/// AVIF turn by their `irot` property, which `imagesize` applies; their EXIF orientation is
/// informative only (ISO/IEC 23008-12) and is not applied again.
pub fn read(head: &[u8], media: MediaType) -> Result<Dimensions, HeaderError> {
    let stored = imagesize::blob_size(head).map_err(|_| HeaderError::Unreadable)?;
    let (width, height) = (
        u32::try_from(stored.width).map_err(|_| HeaderError::Impossible)?,
        u32::try_from(stored.height).map_err(|_| HeaderError::Impossible)?,
    );
    if width == 0 || height == 0 {
        return Err(HeaderError::Impossible);
    }
    let exif_applies = !matches!(media, MediaType::Avif | MediaType::Heic | MediaType::Heif);
    Ok(if exif_applies && quarter_turned(orientation(head)) {
        Dimensions {
            width: height,
            height: width,
        }
    } else {
        Dimensions { width, height }
    })
}

/// The EXIF orientation (1 to 8), 1 when there is none or it cannot be read: a picture
/// without a readable orientation is shown as stored.
pub fn orientation(head: &[u8]) -> u32 {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(head))
        .ok()
        .and_then(|exif| {
            exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
                .and_then(|field| field.value.get_uint(0))
        })
        .filter(|value| (1..=8).contains(value))
        .unwrap_or(1)
}

/// Orientations 5 to 8 store the picture turned by a quarter (transposed, rotated 90°,
/// transversed, rotated 270°): displayed, width and height swap.
fn quarter_turned(orientation: u32) -> bool {
    (5..=8).contains(&orientation)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{ImageFormat, RgbaImage};

    use super::*;

    /// A real image of `width` x `height` in `format`, encoded by the `image` crate.
    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let pixels = RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([x as u8, y as u8, 9, 255])
        });
        let mut out = Cursor::new(Vec::new());
        match format {
            ImageFormat::Jpeg | ImageFormat::Bmp => image::DynamicImage::ImageRgba8(pixels)
                .to_rgb8()
                .write_to(&mut out, format)
                .unwrap(),
            _ => pixels.write_to(&mut out, format).unwrap(),
        }
        out.into_inner()
    }

    /// A JPEG with a big-endian EXIF segment whose only tag is `orientation`.
    fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        crate::samples::with_orientation(jpeg, orientation, crate::samples::ByteOrder::Big)
    }

    fn dims(bytes: &[u8]) -> Result<(u32, u32), HeaderError> {
        let media = MediaType::sniff(bytes).expect("a supported type");
        read(bytes, media).map(|d| (d.width, d.height))
    }

    #[test]
    fn reads_every_encodable_format() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
            ImageFormat::Bmp,
            ImageFormat::Tiff,
        ] {
            let bytes = encoded(37, 21, format);
            assert_eq!(dims(&bytes), Ok((37, 21)), "{format:?}");
        }
    }

    #[test]
    fn reads_heif_and_avif_sizes_and_their_rotation() {
        for (brand, media) in [(b"heic", MediaType::Heic), (b"avif", MediaType::Avif)] {
            for (irot, expected) in [(None, (4032, 3024)), (Some(1u8), (3024, 4032))] {
                let file = crate::samples::heif_header(brand, (4032, 3024), irot);
                assert_eq!(MediaType::sniff(&file), Some(media));
                let found = read(&file, media).map(|d| (d.width, d.height));
                assert_eq!(found, Ok(expected), "{media:?} irot {irot:?}");
            }
        }
    }

    #[test]
    fn the_exif_orientation_turns_the_displayed_size() {
        let jpeg = encoded(40, 30, ImageFormat::Jpeg);
        for orientation in 1..=8u16 {
            let tagged = with_orientation(&jpeg, orientation);
            assert_eq!(super::orientation(&tagged), u32::from(orientation));
            let expected = if orientation >= 5 { (30, 40) } else { (40, 30) };
            assert_eq!(dims(&tagged), Ok(expected), "orientation {orientation}");
        }
        // Out-of-range values are shown as stored.
        assert_eq!(dims(&with_orientation(&jpeg, 9)), Ok((40, 30)));
    }

    #[test]
    fn truncated_and_lying_headers_are_refused() {
        let png = encoded(10, 10, ImageFormat::Png);
        assert_eq!(dims(&png[..12]), Err(HeaderError::Unreadable));
        let jpeg = encoded(10, 10, ImageFormat::Jpeg);
        assert_eq!(dims(&jpeg[..20]), Err(HeaderError::Unreadable));
        // A PNG whose header says 0 x 10.
        let mut zero = png.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(dims(&zero), Err(HeaderError::Impossible));
        // A header that claims a bomb is read as it claims: the caller refuses it.
        let mut bomb = png;
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(dims(&bomb), Ok((100_000, 100_000)));
    }
}
