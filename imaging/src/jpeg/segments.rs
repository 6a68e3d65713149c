//! The marker segments at the head of a JPEG, as every reader here walks them: after SOI, each
//! marker (fill bytes skipped, standalone markers passed over) with its payload, up to the
//! first start of scan. A malformed or cut segment ends the walk, so a reader that has not
//! found what it needs by then refuses the file.

/// A segment: its marker, its payload (the length field excluded) and where it ends.
pub struct Segment<'a> {
    pub marker: u8,
    pub payload: &'a [u8],
    pub end: usize,
}

/// The segments of `bytes`, or none if it does not start with SOI. The walk stops after
/// yielding a start of scan (0xDA), at EOI, or at the first thing that is not a segment.
pub fn segments(bytes: &[u8]) -> impl Iterator<Item = Segment<'_>> {
    let mut at = if bytes.starts_with(&[0xff, 0xd8]) {
        2
    } else {
        usize::MAX
    };
    std::iter::from_fn(move || {
        if *bytes.get(at)? != 0xff {
            return None;
        }
        while *bytes.get(at)? == 0xff {
            at += 1;
        }
        let marker = bytes[at];
        at += 1;
        if matches!(marker, 0x01 | 0xd0..=0xd8) {
            // Standalone: no length, no payload.
            return Some(Segment {
                marker,
                payload: &[],
                end: at,
            });
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        let payload = bytes.get(at + 2..at + length.checked_sub(2)?.checked_add(2)?)?;
        at += length;
        let end = at;
        if matches!(marker, 0xda | 0xd9) {
            at = usize::MAX;
        }
        Some(Segment {
            marker,
            payload,
            end,
        })
    })
}

/// Whether `marker` starts a frame (SOF0 to SOF15, but DHT, JPG and DAC).
pub fn is_frame(marker: u8) -> bool {
    matches!(marker, 0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf)
}

/// A frame header (ITU T.81 B.2.2), as far as readers here use it.
pub struct FrameHeader {
    pub precision: u8,
    pub width: u32,
    pub height: u32,
    pub components: Vec<ComponentSpec>,
}

pub struct ComponentSpec {
    pub id: u8,
    /// Sampling factors, 1 to 4.
    pub horizontal: u32,
    pub vertical: u32,
    pub quantization: u8,
}

/// The frame header in a start-of-frame `payload`; `None` if it is cut short, declares no
/// pixels or no component, or a sampling factor outside 1 to 4.
pub fn frame_header(payload: &[u8]) -> Option<FrameHeader> {
    let header = payload.get(..6)?;
    let height = u32::from(u16::from_be_bytes([header[1], header[2]]));
    let width = u32::from(u16::from_be_bytes([header[3], header[4]]));
    let count = usize::from(header[5]);
    let specs = payload.get(6..6 + 3 * count)?;
    let components: Vec<ComponentSpec> = specs
        .chunks_exact(3)
        .map(|spec| ComponentSpec {
            id: spec[0],
            horizontal: u32::from(spec[1] >> 4),
            vertical: u32::from(spec[1] & 15),
            quantization: spec[2],
        })
        .collect();
    let valid = |side: u32| (1..=4).contains(&side);
    if width == 0
        || height == 0
        || count == 0
        || !components
            .iter()
            .all(|c| valid(c.horizontal) && valid(c.vertical))
    {
        return None;
    }
    Some(FrameHeader {
        precision: header[0],
        width,
        height,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_to_the_scan_past_fill_bytes_and_standalone_markers() {
        let bytes = [
            0xff, 0xd8, 0xff, 0xff, 0xe0, 0, 4, 1, 2, 0xff, 0x01, 0xff, 0xda, 0, 3, 9, 0xff, 0xc4,
            0, 2,
        ];
        let found: Vec<(u8, Vec<u8>, usize)> = segments(&bytes)
            .map(|s| (s.marker, s.payload.to_vec(), s.end))
            .collect();
        assert_eq!(
            found,
            vec![
                (0xe0, vec![1, 2], 9),
                (0x01, vec![], 11),
                (0xda, vec![9], 16)
            ]
        );
        // Not a JPEG; a length under 2; a segment cut short.
        assert_eq!(segments(&bytes[1..]).count(), 0);
        assert_eq!(segments(&[0xff, 0xd8, 0xff, 0xe0, 0, 1]).count(), 0);
        assert_eq!(segments(&[0xff, 0xd8, 0xff, 0xe0, 0, 9, 1]).count(), 0);
    }

    #[test]
    fn reads_frame_headers_and_refuses_impossible_ones() {
        let payload = [8, 0, 30, 0, 40, 2, 1, 0x22, 0, 2, 0x11, 1];
        let frame = frame_header(&payload).unwrap();
        assert_eq!((frame.precision, frame.width, frame.height), (8, 40, 30));
        let specs: Vec<(u8, u32, u32, u8)> = frame
            .components
            .iter()
            .map(|c| (c.id, c.horizontal, c.vertical, c.quantization))
            .collect();
        assert_eq!(specs, vec![(1, 2, 2, 0), (2, 1, 1, 1)]);
        assert!(frame_header(&payload[..11]).is_none());
        for (at, value) in [(2, 0), (4, 0), (5, 0), (7, 0x02), (7, 0x52)] {
            let mut broken = payload;
            broken[at] = value;
            assert!(frame_header(&broken).is_none(), "byte {at} = {value}");
        }
        assert!(is_frame(0xc0) && is_frame(0xc2) && is_frame(0xcf));
        assert!(!is_frame(0xc4) && !is_frame(0xc8) && !is_frame(0xcc) && !is_frame(0xda));
    }
}
