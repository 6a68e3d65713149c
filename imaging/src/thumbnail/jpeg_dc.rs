//! A JPEG at 1/8 scale from its DC coefficients alone. At that scale each 8×8 block becomes
//! one pixel, the block's mean, which is its DC coefficient: the 63 AC coefficients only have
//! to be stepped over in the entropy-coded data, not decoded into values, dequantized or
//! transformed. Every decoder does the Huffman walk; this one does nothing else, which is what
//! makes it faster than a general decoder at 1/8 (docs/design-decisions.md, "Thumbnails").
//!
//! It reads baseline Huffman JPEGs with one component (gray) or three (YCbCr), in one scan,
//! with or without restart markers: nearly every photo. Anything else, and anything it finds
//! wrong, is `None`, and the general decoder (`jpeg-decoder`) has the last word. Its output is
//! the general decoder's 1/8 output (same rounding, same YCbCr conversion), except that chroma
//! is repeated rather than interpolated where it is subsampled.

use image::{DynamicImage, GrayImage, RgbImage};

use crate::jpeg_segments::{Segment, frame_header, segments};

/// Code lengths looked up in one step; longer codes (rare) take the slow path.
const FAST_BITS: u32 = 9;
const FAST_ENTRIES: usize = 1 << FAST_BITS;
/// AC coefficients are stepped over several at a time: all the whole codes (with their
/// values) that fit in the next `SKIP_BITS` bits.
const SKIP_BITS: u32 = 13;
const SKIP_ENTRIES: usize = 1 << SKIP_BITS;
/// In a skip entry: bits used << 8 | end of block | coefficients moved over.
const SKIP_EOB: u16 = 0x80;
const SKIP_ADVANCE: u16 = 0x7f;

/// A Huffman table as a DHT segment defines it: how many codes of each length, and their
/// symbols. Checked when read, built (`Huffman::new`) only when a scan uses it, so a file
/// that defines tables over and over costs what reading them costs, not a build each.
#[derive(Clone)]
struct TableSpec {
    counts: [u8; 16],
    symbols: Vec<u8>,
}

impl TableSpec {
    /// `None` unless the counts form a prefix code (no length has more codes than are left
    /// for it, ITU T.81 Annex C) and the symbols are all there.
    fn read(counts: &[u8; 16], symbols: &[u8]) -> Option<Self> {
        let mut code = 0u32;
        for length in 1..=16 {
            code += u32::from(counts[length - 1]);
            if code > 1 << length {
                return None;
            }
            code <<= 1;
        }
        let total: usize = counts.iter().map(|&count| usize::from(count)).sum();
        Some(Self {
            counts: *counts,
            symbols: symbols.get(..total)?.to_vec(),
        })
    }
}

