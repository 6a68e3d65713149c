//! Thumbnails: an image scaled to fit N×N, turned upright by its EXIF orientation, without
//! any of its metadata. JPEG is decoded at reduced scale in the DCT domain (1/2, 1/4, 1/8:
//! `jpeg-decoder`), so a 12-megapixel photo becomes at most a few hundred thousand pixels
//! before anything else happens; the other formats decode with the `image` crate (an animated
//! GIF gives its first frame). A PNG is shrunk as its rows are decoded (`png_rows`), never
//! whole in memory. Unless a `Format` is asked for, opaque results are JPEG, those with
//! transparency PNG.
//!
//! Each path first reads the header and asks the `Budget` whether the decode it is about to
//! run fits; what does not is refused before its buffers exist (`ThumbnailError::OverBudget`).

pub mod png_rows;
mod shrink;
mod webp;

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Limits, RgbImage};

use crate::budget::{Budget, JpegFrame, MAX_JPEG_SCANS, OverBudget};
use crate::dimensions;
use crate::jpeg;
use crate::media::MediaType;

/// The sizes offered: a fixed list, so nobody can fill the bucket with variants.
pub const SIZES: [u32; 5] = [64, 128, 256, 512, 1024];

/// The quality of JPEG thumbnails: visually clean at these sizes, a few KiB each.
const JPEG_QUALITY: u8 = 82;

/// An encoding a client may ask a thumbnail in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Webp,
    Jpeg,
    Png,
}

impl Format {
    /// Its name, lower case, as a URL or a key writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }

    /// The type of the bytes it makes.
    pub fn media(self) -> MediaType {
        match self {
            Self::Webp => MediaType::Webp,
            Self::Jpeg => MediaType::Jpeg,
            Self::Png => MediaType::Png,
        }
    }
}

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
    /// The header declares more than a decode may spend; the detail says what.
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
}

/// The thumbnail of `bytes` (an image of type `media`) that fits `size`×`size`. Never larger
/// than the image itself; never a decode past `budget`.
/// It is encoded as `format`, or without one as JPEG when opaque and PNG with transparency.
pub fn make(
    bytes: &[u8],
    media: MediaType,
    size: u32,
    format: Option<Format>,
    budget: &Budget,
) -> Result<Thumbnail, ThumbnailError> {
    // The decoders are other crates'. One that panics on a file (zune-jpeg 0.5.15 does on a
    // crafted JPEG, found by the `thumbnail` fuzz target) costs that file its thumbnail, not
    // the request its answer. The fuzz targets still stop at any panic (libfuzzer-sys aborts
    // in its panic hook), so they keep finding them.
    std::panic::catch_unwind(|| make_unguarded(bytes, media, size, format, budget))
        .unwrap_or(Err(ThumbnailError::Undecodable))
}

fn make_unguarded(
    bytes: &[u8],
    media: MediaType,
    size: u32,
    format: Option<Format>,
    budget: &Budget,
) -> Result<Thumbnail, ThumbnailError> {
    let mut image = match media {
        MediaType::Jpeg => decode_jpeg(bytes, size, budget)?,
        MediaType::Png => match png_rows::decode_shrunk(bytes, |w, h| fit(w, h, size), budget)? {
            Some(image) => image,
            None => decode(bytes, ImageFormat::Png, size, budget)?,
        },
        MediaType::Gif => decode(bytes, ImageFormat::Gif, size, budget)?,
        MediaType::Webp => decode(bytes, ImageFormat::WebP, size, budget)?,
        MediaType::Bmp => decode(bytes, ImageFormat::Bmp, size, budget)?,
        MediaType::Tiff => decode(bytes, ImageFormat::Tiff, size, budget)?,
        MediaType::Avif | MediaType::Heic | MediaType::Heif => {
            return Err(ThumbnailError::Unsupported(media.as_str()));
        }
    };
    // Shrink first, then turn: the box is square, so the fit does not depend on the turn, and
    // turning the small image moves a few hundred times fewer pixels.
    if image.width() > size || image.height() > size {
        image = match format {
            // JPEG and PNG keep the bytes they have always had; WebP gets the sharper filter.
            Some(Format::Webp) => resize_lanczos(image, size, bytes.len(), budget)?,
            _ => shrink_whole(image, size),
        };
    }
    let orientation = dimensions::orientation(bytes) as u8;
    image.apply_orientation(
        Orientation::from_exif(orientation).unwrap_or(Orientation::NoTransforms),
    );
    encode(image, format, budget)
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

/// A decoded image resized to fit `size`×`size` with Lanczos3 (`fast_image_resize`, which
/// premultiplies alpha), for `file_len` bytes of file still held. Its working row buffer (the
/// target's width by the source's height) is counted against the budget before it exists.
fn resize_lanczos(
    image: DynamicImage,
    size: u32,
    file_len: usize,
    budget: &Budget,
) -> Result<DynamicImage, ThumbnailError> {
    use fast_image_resize::{IntoImageView, Resizer, images::Image};
    let (width, height) = fit(image.width(), image.height(), size);
    let eight_bit = matches!(
        image,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_)
    );
    let Some(pixel_type) = image.pixel_type().filter(|_| eight_bit) else {
        return Ok(shrink_whole(image, size));
    };
    let pixel = u64::from(image.color().bytes_per_pixel());
    let held = file_len as u64 + u64::from(image.width()) * u64::from(image.height()) * pixel;
    let working = u64::from(width) * (u64::from(image.height()) + u64::from(height)) * pixel;
    budget.allows(held + working, 0)?;
    let mut resized = Image::new(width, height, pixel_type);
    Resizer::new()
        .resize(&image, &mut resized, None)
        .map_err(|_| ThumbnailError::Undecodable)?;
    let pixels = resized.into_vec();
    let made = match image {
        DynamicImage::ImageLuma8(_) => {
            GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageLumaA8(_) => {
            image::GrayAlphaImage::from_raw(width, height, pixels).map(DynamicImage::ImageLumaA8)
        }
        DynamicImage::ImageRgb8(_) => {
            RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
        }
        DynamicImage::ImageRgba8(_) => {
            image::RgbaImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgba8)
        }
        _ => None,
    };
    made.ok_or(ThumbnailError::Undecodable)
}

