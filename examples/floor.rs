//! The floor for `make bench`: the CPU an upload cannot avoid, measured in-process. A JSON
//! upload must base64-decode its content, sniff it and checksum it (the SDK sends a CRC32
//! with every PutObject); a raw upload only sniffs and checksums. Prints one JSON object.

use std::hint::black_box;
use std::time::Instant;

use aws_smithy_checksums::ChecksumAlgorithm;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image_api::media::MediaType;

fn payload(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut state = 0x2545_f491_u32;
    bytes.extend((bytes.len()..len).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    }));
    bytes
}

fn checksum(bytes: &[u8]) -> impl Sized {
    let mut crc = ChecksumAlgorithm::Crc32.into_impl();
    crc.update(bytes);
    crc.header_value()
}

/// Median nanoseconds per call over `rounds` rounds of `per_round` calls.
fn measure(rounds: usize, per_round: usize, mut op: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_round {
                op();
            }
            started.elapsed().as_nanos() as f64 / per_round as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let mut results = Vec::new();
    for (label, len, per_round) in [("64KiB", 64 * 1024, 200), ("4MiB", 4 * 1024 * 1024, 4)] {
        let bytes = payload(len);
        let text = STANDARD.encode(&bytes);
        let json_ns = measure(15, per_round, || {
            let decoded = STANDARD.decode(black_box(&text)).unwrap();
            black_box(MediaType::sniff(&decoded));
            black_box(checksum(&decoded));
        });
        let raw_ns = measure(15, per_round, || {
            black_box(MediaType::sniff(black_box(&bytes)));
            black_box(checksum(black_box(&bytes)));
        });
        results.push(format!(
            r#""{label}":{{"json_ns":{json_ns:.0},"raw_ns":{raw_ns:.0}}}"#
        ));
    }
    println!("{{{}}}", results.join(","));
}