/// A Huffman table, canonical codes as in ITU T.81 Annex C and F.2.2.3.
struct Huffman {
    /// By the next `FAST_BITS` bits: code length << 8 | symbol, or 0 for a longer code.
    fast: [u16; FAST_ENTRIES],
    /// By the next `SKIP_BITS` bits, for AC tables: the whole codes in them, as bits used
    /// << 8 | `SKIP_EOB` if the last is an end of block | how far the coefficient index
    /// moves; 0 if not even one code is whole.
    skip: Box<[u16; SKIP_ENTRIES]>,
    /// For each length: its largest code (-1 if none), and the index of its first symbol minus
    /// its first code.
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(spec: &TableSpec) -> Self {
        let (counts, symbols) = (&spec.counts, &spec.symbols[..]);
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut fast = [0u16; FAST_ENTRIES];
        let mut code = 0u32;
        let mut index = 0usize;
        for length in 1..=16u32 {
            let count = usize::from(counts[length as usize - 1]);
            offset[length as usize] = index as i32 - code as i32;
            for _ in 0..count {
                let symbol = symbols[index];
                if length <= FAST_BITS {
                    let first = (code << (FAST_BITS - length)) as usize;
                    let entry = (length as u16) << 8 | u16::from(symbol);
                    fast[first..first + (1 << (FAST_BITS - length))].fill(entry);
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                max_code[length as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        let mut table = Self {
            fast,
            skip: Box::new([0; SKIP_ENTRIES]),
            max_code,
            offset,
            symbols: symbols[..index].to_vec(),
        };
        for bits in 0..SKIP_ENTRIES as u32 {
            table.skip[bits as usize] = table.skip_entry(bits);
        }
        table
    }

    /// The AC codes at the front of `bits` (`SKIP_BITS` of them), read as `decode` and
    /// `skip_ac` read them one at a time.
    fn skip_entry(&self, bits: u32) -> u16 {
        let (mut used, mut advance) = (0u32, 0u16);
        'codes: while used < SKIP_BITS {
            let left = SKIP_BITS - used;
            for length in 1..=left {
                let code = ((bits >> (left - length)) & ((1 << length) - 1)) as i32;
                if code > self.max_code[length as usize] {
                    continue;
                }
                let Some(&symbol) = usize::try_from(self.offset[length as usize] + code)
                    .ok()
                    .and_then(|index| self.symbols.get(index))
                else {
                    break 'codes;
                };
                let (run, size) = (u16::from(symbol >> 4), u32::from(symbol & 15));
                if length + size > left {
                    break 'codes;
                }
                match (run, size) {
                    (0, 0) => return ((used + length) as u16) << 8 | SKIP_EOB | advance,
                    (15, 0) => advance += 16,
                    (_, 0) | (_, 11..) => break 'codes,
                    _ => advance += run + 1,
                }
                used += length + size;
                if advance > SKIP_ADVANCE {
                    return 0;
                }
                continue 'codes;
            }
            break;
        }
        (used as u16) << 8 | advance
    }

    /// The next symbol; `bits` holds at least 16 bits.
    fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
        let entry = self.fast[bits.peek(FAST_BITS) as usize % FAST_ENTRIES];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let peeked = bits.peek(16) as i32;
        for length in FAST_BITS + 1..=16 {
            let code = peeked >> (16 - length);
            if code <= self.max_code[length as usize] {
                bits.consume(length);
                let index = self.offset[length as usize] + code;
                return self.symbols.get(usize::try_from(index).ok()?).copied();
            }
        }
        None
    }
}

/// The entropy-coded bits, unstuffed (0xFF 0x00 is 0xFF); a marker or the end of the data
/// reads as zeros, counted so that reading into them is caught.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    word: u64,
    count: u32,
    /// Zero bits supplied past a marker or the end.
    padding: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], at: usize) -> Self {
        Self {
            data,
            at,
            word: 0,
            count: 0,
            padding: 0,
        }
    }

    /// At least 57 bits in `word`.
    #[inline]
    fn refill(&mut self) {
        // Eight bytes at once when none of them is 0xFF (no stuffing, no marker): as many
        // whole bytes as fit are taken; the bits of the next one that also land in `word`
        // are the ones the next refill puts there again.
        if let Some(chunk) = self.data.get(self.at..self.at + 8) {
            let next = u64::from_be_bytes(chunk.try_into().expect("eight bytes"));
            let inverted = !next;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 && self.padding == 0 {
                self.word |= next >> self.count;
                let taken = (63 - self.count) / 8;
                self.at += taken as usize;
                self.count += taken * 8;
                return;
            }
        }
        self.refill_slowly();
    }

    fn refill_slowly(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.at..self.at + 2) {
                _ if self.padding > 0 => None,
                Some([0xff, 0x00]) => {
                    self.at += 2;
                    Some(0xff)
                }
                Some([0xff, _]) => None,
                _ => match self.data.get(self.at) {
                    Some(&byte) if byte != 0xff => {
                        self.at += 1;
                        Some(byte)
                    }
                    _ => None,
                },
            };
            if byte.is_none() {
                self.padding += 8;
            }
            self.word |= u64::from(byte.unwrap_or(0)) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline]
    fn peek(&self, count: u32) -> u32 {
        (self.word >> (64 - count)) as u32
    }

    #[inline]
    fn consume(&mut self, count: u32) {
        self.word <<= count;
        self.count -= count;
    }

    /// `size` bits as a signed coefficient value (T.81 F.2.2.1, EXTEND).
    #[inline]
    fn receive_extend(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let value = self.peek(size) as i32;
        self.consume(size);
        if value < 1 << (size - 1) {
            value - (1 << size) + 1
        } else {
            value
        }
    }

    /// Whether what was read so far was all real data.
    fn within_data(&self) -> bool {
        self.padding <= self.count
    }

    /// Past a restart marker `RSTn`, `n` = `index` mod 8: drops the padding bits before it.
    fn restart(&mut self, index: usize) -> Option<()> {
        // Only the padding of the last byte may be left: more would be data skipped over.
        if !self.within_data() || self.count - self.padding >= 8 {
            return None;
        }
        match self.data.get(self.at..self.at + 2) {
            Some(&[0xff, marker]) if usize::from(marker) == 0xd0 + index % 8 => {
                self.at += 2;
                self.word = 0;
                self.count = 0;
                self.padding = 0;
                Some(())
            }
            _ => None,
        }
    }
}

