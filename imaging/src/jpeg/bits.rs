//! The bit reader over a scan's entropy-coded data.

/// The entropy-coded bits, unstuffed (0xFF 0x00 is 0xFF); a marker or the end of the data
/// reads as zeros, counted so that reading into them is caught.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    word: u64,
    pub(super) count: u32,
    /// Zero bits supplied past a marker or the end.
    padding: u32,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], at: usize) -> Self {
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
    pub(super) fn refill(&mut self) {
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
    pub(super) fn peek(&self, count: u32) -> u32 {
        (self.word >> (64 - count)) as u32
    }

    #[inline]
    pub(super) fn consume(&mut self, count: u32) {
        self.word <<= count;
        self.count -= count;
    }

    /// `size` bits as a signed coefficient value (T.81 F.2.2.1, EXTEND).
    #[inline]
    pub(super) fn receive_extend(&mut self, size: u32) -> i32 {
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
    pub(super) fn within_data(&self) -> bool {
        self.padding <= self.count
    }

    /// Past a restart marker `RSTn`, `n` = `index` mod 8: drops the padding bits before it.
    pub(super) fn restart(&mut self, index: usize) -> Option<()> {
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
