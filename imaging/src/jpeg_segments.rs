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
}