struct Component {
    id: u8,
    horizontal: usize,
    vertical: usize,
    quantization: usize,
    dc_table: usize,
    ac_table: usize,
    /// Blocks across and down, padded to whole MCUs; one value per block.
    blocks_across: usize,
    blocks_down: usize,
    plane: Vec<u8>,
}

/// What the headers say, up to the start of the scan's entropy-coded data.
struct Frame {
    width: usize,
    height: usize,
    components: Vec<Component>,
    dc_tables: [Option<TableSpec>; 4],
    ac_tables: [Option<TableSpec>; 4],
    /// The DC step of each quantization table.
    dc_quantization: [Option<u16>; 4],
    restart_interval: usize,
    scan_start: usize,
}

/// The 1/8-scale image (`width.div_ceil(8)` × `height.div_ceil(8)`), or `None` if the file is
/// not one this decoder reads, something in it is wrong, its frame is past `max_pixels`, or
/// `enough(width, height)` says that 1/8 of it would be too small.
pub fn decode_eighth(
    bytes: &[u8],
    max_pixels: u64,
    enough: impl FnOnce(u32, u32) -> bool,
) -> Option<DynamicImage> {
    let mut frame = read_headers(bytes)?;
    if (frame.width as u64) * (frame.height as u64) > max_pixels
        || !enough(frame.width as u32, frame.height as u32)
    {
        return None;
    }
    decode_scan(bytes, &mut frame)?;
    assemble(&frame)
}

/// What this decoder makes of a file.
pub enum Eighth {
    /// The file, at 1/8.
    Image(DynamicImage),
    /// Its scan read to the last block, the image not asked for.
    Whole,
    /// Not a kind this decoder reads (or its headers are not readable): another decoder's.
    NotRead,
    /// A kind it reads, whose scan is damaged or ends before its last block: no decoder
    /// should walk the rest of it.
    Broken,
}

/// The file at 1/8 if it is a kind this decoder reads (or, without `image`, only whether its
/// scan holds every block), with the reason if not. Its work is proportional to the scan's
/// bytes: it stops where the data stops.
pub fn read_eighth(bytes: &[u8], max_pixels: u64, image: bool) -> Eighth {
    let Some(mut frame) = read_headers(bytes) else {
        return Eighth::NotRead;
    };
    if (frame.width as u64) * (frame.height as u64) > max_pixels {
        return Eighth::NotRead;
    }
    if decode_scan(bytes, &mut frame).is_none() {
        return Eighth::Broken;
    }
    if !image {
        return Eighth::Whole;
    }
    assemble(&frame).map_or(Eighth::Broken, Eighth::Image)
}

