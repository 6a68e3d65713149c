//! The 1/8 image from the DC planes.

use image::{DynamicImage, GrayImage, RgbImage};

use super::headers::{Component, Frame};

/// The 1/8 image from the planes: gray, or YCbCr to RGB with chroma repeated over the luma
/// pixels it covers.
pub(super) fn assemble(frame: &Frame) -> Option<DynamicImage> {
    let (width, height) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
    if let [luma] = &frame.components[..] {
        let mut pixels = Vec::with_capacity(width * height);
        for row in luma.plane.chunks_exact(luma.blocks_across).take(height) {
            pixels.extend_from_slice(&row[..width]);
        }
        return GrayImage::from_raw(width as u32, height as u32, pixels)
            .map(DynamicImage::ImageLuma8);
    }
    let max_horizontal = frame
        .components
        .iter()
        .map(|c| c.horizontal)
        .max()
        .unwrap_or(1);
    let max_vertical = frame
        .components
        .iter()
        .map(|c| c.vertical)
        .max()
        .unwrap_or(1);
    let sample = |component: &Component, x: usize, y: usize| {
        let x = x * component.horizontal / max_horizontal;
        let y = y * component.vertical / max_vertical;
        component.plane[y * component.blocks_across + x]
    };
    let [luma, blue, red] = &frame.components[..] else {
        return None;
    };
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            pixels.extend(ycbcr_to_rgb(
                sample(luma, x, y),
                sample(blue, x, y),
                sample(red, x, y),
            ));
        }
    }
    RgbImage::from_raw(width as u32, height as u32, pixels).map(DynamicImage::ImageRgb8)
}

/// `jpeg-decoder`'s conversion (ITU-R BT.601 in 20-bit fixed point), for identical results.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const SHIFT: i32 = 20;
    const fn fixed(x: f32) -> i32 {
        (x * (1 << SHIFT) as f32 + 0.5) as i32
    }
    let y = i32::from(y) * (1 << SHIFT) + (1 << (SHIFT - 1));
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let clamp = |value: i32| (value >> SHIFT).clamp(0, 255) as u8;
    [
        clamp(y + fixed(1.40200) * cr),
        clamp(y - fixed(0.34414) * cb - fixed(0.71414) * cr),
        clamp(y + fixed(1.77200) * cb),
    ]
}
