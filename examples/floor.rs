//! The floor for `make bench`: the CPU an upload cannot avoid, measured in-process. A JSON
//! upload must base64-decode its content, sniff it and checksum it (the SDK sends a CRC32
//! with every PutObject); a raw upload only sniffs and checksums. Beside it, for reference,
//! the CPU of moving the payload once through a loopback TCP connection (both ends), which
//! the server does twice per upload (in from the client, out to S3) and the floor leaves out.
//! Prints one JSON object.

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

/// CPU time of the whole process, in nanoseconds.
fn process_cpu_ns() -> u128 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128
}

/// Median process CPU nanoseconds to send `bytes` through a loopback connection and read them.
fn loopback_ns(bytes: &[u8], rounds: usize) -> f64 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let len = bytes.len();
    let reader = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut buffer = vec![0u8; 64 * 1024];
        for _ in 0..rounds {
            let mut left = len;
            while left > 0 {
                left -= socket.read(&mut buffer[..left.min(64 * 1024)]).unwrap();
            }
            socket.write_all(b"k").unwrap();
        }
    });
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    let mut ack = [0u8; 1];
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = process_cpu_ns();
            socket.write_all(bytes).unwrap();
            socket.read_exact(&mut ack).unwrap();
            (process_cpu_ns() - started) as f64
        })
        .collect();
    reader.join().unwrap();
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
        let loopback = loopback_ns(&bytes, 15);
        results.push(format!(
            r#""{label}":{{"json_ns":{json_ns:.0},"raw_ns":{raw_ns:.0},"loopback_ns":{loopback:.0}}}"#
        ));
    }
    println!("{{{}}}", results.join(","));
}