fn read_headers(bytes: &[u8]) -> Option<Frame> {
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

/// Walks the scan, keeping each block's DC value.
fn decode_scan(bytes: &[u8], frame: &mut Frame) -> Option<()> {
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

/// The 1/8 image from the planes: gray, or YCbCr to RGB with chroma repeated over the luma
/// pixels it covers.
fn assemble(frame: &Frame) -> Option<DynamicImage> {
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

#[cfg(test)]
mod tests {
    //! Against `jpeg-decoder` at 1/8 scale, the general path, on photo-like pictures of every
    //! chroma subsampling, with and without restart markers, at sizes that do not divide into
    //! blocks; and on the same files cut short or with bytes changed, inserted or removed
    //! anywhere in the scan, including over stuffed bytes and restart markers.

    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    use proptest::prelude::*;

    use super::*;
    use crate::budget::Budget;

    /// Smooth shapes with some noise: compresses like a photo, and its scan has stuffed
    /// bytes (0xFF 0x00) every few hundred bytes.
    fn picture(width: u16, height: u16, seed: u32) -> Vec<u8> {
        let mut state = seed | 1;
        let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
        for y in 0..u32::from(height) {
            for x in 0..u32::from(width) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = (state % 24) as u8;
                let wave = ((x / 7 + y / 5) % 64) as u8 * 3;
                pixels.extend([
                    (x * 255 / u32::from(width)) as u8 / 2 + wave / 2 + noise,
                    (y * 255 / u32::from(height)) as u8 / 2 + noise,
                    wave + noise,
                ]);
            }
        }
        pixels
    }

    /// The subsamplings `jpeg-encoder` writes in one interleaved scan (4:4:4, 4:2:0, 4:2:2,
    /// 4:4:0); it writes 4:1:1 and 4:2:1 as one scan per component, which goes to the
    /// general decoder (see below).
    const SAMPLINGS: [SamplingFactor; 4] = [
        SamplingFactor::F_1_1,
        SamplingFactor::F_2_2,
        SamplingFactor::F_2_1,
        SamplingFactor::F_1_2,
    ];

    fn jpeg(
        (width, height): (u16, u16),
        seed: u32,
        quality: u8,
        sampling: Option<SamplingFactor>,
        restart: u16,
    ) -> Vec<u8> {
        let pixels = picture(width, height, seed);
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, quality);
        encoder.set_restart_interval(restart);
        match sampling {
            Some(sampling) => {
                encoder.set_sampling_factor(sampling);
                encoder
                    .encode(&pixels, width, height, ColorType::Rgb)
                    .unwrap();
            }
            None => {
                let gray: Vec<u8> = pixels.chunks_exact(3).map(|p| p[1]).collect();
                encoder
                    .encode(&gray, width, height, ColorType::Luma)
                    .unwrap();
            }
        }
        out
    }

    /// `jpeg-decoder` at 1/8: its output.
    fn general(bytes: &[u8]) -> Option<(u16, u16, Vec<u8>)> {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        decoder.read_info().ok()?;
        let info = decoder.info()?;
        let (width, height) = decoder
            .scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .ok()?;
        let pixels = decoder.decode().ok()?;
        Some((width, height, pixels))
    }

    fn frame_of(bytes: &[u8]) -> Option<Frame> {
        let mut frame = read_headers(bytes)?;
        decode_scan(bytes, &mut frame)?;
        Some(frame)
    }

    fn check_against_general(
        bytes: &[u8],
        sampling: Option<SamplingFactor>,
    ) -> Result<(), TestCaseError> {
        let frame = frame_of(bytes).ok_or_else(|| TestCaseError::fail("refused a valid file"))?;
        let ours = assemble(&frame).expect("assembled");
        let (width, height, theirs) = general(bytes).unwrap();
        prop_assert_eq!(
            (ours.width(), ours.height()),
            (u32::from(width), u32::from(height))
        );
        let ours = match sampling {
            None => ours.to_luma8().into_raw(),
            Some(_) => ours.to_rgb8().into_raw(),
        };
        prop_assert_eq!(ours.len(), theirs.len());
        // Gray, or color without subsampled chroma: the same bytes. Where chroma is
        // subsampled, it is repeated here and interpolated there: close, not equal (a
        // misread block would be far off).
        let largest = ours.iter().zip(&theirs).map(|(a, b)| a.abs_diff(*b)).max();
        if sampling.is_none() {
            prop_assert!(ours == theirs, "the gray images differ");
        } else if sampling == Some(SamplingFactor::F_1_1) {
            prop_assert!(largest <= Some(1), "the 4:4:4 images differ by {largest:?}");
        } else {
            // Luma does not depend on how chroma is upsampled (BT.601 weights), up to the
            // rounding of each channel, wherever no channel was clipped.
            let luma = |p: &[u8]| {
                0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
            };
            let clipped = |p: &[u8]| p.iter().any(|&v| v == 0 || v == 255);
            for (a, b) in ours.chunks_exact(3).zip(theirs.chunks_exact(3)) {
                if !clipped(a) && !clipped(b) {
                    prop_assert!((luma(a) - luma(b)).abs() <= 2.0, "{:?} against {:?}", a, b);
                }
            }
            // And the colors close (a misread would desynchronize the blocks after it, and
            // show in luma too).
            let mean = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / ours.len() as f64;
            prop_assert!(mean < 10.0, "mean difference {mean}");
        }
        Ok(())
    }

    fn sampling() -> impl Strategy<Value = Option<SamplingFactor>> {
        prop_oneof![
            Just(None),
            (0..SAMPLINGS.len()).prop_map(|i| Some(SAMPLINGS[i]))
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn broken_headers_are_refused_or_decoded_never_a_panic(
            seed in any::<u32>(),
            sampling in sampling(),
            restart in prop_oneof![Just(0u16), 1u16..4],
            at in 0.0..1.0f64,
            fault in 0u8..5,
            byte in prop_oneof![Just(0xffu8), Just(0x00), Just(0xc0), Just(0xc4), Just(0xda), Just(0x11), any::<u8>()],
        ) {
            let bytes = jpeg((96, 72), seed, 90, sampling, restart);
            let found = segments(&bytes);
            let scan = found.last().unwrap().2;
            let position = (scan as f64 * at) as usize;
            let mut broken = bytes.clone();
            match fault {
                0 => broken[position] = byte,
                1 => broken.insert(position, byte),
                2 => {
                    broken.remove(position);
                }
                3 => broken[position] = broken[position].wrapping_add(byte | 1),
                _ => {
                    // A whole segment again, right after itself.
                    let (_, start, end) = found[(found.len() as f64 * at) as usize % found.len()];
                    let copy = bytes[start..end].to_vec();
                    broken.splice(end..end, copy);
                }
            }
            survives(&broken);
        }

        #[test]
        fn valid_files_decode_as_the_general_decoder_decodes_them(
            width in 1u16..420,
            height in 1u16..300,
            seed in any::<u32>(),
            quality in 40u8..=100,
            sampling in sampling(),
            restart in prop_oneof![Just(0u16), 1u16..4, Just(7u16)],
        ) {
            let bytes = jpeg((width, height), seed, quality, sampling, restart);
            check_against_general(&bytes, sampling)?;
        }

        #[test]
        fn broken_scans_are_refused_or_decoded_never_misread(
            seed in any::<u32>(),
            sampling in sampling(),
            restart in prop_oneof![Just(0u16), 1u16..4],
            at in 0.0..1.0f64,
            fault in 0u8..4,
            byte in prop_oneof![Just(0xffu8), Just(0x00), Just(0xd0), Just(0xd9), any::<u8>()],
        ) {
            let bytes = jpeg((203, 157), seed, 92, sampling, restart);
            let scan = read_headers(&bytes).unwrap().scan_start;
            let position = scan + ((bytes.len() - scan) as f64 * at) as usize;
            let mut broken = bytes.clone();
            match fault {
                0 => broken.truncate(position),
                1 => broken[position.min(bytes.len() - 1)] = byte,
                2 => broken.insert(position, byte),
                _ => {
                    broken.remove(position.min(bytes.len() - 1));
                }
            }
            // Never a panic; what it does decode has the frame's size at 1/8.
            if let Some(image) = decode_eighth(&broken, u64::MAX, |_, _| true) {
                prop_assert_eq!((image.width(), image.height()), (26, 20));
            }
            // Cut inside the scan, before its last few bytes: refused, never padded out.
            if fault == 0 && position + 8 < bytes.len() {
                prop_assert!(decode_eighth(&broken, u64::MAX, |_, _| true).is_none());
            }
        }
    }

    #[test]
    fn a_photo_sized_file_decodes_as_the_general_decoder_decodes_it() {
        for (sampling, restart) in [(SamplingFactor::F_2_2, 0), (SamplingFactor::F_2_1, 5)] {
            let bytes = jpeg((1600, 1200), 7, 90, Some(sampling), restart);
            check_against_general(&bytes, Some(sampling)).unwrap();
        }
    }

    /// The segments of `bytes` up to the scan: (marker, start of the 0xFF, end).
    fn segments(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
        let mut found = Vec::new();
        let mut at = 2;
        while at + 4 <= bytes.len() && bytes[at] == 0xff {
            let marker = bytes[at + 1];
            let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            found.push((marker, at, at + 2 + length));
            if marker == 0xda {
                break;
            }
            at += 2 + length;
        }
        found
    }

    /// `bytes` with `segment` (marker and body) put right before the scan header.
    fn before_scan(bytes: &[u8], marker: u8, body: &[u8]) -> Vec<u8> {
        let (_, sos, _) = *segments(bytes).last().unwrap();
        let mut out = bytes[..sos].to_vec();
        out.extend_from_slice(&[0xff, marker]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&bytes[sos..]);
        out
    }

    /// A DHT body defining table `class`/`id` with these counts (symbols 0, 1, 2, ...).
    fn table(class: u8, id: u8, counts: [u8; 16]) -> Vec<u8> {
        let total: usize = counts.iter().map(|&count| usize::from(count)).sum();
        let mut body = vec![class << 4 | id];
        body.extend_from_slice(&counts);
        body.extend((0..total).map(|symbol| symbol as u8));
        body
    }

    /// Every way the full path can go: decoded or refused, never a panic.
    fn survives(bytes: &[u8]) {
        let _ = decode_eighth(bytes, u64::MAX, |_, _| true);
        let _ = crate::thumbnail::make(bytes, crate::media::MediaType::Jpeg, 64, &Budget::TESTS);
    }

    #[test]
    fn tables_that_are_not_prefix_codes_are_refused() {
        let bytes = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
        let mut three_ones = [0; 16];
        three_ones[0] = 3;
        let mut two_ones_and_a_two = [0; 16];
        two_ones_and_a_two[..2].copy_from_slice(&[2, 1]);
        let mut too_many_long = [0; 16];
        too_many_long[15] = 255;
        too_many_long[14] = 255;
        for counts in [three_ones, two_ones_and_a_two] {
            for class in [0, 1] {
                let broken = before_scan(&bytes, 0xc4, &table(class, 0, counts));
                assert!(decode_eighth(&broken, u64::MAX, |_, _| true).is_none());
                survives(&broken);
            }
        }
        // A full code of all lengths is still a prefix code.
        let mut full = [0; 16];
        full[0] = 1;
        full[1] = 2;
        assert!(TableSpec::read(&full, &[0, 1, 2]).is_some());
        full[1] = 3;
        assert!(TableSpec::read(&full, &[0, 1, 2, 3]).is_none());
        // Symbols missing.
        assert!(TableSpec::read(&three_ones, &[0, 1]).is_none());
        survives(&before_scan(&bytes, 0xc4, &table(1, 0, too_many_long)));
    }

    #[test]
    fn scan_table_selectors_past_the_four_tables_are_refused() {
        let bytes = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
        let (_, sos, _) = *segments(&bytes).last().unwrap();
        for selector in [0x40, 0x04, 0xff, 0x5f] {
            let mut broken = bytes.clone();
            broken[sos + 6] = selector; // the first component's table selectors
            assert!(decode_eighth(&broken, u64::MAX, |_, _| true).is_none());
            survives(&broken);
        }
    }

    #[test]
    fn a_second_frame_header_is_refused() {
        for sampling in [None, Some(SamplingFactor::F_2_2)] {
            let bytes = jpeg((64, 48), 3, 90, sampling, 0);
            let (_, start, end) = *segments(&bytes)
                .iter()
                .find(|(marker, _, _)| *marker == 0xc0)
                .unwrap();
            let broken = before_scan(&bytes, 0xc0, &bytes[start + 4..end]);
            assert!(decode_eighth(&broken, u64::MAX, |_, _| true).is_none());
            survives(&broken);
        }
    }

    /// A gray 64×64 JPEG by hand: 16-bit DC step 65535, every block's DC difference +2047, so
    /// the prediction times the step leaves i32 by the 17th block.
    fn growing_dc() -> Vec<u8> {
        let mut out = vec![0xff, 0xd8];
        let mut segment = |marker: u8, body: &[u8]| {
            out.extend_from_slice(&[0xff, marker]);
            out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(body);
        };
        let mut dqt = vec![0x10, 0xff, 0xff];
        dqt.extend_from_slice(&[0, 1].repeat(63));
        segment(0xdb, &dqt);
        segment(0xc0, &[8, 0, 64, 0, 64, 1, 1, 0x11, 0]);
        let mut one_code = [0; 16];
        one_code[0] = 1;
        let mut dc = vec![0x00];
        dc.extend_from_slice(&one_code);
        dc.push(11); // the one code, "0", means an 11-bit difference
        segment(0xc4, &dc);
        let mut ac = vec![0x10];
        ac.extend_from_slice(&one_code);
        ac.push(0x00); // "0": end of block
        segment(0xc4, &ac);
        segment(0xda, &[1, 1, 0x00, 0, 63, 0]);
        // Per block: "0", eleven ones (+2047), "0": 13 bits; 64 blocks.
        let mut bits: Vec<bool> = Vec::new();
        for _ in 0..64 {
            bits.push(false);
            bits.extend([true; 11]);
            bits.push(false);
        }
        while !bits.len().is_multiple_of(8) {
            bits.push(true);
        }
        for byte in bits.chunks(8) {
            let byte = byte.iter().fold(0u8, |acc, &bit| acc << 1 | u8::from(bit));
            out.push(byte);
            if byte == 0xff {
                out.push(0x00);
            }
        }
        out.extend_from_slice(&[0xff, 0xd9]);
        out
    }

    #[test]
    fn dc_predictions_times_a_wide_step_do_not_overflow() {
        let bytes = growing_dc();
        let image = decode_eighth(&bytes, u64::MAX, |_, _| true).expect("decoded");
        let pixels = image.to_luma8().into_raw();
        assert_eq!(pixels.len(), 64);
        // The first block is (2047 × 65535 + 1024) / 8, the rest larger still: all white.
        assert!(pixels.iter().all(|&p| p == 255), "{pixels:?}");
        survives(&bytes);
    }

    #[test]
    fn repeated_table_definitions_decode_as_one() {
        let bytes = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
        let expected = decode_eighth(&bytes, u64::MAX, |_, _| true).unwrap();
        let dht: Vec<u8> = segments(&bytes)
            .iter()
            .filter(|(marker, _, _)| *marker == 0xc4)
            .flat_map(|&(_, start, end)| bytes[start..end].to_vec())
            .collect();
        let (_, sos, _) = *segments(&bytes).last().unwrap();
        let mut padded = bytes[..sos].to_vec();
        for _ in 0..2000 {
            padded.extend_from_slice(&dht);
        }
        padded.extend_from_slice(&bytes[sos..]);
        let decoded = decode_eighth(&padded, u64::MAX, |_, _| true).unwrap();
        assert_eq!(decoded.as_bytes(), expected.as_bytes());
    }

    #[test]
    fn what_it_does_not_read_goes_to_the_general_decoder() {
        let pixels = picture(64, 48, 3);
        let mut progressive = Vec::new();
        let mut encoder = Encoder::new(&mut progressive, 90);
        encoder.set_progressive(true);
        encoder.encode(&pixels, 64, 48, ColorType::Rgb).unwrap();
        assert!(decode_eighth(&progressive, u64::MAX, |_, _| true).is_none());
        let scan_per_component = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_4_1), 0);
        assert!(decode_eighth(&scan_per_component, u64::MAX, |_, _| true).is_none());
        let baseline = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
        assert!(decode_eighth(&baseline, u64::MAX, |_, _| true).is_some());
        assert!(decode_eighth(&baseline, 64 * 48 - 1, |_, _| true).is_none());
        assert!(decode_eighth(&baseline, u64::MAX, |_, _| false).is_none());
        assert!(decode_eighth(b"\xff\xd8\xff\xd9", u64::MAX, |_, _| true).is_none());
    }
}
