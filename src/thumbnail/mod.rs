//! Thumbnails: an image scaled to fit N×N, turned upright by its EXIF orientation, without
//! any of its metadata. JPEG is decoded at reduced scale in the DCT domain (1/2, 1/4, 1/8:
//! `jpeg-decoder`), so a 12-megapixel photo becomes at most a few hundred thousand pixels
//! before anything else happens; the other formats decode with the `image` crate (an animated
//! GIF gives its first frame). A PNG is shrunk as its rows are decoded (`png_rows`), never
//! whole in memory. Opaque results are JPEG, those with transparency PNG.

mod jpeg_dc;
mod png_rows;
mod shrink;

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Limits, RgbImage};

use crate::dimensions;
use crate::media::MediaType;

/// The sizes offered: a fixed list, so nobody can fill the bucket with variants.
pub const SIZES: [u32; 5] = [64, 128, 256, 512, 1024];

/// The quality of JPEG thumbnails: visually clean at these sizes, a few KiB each.
const JPEG_QUALITY: u8 = 82;

#[derive(Debug)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub media: MediaType,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThumbnailError {
    /// HEIC/HEIF and AVIF decoders need C libraries that do not come with a cargo-lambda build.
    #[error("thumbnails of {0} images are not made: no decoder for it builds into the function")]
    Unsupported(&'static str),
    #[error("the image could not be decoded")]
    Undecodable,
}

/// The thumbnail of `bytes` (an image of type `media`) that fits `size`×`size`. Never larger
/// than the image itself. `max_pixels` bounds what a decoder may allocate.
pub fn make(
    bytes: &[u8],
    media: MediaType,
    size: u32,
    max_pixels: u64,
) -> Result<Thumbnail, ThumbnailError> {
    let mut image = match media {
        MediaType::Jpeg => {
            let eighth_fits = |width: u32, height: u32| {
                let (fit_width, fit_height) = fit(width, height, size);
                width.div_ceil(8) >= fit_width && height.div_ceil(8) >= fit_height
            };
            match jpeg_dc::decode_eighth(bytes, max_pixels, eighth_fits) {
                Some(image) => image,
                None => decode_jpeg_scaled(bytes, size, max_pixels)?,
            }
        }
        MediaType::Png => match png_rows::decode_shrunk(bytes, |w, h| fit(w, h, size), max_pixels)?
        {
            Some(image) => image,
            None => decode(bytes, ImageFormat::Png, max_pixels)?,
        },
        MediaType::Gif => decode(bytes, ImageFormat::Gif, max_pixels)?,
        MediaType::Webp => decode(bytes, ImageFormat::WebP, max_pixels)?,
        MediaType::Bmp => decode(bytes, ImageFormat::Bmp, max_pixels)?,
        MediaType::Tiff => decode(bytes, ImageFormat::Tiff, max_pixels)?,
        MediaType::Avif | MediaType::Heic | MediaType::Heif => {
            return Err(ThumbnailError::Unsupported(media.as_str()));
        }
    };
    // Shrink first, then turn: the box is square, so the fit does not depend on the turn, and
    // turning the small image moves a few hundred times fewer pixels.
    if image.width() > size || image.height() > size {
        image = shrink_whole(image, size);
    }
    let orientation = dimensions::orientation(bytes) as u8;
    image.apply_orientation(
        Orientation::from_exif(orientation).unwrap_or(Orientation::NoTransforms),
    );
    encode(image)
}

/// A decoded image shrunk to fit `size`×`size`: by `Shrink` (integer box means) for 8-bit
/// pixels, by `image`'s own thumbnail (the same boxes in floating point) for the rest.
fn shrink_whole(image: DynamicImage, size: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let target = fit(width, height, size);
    let shrunk = |pixels: &[u8], channels: usize| {
        let mut shrink = shrink::Shrink::new((width, height), target, channels);
        for row in pixels.chunks_exact(width as usize * channels) {
            shrink.push_row(row);
        }
        shrink.finish()
    };
    let (w, h) = target;
    let made = match &image {
        DynamicImage::ImageLuma8(i) => {
            GrayImage::from_raw(w, h, shrunk(i.as_raw(), 1)).map(DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageLumaA8(i) => {
            image::GrayAlphaImage::from_raw(w, h, shrunk(i.as_raw(), 2))
                .map(DynamicImage::ImageLumaA8)
        }
        DynamicImage::ImageRgb8(i) => {
            RgbImage::from_raw(w, h, shrunk(i.as_raw(), 3)).map(DynamicImage::ImageRgb8)
        }
        DynamicImage::ImageRgba8(i) => {
            image::RgbaImage::from_raw(w, h, shrunk(i.as_raw(), 4)).map(DynamicImage::ImageRgba8)
        }
        _ => None,
    };
    made.unwrap_or_else(|| image.thumbnail(size, size))
}

/// `width`×`height` scaled to fit `size`×`size` (as `DynamicImage::thumbnail` does), or kept
/// if it already fits.
fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    if width <= size && height <= size {
        return (width, height);
    }
    let scale = f64::from(size) / f64::from(width.max(height));
    let side = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, side);
    (side(width), side(height))
}

fn limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    // Four bytes a pixel, twice over for the decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    limits
}

fn decode(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<DynamicImage, ThumbnailError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(max_pixels));
    reader.decode().map_err(|_| ThumbnailError::Undecodable)
}

/// Decodes at the smallest DCT scale that still covers the thumbnail; grayscale and RGB
/// baseline or progressive JPEGs (nearly all), the rest through the full decoder.
fn decode_jpeg_scaled(
    bytes: &[u8],
    size: u32,
    max_pixels: u64,
) -> Result<DynamicImage, ThumbnailError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|_| ThumbnailError::Undecodable)?;
    let info = decoder.info().ok_or(ThumbnailError::Undecodable)?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ThumbnailError::Undecodable);
    }
    // The thumbnail's own size, which the scaled decode must not go below.
    let longest = width.max(height).max(1);
    let wanted = |side: u32| {
        (u64::from(side) * u64::from(size))
            .div_ceil(u64::from(longest))
            .max(1) as u16
    };
    let (scaled_width, scaled_height) = decoder
        .scale(wanted(width), wanted(height))
        .map_err(|_| ThumbnailError::Undecodable)?;
    let (w, h) = (u32::from(scaled_width), u32::from(scaled_height));
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            let pixels = decoder.decode().map_err(|_| ThumbnailError::Undecodable)?;
            RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            let pixels = decoder.decode().map_err(|_| ThumbnailError::Undecodable)?;
            GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => return decode(bytes, ImageFormat::Jpeg, max_pixels),
    };
    image.ok_or(ThumbnailError::Undecodable)
}

fn encode(image: DynamicImage) -> Result<Thumbnail, ThumbnailError> {
    // Converted once, and only for an image that can hold transparency.
    let rgba = image.color().has_alpha().then(|| image.to_rgba8());
    let transparent = rgba
        .as_ref()
        .filter(|rgba| rgba.pixels().any(|pixel| pixel.0[3] < u8::MAX));
    let mut out = Cursor::new(Vec::new());
    let media = if let Some(rgba) = transparent {
        rgba.write_to(&mut out, ImageFormat::Png)
            .map_err(|_| ThumbnailError::Undecodable)?;
        MediaType::Png
    } else {
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(&image.to_rgb8())
            .map_err(|_| ThumbnailError::Undecodable)?;
        MediaType::Jpeg
    };
    Ok(Thumbnail {
        bytes: out.into_inner(),
        media,
    })
}
