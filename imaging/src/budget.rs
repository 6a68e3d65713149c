//! What a decode may cost, and what it would cost, decided from the image's header before
//! anything large is allocated. A file of a few kilobytes can declare a hundred million
//! pixels; whether it is decoded is a question of its header, never of luck.
//!
//! Memory is counted in bytes held at once (the encoded file included: it is in memory while
//! it decodes); work in pixels decoded, since every decoder here costs about the same per
//! pixel. The figures behind the per-format factors are in docs/design-decisions.md
//! ("Decode budgets"); `tests/peak.rs` checks them against the allocator.

use crate::jpeg::segments::{Segment, frame_header, is_frame, segments};

/// Why a decode was refused before it began: what it would have cost, against what it may.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OverBudget(pub String);

/// What one thumbnail may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Bytes held at once: the encoded image, the decoder's buffers and the result.
    pub memory: u64,
    /// Pixels decoded at full size (JPEG decodes at reduced scale, but walks every block).
    pub pixels: u64,
}

impl Budget {
    /// For unit tests: room for anything they make.
    #[cfg(test)]
    pub(crate) const TESTS: Self = Self {
        memory: 1 << 30,
        pixels: 1 << 30,
    };

    /// The budget of a function with `memory_mib` of memory: half of it, the other half left
    /// to the runtime, the SDK clients, the allocator's slack and the response.
    pub fn for_memory_mib(memory_mib: u64, pixels: u64) -> Self {
        Self {
            memory: memory_mib.saturating_mul(1 << 20) / 2,
            pixels,
        }
    }

    /// Whether a decode that holds `memory` bytes and decodes `pixels` fits.
    pub fn allows(&self, memory: u64, pixels: u64) -> Result<(), OverBudget> {
        if pixels > self.pixels {
            return Err(OverBudget(format!(
                "decoding it means {pixels} pixels; at most {} are decoded",
                self.pixels
            )));
        }
        if memory > self.memory {
            return Err(OverBudget(format!(
                "decoding it needs about {} MiB at once; at most {} MiB is given to a decode",
                memory.div_ceil(1 << 20),
                self.memory >> 20
            )));
        }
        Ok(())
    }

    /// What a decoder may still allocate while `held` bytes are already spoken for.
    pub fn left_after(&self, held: u64) -> u64 {
        self.memory.saturating_sub(held)
    }
}

/// A progressive JPEG is decoded once per scan over all its coefficients: more scans than any
/// encoder writes (libjpeg 10, mozjpeg's searched scripts fewer still) only cost time.
pub const MAX_JPEG_SCANS: usize = 64;

/// A JPEG decoder walks every block of every component once per scan, whether the file holds
/// data for them or not (past its end a scan reads as zeros). A whole file spends at least one
/// bit on each block in its first scan, so a real photo walks a few blocks per byte (figures
/// in docs/design-decisions.md); a header that claims far more than its bytes can hold is cut
/// short or padded out, and its walk is refused rather than paid for.
pub const MAX_BLOCKS_PER_BYTE: u64 = 16;
/// What any JPEG may walk whatever its size: a small image in a tiny file.
pub const FREE_BLOCKS: u64 = 1 << 20;

/// What a JPEG's headers say, as far as cost goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegFrame {
    pub width: u32,
    pub height: u32,
    pub progressive: bool,
    /// Each component's sampling factors (horizontal, vertical), 1 to 4.
    pub sampling: Vec<(u32, u32)>,
    /// Start-of-scan markers in the file (an upper bound: segment payloads can hold the same
    /// two bytes).
    pub scans: usize,
    /// Bytes from the first start of scan to the end: what can hold entropy-coded data.
    pub scan_bytes: u64,
}

impl JpegFrame {
    /// The frame header of a JPEG, or `None` if it has none where one must be.
    pub fn read(bytes: &[u8]) -> Option<Self> {
        for Segment {
            marker,
            payload: segment,
            end,
        } in segments(bytes)
        {
            if is_frame(marker) {
                let header = frame_header(segment)?;
                // One pass over the rest of the file, which may be 64 MiB.
                let rest = &bytes[end..];
                let mut starts = memchr::memmem::find_iter(rest, &[0xff, 0xda]);
                let first_scan = starts.next();
                let scans = first_scan.map_or(0, |_| 1 + starts.count());
                let scan_bytes = first_scan.map_or(0, |at| (rest.len() - at) as u64);
                return Some(Self {
                    width: header.width,
                    height: header.height,
                    progressive: matches!(marker, 0xc2 | 0xc6 | 0xca | 0xce),
                    sampling: header
                        .components
                        .iter()
                        .map(|c| (c.horizontal, c.vertical))
                        .collect(),
                    scans,
                    scan_bytes,
                });
            }
            if matches!(marker, 0xda | 0xd9) {
                return None;
            }
        }
        None
    }

    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Blocks a decoder walks: each scan over every block (an upper bound; a scan of one
    /// component walks only its own).
    pub fn blocks_walked(&self) -> u64 {
        self.scans.max(1) as u64 * self.blocks().sum::<u64>()
    }

    /// Whether its scan bytes can hold what the header claims (`MAX_BLOCKS_PER_BYTE`).
    pub fn walk_fits(&self) -> Result<(), OverBudget> {
        let allowed = MAX_BLOCKS_PER_BYTE * self.scan_bytes + FREE_BLOCKS;
        let walked = self.blocks_walked();
        if walked > allowed {
            return Err(OverBudget(format!(
                "its {} scan(s) would walk {walked} blocks; {} bytes of scan data are given {allowed}",
                self.scans.max(1),
                self.scan_bytes
            )));
        }
        Ok(())
    }

    /// Blocks of each component, padded to whole MCUs as decoders allocate them.
    fn blocks(&self) -> impl Iterator<Item = u64> + '_ {
        let max_h = self.sampling.iter().map(|s| s.0).max().unwrap_or(1);
        let max_v = self.sampling.iter().map(|s| s.1).max().unwrap_or(1);
        let mcus_across = u64::from(self.width.div_ceil(8 * max_h));
        let mcus_down = u64::from(self.height.div_ceil(8 * max_v));
        self.sampling
            .iter()
            .map(move |&(h, v)| mcus_across * u64::from(h) * mcus_down * u64::from(v))
    }

