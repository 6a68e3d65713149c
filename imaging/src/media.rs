//! Image type detection from the bytes' own signature. The file name and the request's
//! `Content-Type` are never trusted: a stored `Content-Type` is served back with `nosniff`,
//! so it must describe what the bytes really are.
//!
//! Hand-written rather than a general sniffing crate on purpose: the API accepts a closed list
//! of raster formats and must refuse everything else (SVG above all, which can carry script),
//! and a few structural checks here (e.g. the BMP header size) stop text that merely starts
//! with "BM" from passing as an image.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Png,
    Jpeg,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Avif,
    Heic,
    Heif,
}

impl MediaType {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Self::Gif),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                b'V',
                b'P',
                b'8',
                ..,
            ] => Some(Self::Webp),
            [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Some(Self::Tiff),
            [b'B', b'M', rest @ ..] if is_bmp_header(rest) => Some(Self::Bmp),
            [_, _, _, _, b'f', b't', b'y', b'p', ..] => sniff_isobmff(bytes),
            _ => None,
        }
    }

    pub const ALL: [Self; 9] = [
        Self::Png,
        Self::Jpeg,
        Self::Gif,
        Self::Webp,
        Self::Bmp,
        Self::Tiff,
        Self::Avif,
        Self::Heic,
        Self::Heif,
    ];

    /// The type as `as_str` writes it (read back from storage); `None` for anything else.
    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|media| media.as_str() == mime)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Bmp => "image/bmp",
            Self::Tiff => "image/tiff",
            Self::Avif => "image/avif",
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
        }
    }
}

/// After "BM": file size (4), reserved (4), pixel offset (4), then the DIB header's own size,
/// which is one of a handful of values.
fn is_bmp_header(rest: &[u8]) -> bool {
    let Some(size) = rest.get(12..16) else {
        return false;
    };
    let dib = u32::from_le_bytes(size.try_into().expect("four bytes"));
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// ISO base media files (AVIF, HEIC/HEIF) name their brands in the leading `ftyp` box: the
/// major brand, then a list of compatible ones.
fn sniff_isobmff(bytes: &[u8]) -> Option<MediaType> {
    let box_len = u32::from_be_bytes(bytes[0..4].try_into().expect("four bytes")) as usize;
    if box_len < 16 || !box_len.is_multiple_of(4) {
        return None;
    }
    let ftyp = bytes.get(8..box_len.min(bytes.len()))?;
    let major = ftyp.get(0..4)?;
    // Compatible brands start after major brand (4) and minor version (4).
    let compatible = ftyp.get(8..).unwrap_or_default().chunks_exact(4);
    let brands = std::iter::once(major).chain(compatible);

    let mut found = None;
    for brand in brands {
        let kind = match brand {
            b"avif" | b"avis" => Some(MediaType::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some(MediaType::Heic),
            b"mif1" | b"msf1" => Some(MediaType::Heif),
            _ => None,
        };
        // The major brand decides unless it is the generic HEIF one; then a more specific
        // compatible brand (an AVIF is usually `mif1` + `avif`) wins.
        match (found, kind) {
            (None, Some(k)) => found = Some(k),
            (Some(MediaType::Heif), Some(k @ (MediaType::Avif | MediaType::Heic))) => {
                found = Some(k)
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_mime_type() {
        for media in MediaType::ALL {
            assert_eq!(MediaType::from_mime(media.as_str()), Some(media));
        }
        assert_eq!(MediaType::from_mime("image/svg+xml"), None);
        assert_eq!(MediaType::from_mime("IMAGE/PNG"), None);
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let len = 16 + 4 * compatible.len();
        let mut out = (len as u32).to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(b"\0\0\0\x08meta");
        out
    }

    #[test]
    fn recognises_each_supported_format() {
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        let cases: Vec<(Vec<u8>, MediaType)> = vec![
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), MediaType::Png),
            (b"\xff\xd8\xff\xe0\0\x10JFIF".to_vec(), MediaType::Jpeg),
            (b"GIF89a\x01\0\x01\0".to_vec(), MediaType::Gif),
            (b"GIF87a\x01\0\x01\0".to_vec(), MediaType::Gif),
            (b"RIFF\x24\0\0\0WEBPVP8 ".to_vec(), MediaType::Webp),
            (b"II*\0\x08\0\0\0".to_vec(), MediaType::Tiff),
            (b"MM\0*\0\0\0\x08".to_vec(), MediaType::Tiff),
            (bmp, MediaType::Bmp),
            (ftyp(b"avif", &[b"mif1", b"miaf"]), MediaType::Avif),
            (ftyp(b"mif1", &[b"mif1", b"avif"]), MediaType::Avif),
            (ftyp(b"heic", &[b"mif1", b"heic"]), MediaType::Heic),
            (ftyp(b"mif1", &[b"mif1", b"heic"]), MediaType::Heic),
            (ftyp(b"mif1", &[b"mif1"]), MediaType::Heif),
        ];
        for (bytes, expected) in cases {
            assert_eq!(MediaType::sniff(&bytes), Some(expected), "{bytes:?}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let cases: [&[u8]; 9] = [
            b"",
            b"\x89PNG",
            svg,
            b"<?xml version=\"1.0\"?><svg/>",
            b"BMW is a car, not a bitmap",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"%PDF-1.7",
            &ftyp(b"isom", &[b"mp41"]),
            b"\0\0\0\x03ftypavif",
        ];
        for bytes in cases {
            assert_eq!(MediaType::sniff(bytes), None, "{bytes:?}");
        }
    }
}
