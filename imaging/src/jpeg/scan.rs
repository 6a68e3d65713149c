//! The walk over the scan: each block's DC value kept, its AC coefficients stepped over.

use super::bits::Bits;
use super::headers::Frame;
use super::huffman::{Huffman, SKIP_ADVANCE, SKIP_BITS, SKIP_ENTRIES, SKIP_EOB};

/// Walks the scan, keeping each block's DC value.
pub(super) fn decode_scan(bytes: &[u8], frame: &mut Frame) -> Option<()> {
    let max_horizontal = frame.components.iter().map(|c| c.horizontal).max()?;
    let max_vertical = frame.components.iter().map(|c| c.vertical).max()?;
    let interleaved = frame.components.len() > 1;
    // One component alone is coded block by block over its own size, not in MCUs.
    let (mcus_across, mcus_down) = if interleaved {
        (
            frame.width.div_ceil(8 * max_horizontal),
            frame.height.div_ceil(8 * max_vertical),
        )
    } else {
        (frame.width.div_ceil(8), frame.height.div_ceil(8))
    };
    // Built here, once each, only the tables this scan uses.
    let mut dc_built: [Option<Huffman>; 4] = Default::default();
    let mut ac_built: [Option<Huffman>; 4] = Default::default();
    for component in &frame.components {
        let (dc, ac) = (component.dc_table, component.ac_table);
        if dc_built[dc].is_none() {
            dc_built[dc] = Some(Huffman::new(frame.dc_tables[dc].as_ref()?));
        }
        if ac_built[ac].is_none() {
            ac_built[ac] = Some(Huffman::new(frame.ac_tables[ac].as_ref()?));
        }
    }
    let mut tables = Vec::with_capacity(frame.components.len());
    for component in &mut frame.components {
        let (across, down) = if interleaved {
            (component.horizontal, component.vertical)
        } else {
            (1, 1)
        };
        component.blocks_across = mcus_across * across;
        component.blocks_down = mcus_down * down;
        component.plane = vec![0; component.blocks_across * component.blocks_down];
        tables.push((
            dc_built[component.dc_table].as_ref()?,
            ac_built[component.ac_table].as_ref()?,
            i64::from(frame.dc_quantization[component.quantization]?),
            across,
            down,
        ));
    }
    let mut bits = Bits::new(bytes, frame.scan_start);
    let mut predictions = vec![0i32; frame.components.len()];
    let mut restarts = 0;
    for mcu in 0..mcus_across * mcus_down {
        // Past the end of its data a scan reads as zeros, which decode as blocks: stopping
        // here rather than at the end keeps the work proportional to the bytes, not to the
        // pixels a header claims.
        if !bits.within_data() {
            return None;
        }
        if frame.restart_interval > 0 && mcu > 0 && mcu % frame.restart_interval == 0 {
            bits.restart(restarts)?;
            restarts += 1;
            predictions.fill(0);
        }
        let (mcu_x, mcu_y) = (mcu % mcus_across, mcu / mcus_across);
        for ((component, &(dc, ac, step, across, down)), prediction) in frame
            .components
            .iter_mut()
            .zip(&tables)
            .zip(&mut predictions)
        {
            for block_y in 0..down {
                for block_x in 0..across {
                    // Only a broken file's predictions leave i32; its product with a 16-bit
                    // step is in i64 whatever the prediction.
                    *prediction = prediction.checked_add(dc_difference(&mut bits, dc)?)?;
                    skip_ac(&mut bits, ac)?;
                    // The general decoder's 1×1 inverse DCT: (DC × step + 128 × 8) / 8.
                    let value = (i64::from(*prediction) * step + 1024) / 8;
                    let (x, y) = (mcu_x * across + block_x, mcu_y * down + block_y);
                    component.plane[y * component.blocks_across + x] = value.clamp(0, 255) as u8;
                }
            }
        }
    }
    bits.within_data().then_some(())
}

#[inline]
fn dc_difference(bits: &mut Bits<'_>, table: &Huffman) -> Option<i32> {
    bits.refill();
    let size = u32::from(table.decode(bits)?);
    if size > 11 {
        return None;
    }
    Some(bits.receive_extend(size))
}

/// Steps over one block's 63 AC coefficients.
#[inline]
fn skip_ac(bits: &mut Bits<'_>, table: &Huffman) -> Option<()> {
    let mut index = 1;
    while index < 64 {
        // A code (16 bits at most) and its value (10 at most for 8-bit samples).
        if bits.count < 26 {
            bits.refill();
        }
        let entry = table.skip[bits.peek(SKIP_BITS) as usize % SKIP_ENTRIES];
        let advance = usize::from(entry & SKIP_ADVANCE);
        let end = entry & SKIP_EOB != 0;
        // Only if the block does not end inside the entry: past its last coefficient the
        // bits are the next block's.
        if entry != 0 && index + advance + usize::from(end) <= 64 {
            bits.consume(u32::from(entry >> 8));
            index += advance;
            if end {
                return Some(());
            }
            continue;
        }
        let symbol = table.decode(bits)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        match (run, size) {
            (0, 0) => return Some(()),
            (15, 0) => index += 16,
            (_, 0) => return None,
            // Past what 8-bit samples can have: a corrupt table or stream.
            (_, 11..) => return None,
            _ => {
                bits.consume(size);
                index += run + 1;
            }
        }
    }
    (index == 64).then_some(())
}
