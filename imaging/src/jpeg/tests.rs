//! Against `jpeg-decoder` at 1/8 scale, the general path, on photo-like pictures of every
//! chroma subsampling, with and without restart markers, at sizes that do not divide into
//! blocks; and on the same files cut short or with bytes changed, inserted or removed
//! anywhere in the scan, including over stuffed bytes and restart markers.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use proptest::prelude::*;

use super::headers::{Frame, read_headers};
use super::huffman::TableSpec;
use super::scan::decode_scan;
use super::*;
use crate::budget::Budget;

/// The file at 1/8, if the decoder reads it.
fn eighth(bytes: &[u8], max_pixels: u64) -> Option<DynamicImage> {
    match read_eighth(bytes, max_pixels, true) {
        Eighth::Image(image) => Some(image),
        _ => None,
    }
}

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
        let luma =
            |p: &[u8]| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
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

/// A `size` JPEG at `quality`, of any picture, chroma sampling and restart interval (none or a
/// short one, where the faults meet restart markers).
fn any_jpeg(size: (u16, u16), quality: u8) -> impl Strategy<Value = Vec<u8>> {
    (any::<u32>(), sampling(), prop_oneof![Just(0u16), 1u16..4])
        .prop_map(move |(seed, sampling, restart)| jpeg(size, seed, quality, sampling, restart))
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
        bytes in any_jpeg((96, 72), 90),
        at in 0.0..1.0f64,
        fault in 0u8..5,
        byte in prop_oneof![Just(0xffu8), Just(0x00), Just(0xc0), Just(0xc4), Just(0xda), Just(0x11), any::<u8>()],
    ) {
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
        bytes in any_jpeg((203, 157), 92),
        at in 0.0..1.0f64,
        fault in 0u8..4,
        byte in prop_oneof![Just(0xffu8), Just(0x00), Just(0xd0), Just(0xd9), any::<u8>()],
    ) {
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
        if let Some(image) = eighth(&broken, u64::MAX) {
            prop_assert_eq!((image.width(), image.height()), (26, 20));
        }
        // Cut inside the scan, before its last few bytes: refused, never padded out.
        if fault == 0 && position + 8 < bytes.len() {
            prop_assert!(eighth(&broken, u64::MAX).is_none());
        }
    }
}

#[test]
fn a_photo_sized_file_decodes_as_the_general_decoder_decodes_it() {
    // A phone's 12 MP frame (4:2:0, as phones write it) and a 2 MP one with restart markers.
    for (size, sampling, restart) in [
        ((4032, 3024), SamplingFactor::F_2_2, 0),
        ((1600, 1200), SamplingFactor::F_2_1, 5),
    ] {
        let bytes = jpeg(size, 7, 90, Some(sampling), restart);
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
    let _ = eighth(bytes, u64::MAX);
    let _ = crate::thumbnail::make(
        bytes,
        crate::media::MediaType::Jpeg,
        64,
        None,
        &Budget::TESTS,
    );
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
            assert!(eighth(&broken, u64::MAX).is_none());
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
        assert!(eighth(&broken, u64::MAX).is_none());
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
        assert!(eighth(&broken, u64::MAX).is_none());
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
    let image = eighth(&bytes, u64::MAX).expect("decoded");
    let pixels = image.to_luma8().into_raw();
    assert_eq!(pixels.len(), 64);
    // The first block is (2047 × 65535 + 1024) / 8, the rest larger still: all white.
    assert!(pixels.iter().all(|&p| p == 255), "{pixels:?}");
    survives(&bytes);
}

#[test]
fn repeated_table_definitions_decode_as_one() {
    let bytes = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
    let expected = eighth(&bytes, u64::MAX).unwrap();
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
    let decoded = eighth(&padded, u64::MAX).unwrap();
    assert_eq!(decoded.as_bytes(), expected.as_bytes());
}

#[test]
fn what_it_does_not_read_goes_to_the_general_decoder() {
    let pixels = picture(64, 48, 3);
    let mut progressive = Vec::new();
    let mut encoder = Encoder::new(&mut progressive, 90);
    encoder.set_progressive(true);
    encoder.encode(&pixels, 64, 48, ColorType::Rgb).unwrap();
    assert!(eighth(&progressive, u64::MAX).is_none());
    let scan_per_component = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_4_1), 0);
    assert!(eighth(&scan_per_component, u64::MAX).is_none());
    let baseline = jpeg((64, 48), 3, 90, Some(SamplingFactor::F_2_2), 0);
    assert!(eighth(&baseline, u64::MAX).is_some());
    assert!(eighth(&baseline, 64 * 48 - 1).is_none());
    assert!(matches!(
        read_eighth(&baseline, u64::MAX, false),
        Eighth::Whole
    ));
    assert!(eighth(b"\xff\xd8\xff\xd9", u64::MAX).is_none());
}
