//! Huffman tables as a scan uses them: read and checked from DHT segments (`TableSpec`), built
//! into lookup tables (`Huffman`) that decode one symbol, or step over several AC codes at once.

use super::bits::Bits;

/// Code lengths looked up in one step; longer codes (rare) take the slow path.
const FAST_BITS: u32 = 9;
const FAST_ENTRIES: usize = 1 << FAST_BITS;
/// AC coefficients are stepped over several at a time: all the whole codes (with their
/// values) that fit in the next `SKIP_BITS` bits.
pub(super) const SKIP_BITS: u32 = 13;
pub(super) const SKIP_ENTRIES: usize = 1 << SKIP_BITS;
/// In a skip entry: bits used << 8 | end of block | coefficients moved over.
pub(super) const SKIP_EOB: u16 = 0x80;
pub(super) const SKIP_ADVANCE: u16 = 0x7f;

/// A Huffman table as a DHT segment defines it: how many codes of each length, and their
/// symbols. Checked when read, built (`Huffman::new`) only when a scan uses it, so a file
/// that defines tables over and over costs what reading them costs, not a build each.
#[derive(Clone)]
pub(super) struct TableSpec {
    counts: [u8; 16],
    symbols: Vec<u8>,
}

impl TableSpec {
    /// `None` unless the counts form a prefix code (no length has more codes than are left
    /// for it, ITU T.81 Annex C) and the symbols are all there.
    pub(super) fn read(counts: &[u8; 16], symbols: &[u8]) -> Option<Self> {
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
pub(super) struct Huffman {
    /// By the next `FAST_BITS` bits: code length << 8 | symbol, or 0 for a longer code.
    fast: [u16; FAST_ENTRIES],
    /// By the next `SKIP_BITS` bits, for AC tables: the whole codes in them, as bits used
    /// << 8 | `SKIP_EOB` if the last is an end of block | how far the coefficient index
    /// moves; 0 if not even one code is whole.
    pub(super) skip: Box<[u16; SKIP_ENTRIES]>,
    /// For each length: its largest code (-1 if none), and the index of its first symbol minus
    /// its first code.
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    pub(super) fn new(spec: &TableSpec) -> Self {
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
    pub(super) fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
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
