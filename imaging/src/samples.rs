//! Hand-made images for tests, fuzz seeds and benchmarks: photo-like pixels, a JPEG given an
//! EXIF orientation, and the boxes of a HEIF or AVIF header. Compiled for tests and with the
//! `samples` feature only, never into the function.

use image::{Rgba, RgbaImage};

/// A xorshift32 stream: noise that is the same on every run for one `seed`.
pub fn noise(seed: u32) -> impl Iterator<Item = u32> {
    let mut state = seed | 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    })
}

/// Photo-like pixels: smooth gradients with a little noise, opaque. They compress like a photo
/// (neither a flat colour nor pure noise), in every format.
pub fn photo(width: u32, height: u32, seed: u32) -> RgbaImage {
    let mut noise = noise(seed);
    RgbaImage::from_fn(width, height, |x, y| {
        let grain = (noise.next().unwrap_or_default() & 0x1f) as u8;
        Rgba([
            (x * 255 / width) as u8 ^ grain,
            (y * 255 / height) as u8,
            ((x + y) % 256) as u8,
            255,
        ])
    })
}

/// How the TIFF inside an EXIF segment orders its bytes: cameras write either.
#[derive(Debug, Clone, Copy)]
pub enum ByteOrder {
    Big,
    Little,
}

impl ByteOrder {
    fn u16(self, value: u16) -> [u8; 2] {
        match self {
            Self::Big => value.to_be_bytes(),
            Self::Little => value.to_le_bytes(),
        }
    }

    fn u32(self, value: u32) -> [u8; 4] {
        match self {
            Self::Big => value.to_be_bytes(),
            Self::Little => value.to_le_bytes(),
        }
    }
}

/// `jpeg` with an EXIF APP1 segment right after SOI whose only tag is `orientation`.
pub fn with_orientation(jpeg: &[u8], orientation: u16, order: ByteOrder) -> Vec<u8> {
    let mut tiff = match order {
        ByteOrder::Big => b"MM".to_vec(),
        ByteOrder::Little => b"II".to_vec(),
    };
    tiff.extend_from_slice(&order.u16(42));
    tiff.extend_from_slice(&order.u32(8)); // the first IFD, right after this header
    tiff.extend_from_slice(&order.u16(1)); // one entry
    tiff.extend_from_slice(&order.u16(0x0112)); // Orientation
    tiff.extend_from_slice(&order.u16(3)); // SHORT
    tiff.extend_from_slice(&order.u32(1)); // one value
    tiff.extend_from_slice(&order.u16(orientation));
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&order.u32(0)); // no next IFD
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The header of a HEIF-family file of `brand` (`heic`, `avif`, ...): ftyp, then meta > iprp
/// > ipco > ispe (its stored size) and, if given, irot (quarter turns), as encoders write them.
pub fn heif_header(brand: &[u8; 4], (width, height): (u32, u32), irot: Option<u8>) -> Vec<u8> {
    let boxed = |kind: &[u8], body: &[u8]| {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    };
    let mut ispe = vec![0; 4];
    ispe.extend_from_slice(&width.to_be_bytes());
    ispe.extend_from_slice(&height.to_be_bytes());
    let mut properties = boxed(b"ispe", &ispe);
    if let Some(turn) = irot {
        properties.extend(boxed(b"irot", &[turn]));
    }
    let iprp = boxed(b"iprp", &boxed(b"ipco", &properties));
    let mut meta = vec![0; 4];
    meta.extend(iprp);
    let mut file = boxed(b"ftyp", &[&brand[..], &[0, 0, 0, 0], b"mif1"].concat());
    file.extend(boxed(b"meta", &meta));
    file
}
