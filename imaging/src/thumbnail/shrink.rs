//! Shrinks an image that arrives row by row, without ever holding it whole: each pixel of the
//! result is the mean of the box of source pixels that maps onto it (the boxes of
//! `image::imageops::thumbnail`, which the whole-image path uses).

pub struct Shrink {
    channels: usize,
    source_height: u32,
    height: u32,
    /// For each output column, the byte range of a source row that it averages.
    columns: Vec<(usize, usize)>,
    /// Sums for the output row being filled, channel by channel.
    sums: Vec<u64>,
    /// Source rows added to `sums`, and the next source row's index.
    rows_in_sums: u32,
    next_row: u32,
    out: Vec<u8>,
}

/// The first source index of output index `at` when `source` shrinks to `target`.
fn box_start(at: u32, source: u32, target: u32) -> u32 {
    (u64::from(at) * u64::from(source)).div_ceil(u64::from(target)) as u32
}

impl Shrink {
    /// `width`×`height` pixels of `channels` bytes into `target_width`×`target_height`, each
    /// no larger than its source and at least 1.
    pub fn new(
        (width, height): (u32, u32),
        (target_width, target_height): (u32, u32),
        channels: usize,
    ) -> Self {
        debug_assert!(target_width <= width && target_height <= height);
        debug_assert!(target_width > 0 && target_height > 0);
        let columns = (0..target_width)
            .map(|x| {
                let start = box_start(x, width, target_width) as usize;
                let end = box_start(x + 1, width, target_width) as usize;
                (start * channels, end * channels)
            })
            .collect();
        Self {
            channels,
            source_height: height,
            height: target_height,
            columns,
            sums: vec![0; target_width as usize * channels],
            rows_in_sums: 0,
            next_row: 0,
            out: Vec::with_capacity(target_width as usize * target_height as usize * channels),
        }
    }

    /// Adds the next source row (`width` × `channels` bytes).
    pub fn push_row(&mut self, row: &[u8]) {
        // One loop per pixel size, so that the compiler unrolls the channels.
        match self.channels {
            1 => self.add::<1>(row),
            2 => self.add::<2>(row),
            3 => self.add::<3>(row),
            _ => self.add::<4>(row),
        }
        self.rows_in_sums += 1;
        self.next_row += 1;
        let output_row = self.out.len() / self.sums.len();
        let row_end = box_start(output_row as u32 + 1, self.source_height, self.height);
        if self.next_row >= row_end {
            self.flush_row();
        }
    }

    fn add<const C: usize>(&mut self, row: &[u8]) {
        for (sums, &(start, end)) in self.sums.chunks_exact_mut(C).zip(&self.columns) {
            let mut sum = [0u32; C];
            for pixel in row[start..end].chunks_exact(C) {
                for channel in 0..C {
                    sum[channel] += u32::from(pixel[channel]);
                }
            }
            for channel in 0..C {
                sums[channel] += u64::from(sum[channel]);
            }
        }
    }

    fn flush_row(&mut self) {
        let rows = u64::from(self.rows_in_sums);
        for (sums, &(start, end)) in self.sums.chunks_exact_mut(self.channels).zip(&self.columns) {
            let count = rows * ((end - start) / self.channels) as u64;
            for total in sums {
                self.out.push(((*total + count / 2) / count) as u8);
                *total = 0;
            }
        }
        self.rows_in_sums = 0;
    }

    /// The shrunk pixels, once every source row was pushed.
    pub fn finish(self) -> Vec<u8> {
        debug_assert_eq!(self.next_row, self.source_height);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use image::{DynamicImage, RgbaImage};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Against `image`'s whole-image thumbnail, which uses the same boxes: equal up to
        /// its rounding of box edges in `f32`.
        #[test]
        fn matches_the_whole_image_thumbnail(
            width in 1u32..700,
            height in 1u32..700,
            target in 1u32..300,
            seed in any::<u32>(),
        ) {
            // Translucent, so the alpha channel is averaged too.
            let mut source = crate::samples::photo(width, height, seed);
            for pixel in source.pixels_mut() {
                pixel[3] = 255 - (pixel[0] & 0x3f);
            }
            let scale = f64::from(target) / f64::from(width.max(height));
            let fit = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, side);
            let (tw, th) = if width.max(height) <= target { (width, height) } else { (fit(width), fit(height)) };
            let expected = DynamicImage::ImageRgba8(source.clone()).thumbnail_exact(tw, th).to_rgba8();
            let mut shrink = Shrink::new((width, height), (tw, th), 4);
            for row in source.as_raw().chunks_exact(width as usize * 4) {
                shrink.push_row(row);
            }
            let shrunk = shrink.finish();
            prop_assert_eq!(shrunk.len(), (tw * th * 4) as usize);
            let shrunk = RgbaImage::from_raw(tw, th, shrunk).unwrap();
            let off: Vec<u8> = expected
                .as_raw()
                .iter()
                .zip(shrunk.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            if width % tw == 0 && height % th == 0 {
                // Whole boxes: nothing for `f32` to round.
                prop_assert!(off.iter().all(|&off| off <= 1), "{:?}", off.iter().max());
            } else {
                // A box edge that `f32` rounds the other way shifts a column or row by one.
                let mean = off.iter().map(|&off| f64::from(off)).sum::<f64>() / off.len() as f64;
                prop_assert!(mean <= 2.0, "mean difference {}", mean);
            }
        }
    }
}
