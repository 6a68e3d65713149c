//! The headers up to the scan: the frame, its tables and its scan header, for the files the DC
//! decoder reads; `None` for any other.

use super::huffman::TableSpec;
use super::segments::{Segment, frame_header, segments};

pub(super) struct Component {
    pub(super) id: u8,
    pub(super) horizontal: usize,
    pub(super) vertical: usize,
    pub(super) quantization: usize,
    pub(super) dc_table: usize,
    pub(super) ac_table: usize,
    /// Blocks across and down, padded to whole MCUs; one value per block.
    pub(super) blocks_across: usize,
    pub(super) blocks_down: usize,
    pub(super) plane: Vec<u8>,
}

/// What the headers say, up to the start of the scan's entropy-coded data.
pub(super) struct Frame {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) components: Vec<Component>,
    pub(super) dc_tables: [Option<TableSpec>; 4],
    pub(super) ac_tables: [Option<TableSpec>; 4],
    /// The DC step of each quantization table.
    pub(super) dc_quantization: [Option<u16>; 4],
    pub(super) restart_interval: usize,
    pub(super) scan_start: usize,
}

pub(super) fn read_headers(bytes: &[u8]) -> Option<Frame> {
    let mut size = None;
    let mut components = Vec::new();
    let mut dc_tables: [Option<TableSpec>; 4] = Default::default();
    let mut ac_tables: [Option<TableSpec>; 4] = Default::default();
    let mut dc_quantization = [None; 4];
    let mut restart_interval = 0;
    for Segment {
        marker,
        payload: segment,
        end,
    } in segments(bytes)
    {
        match marker {
            // Baseline and extended sequential Huffman frames.
            0xc0 | 0xc1 => {
                let header = frame_header(segment)?;
                // One frame header: a second would describe a second image.
                if size.is_some()
                    || header.precision != 8
                    || !matches!(header.components.len(), 1 | 3)
                    || header.components.iter().any(|c| c.quantization > 3)
                {
                    return None;
                }
                components = header
                    .components
                    .iter()
                    .map(|c| Component {
                        id: c.id,
                        horizontal: c.horizontal as usize,
                        vertical: c.vertical as usize,
                        quantization: usize::from(c.quantization),
                        dc_table: 0,
                        ac_table: 0,
                        blocks_across: 0,
                        blocks_down: 0,
                        plane: Vec::new(),
                    })
                    .collect();
                size = Some((header.width as usize, header.height as usize));
            }
            // Progressive, lossless, hierarchical or arithmetic-coded: the general decoder.
            0xc2 | 0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => return None,
            0xc4 => {
                let mut rest = segment;
                while !rest.is_empty() {
                    let (class, id) = (rest[0] >> 4, usize::from(rest[0] & 15));
                    let counts: &[u8; 16] = rest.get(1..17)?.try_into().ok()?;
                    let total: usize = counts.iter().map(|&count| usize::from(count)).sum();
                    let table = TableSpec::read(counts, rest.get(17..17 + total)?)?;
                    match (class, id) {
                        (0, 0..=3) => dc_tables[id] = Some(table),
                        (1, 0..=3) => ac_tables[id] = Some(table),
                        _ => return None,
                    }
                    rest = &rest[17 + total..];
                }
            }
            0xdb => {
                let mut rest = segment;
                while !rest.is_empty() {
                    let (precision, id) = (rest[0] >> 4, usize::from(rest[0] & 15));
                    let (dc, length) = match precision {
                        0 => (u16::from(*rest.get(1)?), 65),
                        1 => (u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?]), 129),
                        _ => return None,
                    };
                    *dc_quantization.get_mut(id)? = Some(dc);
                    rest = rest.get(length..)?;
                }
            }
            0xdd => {
                restart_interval =
                    usize::from(u16::from_be_bytes([*segment.first()?, *segment.get(1)?]))
            }
            // Adobe's marker can say the three components are RGB, not YCbCr.
            0xee if segment.starts_with(b"Adobe") => return None,
            0xda => {
                let (width, height) = size?;
                let count = usize::from(*segment.first()?);
                if count != components.len() {
                    return None;
                }
                for index in 0..count {
                    let spec = segment.get(1 + 2 * index..3 + 2 * index)?;
                    let component = components.iter_mut().find(|c| c.id == spec[0])?;
                    let (dc_table, ac_table) =
                        (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
                    if dc_table > 3 || ac_table > 3 {
                        return None;
                    }
                    component.dc_table = dc_table;
                    component.ac_table = ac_table;
                }
                let tail = segment.get(1 + 2 * count..4 + 2 * count)?;
                if tail != [0, 63, 0] {
                    return None;
                }
                // Components named R, G, B without an Adobe marker are RGB too.
                if components.iter().map(|c| c.id).eq(*b"RGB") {
                    return None;
                }
                return Some(Frame {
                    width,
                    height,
                    components,
                    dc_tables,
                    ac_tables,
                    dc_quantization,
                    restart_interval,
                    scan_start: end,
                });
            }
            0xd9 => return None,
            _ => {}
        }
    }
    None
}