/// `width`×`height` scaled to fit `size`×`size` (as `DynamicImage::thumbnail` does), or kept
/// if it already fits. A side of 0 (a header can say so before its decoder refuses it) stays 0.
pub fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    if width <= size && height <= size {
        return (width, height);
    }
    let scale = f64::from(size) / f64::from(width.max(height));
    let side = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(side.min(1), side);
    (side(width), side(height))
}

/// Bytes of the thumbnail on its way out: the shrunk image, its conversion for the encoder
/// (RGB or RGBA, up to four bytes a pixel) and the encoded result, which is smaller than
/// either.
pub(crate) fn result_bytes((width, height): (u32, u32)) -> u64 {
    u64::from(width) * u64::from(height) * 12
}

/// How many bytes a whole-image decoder holds for each byte of the result it returns, at most,
/// on top of the encoded file: its own working buffers (WebP's ARGB words, TIFF's strip buffer,
/// GIF's frame beside its canvas). Measured in `tests/peak.rs`.
fn whole_image_factor(format: ImageFormat) -> u64 {
    match format {
        ImageFormat::Bmp | ImageFormat::Png => 1,
        ImageFormat::Jpeg => 3,
        _ => 2,
    }
}

/// The whole image, decoded by `image` if its header says the decode fits `budget`. The
/// decoder is also told what is left, so that whatever it allocates beyond what its header
/// declared (a GIF frame larger than its screen) is refused by the decoder itself.
fn decode(
    bytes: &[u8],
    format: ImageFormat,
    size: u32,
    budget: &Budget,
) -> Result<DynamicImage, ThumbnailError> {
    let held = bytes.len() as u64;
    let mut limits = Limits::default();
    limits.max_alloc = Some(budget.left_after(held));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(refusal)?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    let decoded = image::ImageDecoder::total_bytes(&decoder);
    budget.allows(
        held.saturating_add(decoded.saturating_mul(whole_image_factor(format)))
            .saturating_add(result_bytes(fit(width, height, size))),
        u64::from(width) * u64::from(height),
    )?;
    DynamicImage::from_decoder(decoder).map_err(refusal)
}

/// A decoder's error: over its limits is over budget, anything else undecodable.
fn refusal(error: image::ImageError) -> ThumbnailError {
    match error {
        image::ImageError::Limits(limit) => {
            OverBudget(format!("decoding it would pass a limit: {limit}")).into()
        }
        _ => ThumbnailError::Undecodable,
    }
}

/// The longest side `jpeg-decoder` counts without overflow (see `decode_jpeg`).
const JPEG_DECODER_MAX_SIDE: u32 = 65528;

