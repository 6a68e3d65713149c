//! PNG thumbnails without the whole image in memory: the rows are decoded one at a time
//! (`png`, the decoder the `image` crate uses) and shrunk as they come (`Shrink`). A 12 MP
//! RGB photo would otherwise be a 36 MB buffer before the thumbnail is made from it.

use std::io::Cursor;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use super::ThumbnailError;
use super::shrink::Shrink;
use crate::budget::Budget;

/// The image shrunk to `target`, or `None` for an interlaced PNG (its rows arrive in seven
/// passes; the whole-image path takes it, and its budget check).
pub fn decode_shrunk(
    bytes: &[u8],
    target: impl FnOnce(u32, u32) -> (u32, u32),
    budget: &Budget,
) -> Result<Option<DynamicImage>, ThumbnailError> {
    let held = bytes.len() as u64;
    let limits = png::Limits {
        bytes: usize::try_from(budget.left_after(held)).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    // Text is never shown, and compressed text would be inflated for nothing.
    decoder.set_ignore_text_chunk(true);
    // Palettes and low bit depths expanded, 16-bit samples cut to 8: one byte a channel.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|_| ThumbnailError::Undecodable)?;
    let info = reader.info();
    if info.interlaced {
        return Ok(None);
    }
    let (width, height) = (info.width, info.height);
    // A row as stored (up to 8 bytes a pixel), the row before it for the filters, the row
    // as normalized, and the shrink's sums of a row of the target (4 bytes a sample).
    let rows = u64::from(width) * (8 + 8 + 4) + u64::from(width) * 4 * 4;
    let (target_width, target_height) = target(width, height);
    let result = super::result_bytes((target_width, target_height));
    budget.allows(held + rows + result, u64::from(width) * u64::from(height))?;
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let mut shrink = Shrink::new((width, height), (target_width, target_height), channels);
    for _ in 0..height {
        let row = reader
            .next_row()
            .map_err(|_| ThumbnailError::Undecodable)?
            .ok_or(ThumbnailError::Undecodable)?;
        shrink.push_row(row.data());
    }
    // To the end of the file, so that a file cut short is refused as a whole decode refuses it.
    reader.finish().map_err(|_| ThumbnailError::Undecodable)?;
    let pixels = shrink.finish();
    let image =
        match color {
            png::ColorType::Grayscale => GrayImage::from_raw(target_width, target_height, pixels)
                .map(DynamicImage::ImageLuma8),
            png::ColorType::GrayscaleAlpha => {
                GrayAlphaImage::from_raw(target_width, target_height, pixels)
                    .map(DynamicImage::ImageLumaA8)
            }
            png::ColorType::Rgb => {
                RgbImage::from_raw(target_width, target_height, pixels).map(DynamicImage::ImageRgb8)
            }
            png::ColorType::Rgba => RgbaImage::from_raw(target_width, target_height, pixels)
                .map(DynamicImage::ImageRgba8),
            png::ColorType::Indexed => None,
        };
    image.map(Some).ok_or(ThumbnailError::Undecodable)
}

#[cfg(test)]
mod tests {
    //! Against the whole-image path (`image` decodes, then `thumbnail`), on pictures of
    //! realistic size in each PNG color type, with sides that do not divide evenly.

    use image::{DynamicImage, ImageFormat, RgbaImage};

    use super::*;
    use crate::thumbnail::fit;

    /// A photo with transparent blocks and translucent grain, to exercise every alpha.
    fn picture(width: u32, height: u32) -> RgbaImage {
        let mut picture = crate::samples::photo(width, height, 0x2545_f491);
        for (x, y, pixel) in picture.enumerate_pixels_mut() {
            pixel[3] = if (x / 50 + y / 50) % 3 == 0 {
                0
            } else {
                255 - (pixel[0] & 0x1f)
            };
        }
        picture
    }

    fn png_of(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn whole_image_path(bytes: &[u8], size: u32) -> DynamicImage {
        let image = image::load_from_memory_with_format(bytes, ImageFormat::Png).unwrap();
        if image.width() > size || image.height() > size {
            image.thumbnail(size, size)
        } else {
            image
        }
    }

    fn assert_close(ours: &DynamicImage, theirs: &DynamicImage, what: &str) {
        assert_eq!(ours.color(), theirs.color(), "{what}");
        assert_eq!(ours.dimensions_pair(), theirs.dimensions_pair(), "{what}");
        let (ours, theirs) = (ours.to_rgba8(), theirs.to_rgba8());
        let off: Vec<u8> = ours
            .pixels()
            .zip(theirs.pixels())
            .map(|(a, b)| {
                a.0.iter()
                    .zip(b.0)
                    .map(|(a, b)| a.abs_diff(b))
                    .max()
                    .unwrap()
            })
            .collect();
        let far = off.iter().filter(|&&off| off > 1).count();
        let limit = (ours.width() + ours.height()) as usize;
        assert!(far <= limit, "{what}: {far} pixels differ by more than 1");
    }

    trait Dimensions {
        fn dimensions_pair(&self) -> (u32, u32);
    }

    impl Dimensions for DynamicImage {
        fn dimensions_pair(&self) -> (u32, u32) {
            (self.width(), self.height())
        }
    }

    #[test]
    fn every_color_type_matches_the_whole_image_path() {
        let source = DynamicImage::ImageRgba8(picture(1203, 797));
        let variants = [
            ("rgb8", DynamicImage::ImageRgb8(source.to_rgb8())),
            ("rgba8", source.clone()),
            ("luma8", DynamicImage::ImageLuma8(source.to_luma8())),
            ("lumaa8", DynamicImage::ImageLumaA8(source.to_luma_alpha8())),
            ("rgb16", DynamicImage::ImageRgb16(source.to_rgb16())),
            ("rgba16", DynamicImage::ImageRgba16(source.to_rgba16())),
        ];
        for (name, image) in variants {
            let bytes = png_of(&image);
            for size in [64, 256, 1024, 2000] {
                let ours = decode_shrunk(&bytes, |w, h| fit(w, h, size), &Budget::TESTS)
                    .unwrap()
                    .expect("not interlaced");
                let mut theirs = whole_image_path(&bytes, size);
                // The streamed path cuts 16-bit samples to 8 before it averages.
                theirs = match theirs {
                    DynamicImage::ImageRgb16(_) => DynamicImage::ImageRgb8(theirs.to_rgb8()),
                    DynamicImage::ImageRgba16(_) => DynamicImage::ImageRgba8(theirs.to_rgba8()),
                    other => other,
                };
                assert_close(&ours, &theirs, &format!("{name} at {size}"));
            }
        }
    }

    #[test]
    fn palette_and_low_bit_depth_images_are_expanded() {
        let (width, height) = (333, 211);
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_depth(png::BitDepth::Four);
            encoder.set_palette(
                (0..16u8)
                    .flat_map(|i| [i * 16, 255 - i * 16, i * 7])
                    .collect::<Vec<_>>(),
            );
            let mut writer = encoder.write_header().unwrap();
            let row = (width as usize).div_ceil(2);
            let data: Vec<u8> = (0..row * height as usize)
                .map(|i| (i % 251) as u8)
                .collect();
            writer.write_image_data(&data).unwrap();
        }
        let ours = decode_shrunk(&bytes, |w, h| fit(w, h, 128), &Budget::TESTS)
            .unwrap()
            .unwrap();
        let theirs = whole_image_path(&bytes, 128);
        assert_close(
            &ours,
            &DynamicImage::ImageRgb8(theirs.to_rgb8()),
            "palette, 4 bits",
        );
    }

    #[test]
    fn broken_files_are_refused_as_the_whole_image_path_refuses_them() {
        let bytes = png_of(&DynamicImage::ImageRgb8(
            DynamicImage::ImageRgba8(picture(640, 480)).to_rgb8(),
        ));
        // Cut inside the header, inside the pixel data and just before its end.
        for cut in [20, 60, bytes.len() / 3, bytes.len() / 2, bytes.len() - 20] {
            let truncated = &bytes[..cut];
            let ours = decode_shrunk(truncated, |w, h| fit(w, h, 256), &Budget::TESTS);
            let theirs = image::load_from_memory_with_format(truncated, ImageFormat::Png);
            assert!(ours.is_err(), "cut at {cut}");
            assert!(theirs.is_err(), "cut at {cut}");
        }
        // More pixels than allowed, or rows wider than the memory left: over budget.
        let fewer = Budget {
            pixels: 640 * 480 - 1,
            ..Budget::TESTS
        };
        let refused = decode_shrunk(&bytes, |w, h| fit(w, h, 256), &fewer);
        assert!(matches!(refused, Err(ThumbnailError::OverBudget(_))));
        // Rows of 36 bytes a pixel, and a 256 x 192 result of 12 bytes a pixel.
        let needed = bytes.len() as u64 + 640 * 36 + 256 * 192 * 12;
        let tight = Budget {
            memory: needed - 1,
            ..Budget::TESTS
        };
        let refused = decode_shrunk(&bytes, |w, h| fit(w, h, 256), &tight);
        assert!(matches!(refused, Err(ThumbnailError::OverBudget(_))));
        let enough = Budget {
            memory: needed,
            ..Budget::TESTS
        };
        assert!(decode_shrunk(&bytes, |w, h| fit(w, h, 256), &enough).is_ok());
    }
}
