//! The decode budget against the allocator: for images of every accepted format, made to fit
//! the budget or to pass it (many pixels in a small file, a GIF frame larger than its screen,
//! progressive JPEG coefficients), the most memory held at once while `thumbnail::make` runs
//! never passes the budget. A refused image is refused before its buffers exist. Reading the
//! header at upload (dimensions, EXIF orientation) holds no more than the file's size again.
//!
//! One test, so nothing else allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use imaging::budget::Budget;
use imaging::media::MediaType;
use imaging::thumbnail::{self, ThumbnailError};

struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = HELD.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(held, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let held = HELD.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(held, Ordering::SeqCst);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grown = new_size - layout.size();
            // Old and new blocks both exist while the bytes move.
            let held = HELD.fetch_add(new_size, Ordering::SeqCst) + new_size;
            PEAK.fetch_max(held, Ordering::SeqCst);
            HELD.fetch_sub(new_size - grown, Ordering::SeqCst);
        } else {
            HELD.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FIXED: u64 = 1 << 20;

const TIGHT: Budget = Budget {
    memory: 12 << 20,
    pixels: 50_000_000,
};

const BUDGET: Budget = Budget {
    memory: 24 << 20,
    pixels: 50_000_000,
};

/// Photo-like pixels, the same on every run.
fn picture(width: u32, height: u32) -> RgbaImage {
    imaging::samples::photo(width, height, 0x9e37_79b9)
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg(width: u16, height: u16, progressive: bool) -> Vec<u8> {
    let rgb = DynamicImage::ImageRgba8(picture(width.into(), height.into())).to_rgb8();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder
        .encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// A GIF whose screen is 8×8 and whose one frame says it is `side`×`side`, its data cut short.
fn gif_frame_past_its_screen(side: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0]); // a global table of two colours
    out.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    out.push(0x2c);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&side.to_le_bytes());
    out.extend_from_slice(&side.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]);
    out
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = |w, h| DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(picture(w, h)).to_rgb8());
    let rgba = |w, h| DynamicImage::ImageRgba8(picture(w, h));
    let flat = |w, h| DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([9, 99, 199])));
    vec![
        (
            "png 2000x2000 rows",
            encoded(rgb(2000, 2000), ImageFormat::Png),
        ),
        (
            "png 5000x5000 one colour",
            encoded(flat(5000, 5000), ImageFormat::Png),
        ),
        ("gif 1000x1000", encoded(rgba(1000, 1000), ImageFormat::Gif)),
        (
            "gif 3000x3000 one colour",
            encoded(flat(3000, 3000), ImageFormat::Gif),
        ),
        (
            "gif frame past its screen",
            gif_frame_past_its_screen(30_000),
        ),
        (
            "webp 1000x1000",
            encoded(rgba(1000, 1000), ImageFormat::WebP),
        ),
        (
            "webp 3000x3000 one colour",
            encoded(flat(3000, 3000), ImageFormat::WebP),
        ),
        (
            "tiff 1000x1000",
            encoded(rgb(1000, 1000), ImageFormat::Tiff),
        ),
        (
            "tiff 2000x2000",
            encoded(rgb(2000, 2000), ImageFormat::Tiff),
        ),
        ("bmp 1000x1000", encoded(rgb(1000, 1000), ImageFormat::Bmp)),
        ("bmp 2000x2000", encoded(rgb(2000, 2000), ImageFormat::Bmp)),
        ("jpeg 2000x2000 baseline", jpeg(2000, 2000, false)),
        ("jpeg 1000x1000 progressive", jpeg(1000, 1000, true)),
        ("jpeg 2000x2000 progressive", jpeg(2000, 2000, true)),
    ]
}

#[test]
fn no_decode_holds_more_than_its_budget() {
    let mut made = 0;
    let mut refused = 0;
    for (name, bytes) in inputs() {
        let media = MediaType::sniff(&bytes).expect("an accepted type");
        // What upload reads (dimensions and orientation) holds no more than the file again.
        let before = HELD.load(Ordering::SeqCst);
        PEAK.store(before, Ordering::SeqCst);
        let dimensions = imaging::dimensions::read(&bytes, media);
        let _ = imaging::dimensions::orientation(&bytes);
        let allocated = (PEAK.load(Ordering::SeqCst) - before) as u64;
        assert!(dimensions.is_ok(), "{name}");
        assert!(
            allocated <= bytes.len() as u64 + FIXED,
            "{name}: reading its header allocated {allocated}"
        );
        // A decode admitted by a tight budget must fit it as well as one admitted by a loose
        // one: the estimate is checked where it matters, at the edge.
        for (size, budget) in [(64, BUDGET), (1024, BUDGET), (64, TIGHT), (1024, TIGHT)] {
            // The encoded file is held by the caller, and counted by the budget.
            let before = HELD.load(Ordering::SeqCst);
            PEAK.store(before, Ordering::SeqCst);
            let result = thumbnail::make(&bytes, media, size, None, &budget);
            let allocated = (PEAK.load(Ordering::SeqCst) - before) as u64;
            let peak = allocated + bytes.len() as u64;
            println!(
                "{name:28} {size:4}: peak {:6.1} MiB of {} MiB: {}",
                peak as f64 / f64::from(1 << 20),
                budget.memory >> 20,
                match &result {
                    Ok(_) => "made".to_owned(),
                    Err(error) => format!("refused ({error})"),
                }
            );
            // What grows with the image is in the budget; a decoder's fixed state (its
            // tables, the inflate window) is not, and stays under `FIXED`.
            assert!(
                allocated <= budget.left_after(bytes.len() as u64) + FIXED,
                "{name} at {size}: allocated {allocated}"
            );
            match result {
                Ok(_) => made += 1,
                Err(ThumbnailError::OverBudget(_)) => refused += 1,
                Err(other) if name.starts_with("gif frame") => {
                    assert_eq!(other, ThumbnailError::Undecodable)
                }
                Err(other) => panic!("{name} at {size}: {other}"),
            }
        }
    }
    // Both sides of the line are exercised: neither everything refused nor everything made.
    assert!(made >= 20, "made {made}");
    assert!(refused >= 20, "refused {refused}");
}