    /// Bytes held by a decode at `scale` (1, 2, 4 or 8 pixels a side for each block): the
    /// component planes at that scale and the interleaved result, plus for a progressive
    /// frame every coefficient of every block (64 of 2 bytes), which it keeps until the end.
    pub fn decode_bytes(&self, scale: u32) -> u64 {
        let per_block = u64::from(scale * scale);
        let planes: u64 = self.blocks().map(|blocks| blocks * per_block).sum();
        // As many pixels as the first (luma) plane: one byte each for gray, four for color
        // (three in the decoder's result, with room for the copy its caller makes).
        let channels = if self.sampling.len() == 1 { 1 } else { 4 };
        let result = self.blocks().next().unwrap_or(0) * per_block * channels;
        let coefficients: u64 = if self.progressive {
            self.blocks().map(|blocks| blocks * 128).sum()
        } else {
            0
        };
        planes + result + coefficients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_half_the_function() {
        let budget = Budget::for_memory_mib(256, 1000);
        assert_eq!(budget.memory, 128 << 20);
        assert!(budget.allows(128 << 20, 1000).is_ok());
        assert!(matches!(
            budget.allows((128 << 20) + 1, 10),
            Err(OverBudget(_))
        ));
        assert!(matches!(budget.allows(10, 1001), Err(OverBudget(_))));
        assert_eq!(budget.left_after(1 << 20), 127 << 20);
        assert_eq!(budget.left_after(u64::MAX), 0);
    }

    #[test]
    fn progressive_frames_count_their_coefficients() {
        // 4:2:0, 4000 x 3000: 16 x 16 MCUs; luma 4 blocks each, chroma 1.
        let frame = |progressive| JpegFrame {
            width: 4000,
            height: 3000,
            progressive,
            sampling: vec![(2, 2), (1, 1), (1, 1)],
            scans: 1,
            scan_bytes: 0,
        };
        let mcus = 250 * 188;
        assert_eq!(
            frame(true).decode_bytes(1) - frame(false).decode_bytes(1),
            mcus * 6 * 128
        );
        // At 1/8, a block is a pixel: planes 6 bytes an MCU, the result 4 for each luma block.
        assert_eq!(frame(false).decode_bytes(1), mcus * 6 + mcus * 16);
    }

    #[test]
    fn a_walk_is_bounded_by_the_bytes() {
        // 9990 x 9990, 4:2:0: 625 x 625 MCUs of 6 blocks.
        let frame = |scans| JpegFrame {
            width: 9990,
            height: 9990,
            progressive: scans > 1,
            sampling: vec![(2, 2), (1, 1), (1, 1)],
            scans,
            scan_bytes: 0,
        };
        let blocks = 625 * 625 * 6;
        assert_eq!(frame(1).blocks_walked(), blocks);
        assert_eq!(frame(10).blocks_walked(), blocks * 10);
        // One scan: (blocks - FREE_BLOCKS) / 16 bytes of scan are enough, a byte less is not.
        let enough = (blocks - FREE_BLOCKS).div_ceil(MAX_BLOCKS_PER_BYTE);
        let with = |scans, scan_bytes| JpegFrame {
            scan_bytes,
            ..frame(scans)
        };
        assert!(with(1, enough).walk_fits().is_ok());
        assert!(with(1, enough - 1).walk_fits().is_err());
        assert!(with(10, enough).walk_fits().is_err());
    }

    #[test]
    fn frame_headers_are_read_past_other_segments() {
        let mut bytes = vec![0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2];
        bytes.extend_from_slice(&[0xff, 0xc2, 0, 17, 8, 0, 30, 0, 40, 3]);
        bytes.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes.extend_from_slice(&[0xff, 0xda, 0, 2, 0xff, 0xda, 0, 2, 0xff, 0xd9]);
        let frame = JpegFrame::read(&bytes).unwrap();
        assert_eq!(
            (frame.width, frame.height, frame.progressive),
            (40, 30, true)
        );
        assert_eq!(frame.sampling, vec![(2, 2), (1, 1), (1, 1)]);
        assert_eq!(frame.scans, 2);
        assert_eq!(frame.scan_bytes, 10);
        // Cut inside the frame header, or a zero sampling factor: no frame.
        assert_eq!(JpegFrame::read(&bytes[..20]), None);
        let mut zero = bytes.clone();
        zero[19] = 0x02;
        assert_eq!(JpegFrame::read(&zero), None);
    }
}
