//! Lossy WebP thumbnails through libwebp, the reference encoder (the `image` crate writes only
//! lossless WebP, which is larger than the JPEG it would replace).

use libwebp_sys::{WebPEncodeRGB, WebPEncodeRGBA, WebPFree};

/// Within a dB of the JPEG variant's PSNR (JPEG at 82 keeps full-resolution colour, which WebP
/// never does), and still a fifth smaller; libwebp's and sharp's default of 80 is 1.75 dB
/// below it (docs/design-decisions.md).
const QUALITY: f32 = 90.0;

/// `pixels` (rows of `width` pixels of `channels` bytes: 3 for RGB, 4 for RGBA, whose alpha is
/// kept) as a lossy WebP with no metadata; `None` if libwebp refuses (it does not for the
/// sizes thumbnails have).
pub fn encode(pixels: &[u8], width: u32, height: u32, channels: usize) -> Option<Vec<u8>> {
    let stride = width as usize * channels;
    if pixels.len() != stride * height as usize || !(3..=4).contains(&channels) {
        return None;
    }
    let (w, h, s) = (
        i32::try_from(width).ok()?,
        i32::try_from(height).ok()?,
        i32::try_from(stride).ok()?,
    );
    let mut out: *mut u8 = std::ptr::null_mut();
    // SAFETY: `pixels` holds `height` rows of `stride` bytes (checked above), which is all
    // libwebp reads; it sets `out` to a buffer of the returned length that it allocated.
    let len = unsafe {
        if channels == 4 {
            WebPEncodeRGBA(pixels.as_ptr(), w, h, s, QUALITY, &mut out)
        } else {
            WebPEncodeRGB(pixels.as_ptr(), w, h, s, QUALITY, &mut out)
        }
    };
    if out.is_null() {
        return None;
    }
    // SAFETY: libwebp wrote `len` bytes at `out` (0 on failure) and owns the buffer until
    // `WebPFree`, which is called once, after the copy.
    let bytes = (len > 0).then(|| unsafe { std::slice::from_raw_parts(out, len) }.to_vec());
    unsafe { WebPFree(out.cast()) };
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_rgb_and_rgba_as_lossy_webp_of_the_same_size() {
        let photo = crate::samples::photo(300, 200, 7);
        for (pixels, channels) in [
            (
                image::DynamicImage::ImageRgba8(photo.clone())
                    .to_rgb8()
                    .into_raw(),
                3,
            ),
            (photo.into_raw(), 4),
        ] {
            let bytes = encode(&pixels, 300, 200, channels).unwrap();
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(&bytes[8..12], b"WEBP");
            // VP8 (lossy), or VP8X with an ALPH chunk before the lossy VP8 one.
            let chunks = &bytes[12..];
            assert!(
                chunks.starts_with(b"VP8 ") || chunks.starts_with(b"VP8X"),
                "{:?}",
                &chunks[..4]
            );
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (300, 200));
        }
    }

    #[test]
    fn refuses_what_does_not_add_up() {
        assert_eq!(encode(&[0; 11], 2, 2, 3), None);
        assert_eq!(encode(&[0; 8], 2, 2, 2), None);
    }
}