/// A JPEG, by the cheapest of three decoders that can make its thumbnail:
/// - the DC decoder (`jpeg`), for the baseline files it reads when 1/8 is enough;
/// - `jpeg-decoder` at 1/4, 1/2 or whole, for those files when 1/8 is too small: only after
///   the DC decoder has read their scan to its last block, because `jpeg-decoder` reads past
///   the end of a scan as zeros and walks every block the header claims, however short the
///   file;
/// - `image`'s decoder (zune-jpeg), whole, for the kinds the DC decoder does not read
///   (progressive, CMYK, Adobe RGB, a scan per component): it stops where a scan's data stops.
///
/// Each is preceded by the budget check of what it holds.
fn decode_jpeg(bytes: &[u8], size: u32, budget: &Budget) -> Result<DynamicImage, ThumbnailError> {
    let frame = JpegFrame::read(bytes).ok_or(ThumbnailError::Undecodable)?;
    if frame.scans > MAX_JPEG_SCANS {
        return Err(OverBudget(format!(
            "it has {} scans; at most {MAX_JPEG_SCANS} are decoded",
            frame.scans
        ))
        .into());
    }
    frame.walk_fits()?;
    let (width, height) = (frame.width, frame.height);
    // The thumbnail's own size, which the scaled decode must not go below.
    let (fit_width, fit_height) = fit(width, height, size);
    let scale = [1u32, 2, 4, 8]
        .into_iter()
        .find(|&scale| {
            (width * scale).div_ceil(8) >= fit_width && (height * scale).div_ceil(8) >= fit_height
        })
        .unwrap_or(8);
    let held = bytes.len() as u64 + result_bytes((fit_width, fit_height));
    budget.allows(held + frame.decode_bytes(1), frame.pixels())?;
    match jpeg::read_eighth(bytes, budget.pixels, scale == 1) {
        jpeg::Eighth::Image(image) => return Ok(image),
        jpeg::Eighth::Broken => return Err(ThumbnailError::Undecodable),
        jpeg::Eighth::NotRead => {
            budget.allows(held + frame.decode_bytes(8), frame.pixels())?;
            return decode(bytes, ImageFormat::Jpeg, size, budget);
        }
        jpeg::Eighth::Whole => {}
    }
    // jpeg-decoder 0.3.2 counts pixel rows in u16 (`(mcu_y + 1) * 8`), which overflows past
    // 65528: a panic in a build with overflow checks, a wrong answer without. `image`'s
    // decoder takes those (found by the `thumbnail` fuzz target).
    if width.max(height) > JPEG_DECODER_MAX_SIDE {
        budget.allows(held + frame.decode_bytes(8), frame.pixels())?;
        return decode(bytes, ImageFormat::Jpeg, size, budget);
    }
    budget.allows(held + frame.decode_bytes(scale), frame.pixels())?;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|_| ThumbnailError::Undecodable)?;
    let info = decoder.info().ok_or(ThumbnailError::Undecodable)?;
    // jpeg-decoder reads the frame header as `JpegFrame` does; a file that says otherwise to
    // each is not decoded on the strength of the first reading.
    if (u32::from(info.width), u32::from(info.height)) != (width, height) {
        return Err(ThumbnailError::Undecodable);
    }
    decoder.set_max_decoding_buffer_size(budget.left_after(held) as usize);
    let requested = |side: u32| u16::try_from((side * scale).div_ceil(8)).unwrap_or(u16::MAX);
    let (scaled_width, scaled_height) = decoder
        .scale(requested(width), requested(height))
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
        _ => return decode(bytes, ImageFormat::Jpeg, size, budget),
    };
    image.ok_or(ThumbnailError::Undecodable)
}

/// What libwebp may allocate per pixel while it encodes (its working planes and the
/// compressed output), counted against the budget before it starts.
const WEBP_BYTES_PER_PIXEL: u64 = 16;

fn encode(
    image: DynamicImage,
    format: Option<Format>,
    budget: &Budget,
) -> Result<Thumbnail, ThumbnailError> {
    // Converted once, and only for an image that can hold transparency.
    let rgba = image.color().has_alpha().then(|| image.to_rgba8());
    let transparent = rgba.filter(|rgba| rgba.pixels().any(|pixel| pixel.0[3] < u8::MAX));
    let format = format.unwrap_or(if transparent.is_some() {
        Format::Png
    } else {
        Format::Jpeg
    });
    let (width, height) = (image.width(), image.height());
    let mut out = Cursor::new(Vec::new());
    match (format, transparent) {
        (Format::Png, Some(rgba)) => rgba
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| ThumbnailError::Undecodable)?,
        (Format::Png, None) => image
            .to_rgb8()
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| ThumbnailError::Undecodable)?,
        (Format::Jpeg, transparent) => {
            // JPEG has no alpha: transparency shows the white a page most often has.
            let rgb = match transparent {
                Some(rgba) => on_white(&rgba),
                None => image.to_rgb8(),
            };
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .encode_image(&rgb)
                .map_err(|_| ThumbnailError::Undecodable)?
        }
        (Format::Webp, transparent) => {
            let pixels = u64::from(width) * u64::from(height);
            budget.allows(pixels * WEBP_BYTES_PER_PIXEL, pixels)?;
            let made = match transparent {
                Some(rgba) => webp::encode(rgba.as_raw(), width, height, 4),
                None => webp::encode(image.to_rgb8().as_raw(), width, height, 3),
            };
            out = Cursor::new(made.ok_or(ThumbnailError::Undecodable)?);
        }
    }
    Ok(Thumbnail {
        bytes: out.into_inner(),
        media: format.media(),
    })
}

/// `rgba` composed over white.
fn on_white(rgba: &image::RgbaImage) -> RgbImage {
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * u16::from(255 - a) + 127) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}
