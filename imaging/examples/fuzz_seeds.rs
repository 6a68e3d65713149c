//! Writes the fuzz targets' seed corpus: small real files of every kind the tests make (each
//! PNG colour type, JPEG baseline gray/4:4:4/4:2:0/4:2:2 with and without restart markers,
//! progressive, with an EXIF orientation; GIF, WebP lossless, BMP, TIFF; a HEIF box header).
//! Usage: fuzz_seeds DIR

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbaImage};
use imaging::samples::{ByteOrder, heif_header, with_orientation};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

fn picture(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            (x * 255 / width) as u8,
            (y * 255 / height) as u8,
            ((x / 3 + y / 2) % 2 * 200) as u8,
            if (x + y) % 5 == 0 { 0 } else { 255 },
        ])
    })
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg(
    width: u16,
    height: u16,
    sampling: Option<SamplingFactor>,
    restart: u16,
    progressive: bool,
) -> Vec<u8> {
    let rgb = DynamicImage::ImageRgba8(picture(width.into(), height.into())).to_rgb8();
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 80);
    encoder.set_restart_interval(restart);
    encoder.set_progressive(progressive);
    match sampling {
        Some(sampling) => {
            encoder.set_sampling_factor(sampling);
            encoder
                .encode(rgb.as_raw(), width, height, ColorType::Rgb)
                .unwrap();
        }
        None => {
            let gray: Vec<u8> = rgb.as_raw().chunks_exact(3).map(|p| p[1]).collect();
            encoder
                .encode(&gray, width, height, ColorType::Luma)
                .unwrap();
        }
    }
    out
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: fuzz_seeds DIR");
    std::fs::create_dir_all(&dir).unwrap();
    let rgba = DynamicImage::ImageRgba8(picture(37, 21));
    let mut seeds: Vec<(String, Vec<u8>)> = vec![
        ("rgba.png".into(), encoded(&rgba, ImageFormat::Png)),
        (
            "rgb.png".into(),
            encoded(&DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Png),
        ),
        (
            "gray.png".into(),
            encoded(&DynamicImage::ImageLuma8(rgba.to_luma8()), ImageFormat::Png),
        ),
        (
            "gray-alpha.png".into(),
            encoded(
                &DynamicImage::ImageLumaA8(rgba.to_luma_alpha8()),
                ImageFormat::Png,
            ),
        ),
        (
            "rgb16.png".into(),
            encoded(&DynamicImage::ImageRgb16(rgba.to_rgb16()), ImageFormat::Png),
        ),
        ("anim.gif".into(), encoded(&rgba, ImageFormat::Gif)),
        ("lossless.webp".into(), encoded(&rgba, ImageFormat::WebP)),
        (
            "rgb.bmp".into(),
            encoded(&DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Bmp),
        ),
        ("rgba.tiff".into(), encoded(&rgba, ImageFormat::Tiff)),
        (
            "rgb.tiff".into(),
            encoded(&DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Tiff),
        ),
        (
            "image-crate.jpg".into(),
            encoded(&DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Jpeg),
        ),
        ("gray.jpg".into(), jpeg(37, 21, None, 0, false)),
        (
            "progressive.jpg".into(),
            jpeg(37, 21, Some(SamplingFactor::F_2_2), 0, true),
        ),
        (
            "orientation-6.jpg".into(),
            with_orientation(
                &jpeg(37, 21, Some(SamplingFactor::F_2_2), 0, false),
                6,
                ByteOrder::Big,
            ),
        ),
        ("box.heic".into(), heif_header(b"heic", (640, 480), Some(1))),
    ];
    for (name, sampling) in [
        ("444", SamplingFactor::F_1_1),
        ("420", SamplingFactor::F_2_2),
        ("422", SamplingFactor::F_2_1),
        ("440", SamplingFactor::F_1_2),
        ("411", SamplingFactor::F_4_1),
    ] {
        seeds.push((
            format!("{name}.jpg"),
            jpeg(37, 21, Some(sampling), 0, false),
        ));
        seeds.push((
            format!("{name}-restart.jpg"),
            jpeg(37, 21, Some(sampling), 2, false),
        ));
    }
    for (name, bytes) in seeds {
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    }
}
