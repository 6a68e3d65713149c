//! Writes the fuzz targets' seed corpus: small real files of every kind the tests make (each
//! PNG colour type, JPEG baseline gray/4:4:4/4:2:0/4:2:2 with and without restart markers,
//! progressive, with an EXIF orientation; GIF, WebP lossless, BMP, TIFF; a HEIF box header).
//! Usage: fuzz_seeds DIR

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbaImage};
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

/// `jpeg` with an EXIF APP1 segment whose only tag is the orientation.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn heif() -> Vec<u8> {
    let boxed = |kind: &[u8], body: &[u8]| {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    };
    let mut ispe = vec![0; 4];
    ispe.extend_from_slice(&640u32.to_be_bytes());
    ispe.extend_from_slice(&480u32.to_be_bytes());
    let mut properties = boxed(b"ispe", &ispe);
    properties.extend(boxed(b"irot", &[1]));
    let iprp = boxed(b"iprp", &boxed(b"ipco", &properties));
    let mut meta = vec![0; 4];
    meta.extend(iprp);
    let mut file = boxed(b"ftyp", b"heic\0\0\0\0mif1");
    file.extend(boxed(b"meta", &meta));
    file
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
            with_orientation(&jpeg(37, 21, Some(SamplingFactor::F_2_2), 0, false), 6),
        ),
        ("box.heic".into(), heif()),
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
