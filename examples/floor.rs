//! The floor for `make bench`: the CPU an upload cannot avoid, measured in-process. A JSON
//! upload must base64-decode its content, sniff it and checksum it (the SDK sends a CRC32
//! with every PutObject); a raw upload only sniffs and checksums. Beside it, the CPU that the
//! floor leaves out and no server can avoid: moving the body in from a client socket and the
//! image out to an S3 socket (`relay_ns`). Prints one JSON object.

use std::hint::black_box;
use std::time::Instant;

use aws_smithy_checksums::ChecksumAlgorithm;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use imaging::media::MediaType;

#[path = "shared/bench_support.rs"]
mod bench_support;
use bench_support::{payload, thread_cpu_ns};

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

/// Median CPU nanoseconds of a relay thread that reads `body_len` bytes from a loopback TCP
/// connection into one reused buffer and writes `image_len` of them to another: the least
/// any upload server spends moving the bytes in from a client and out to S3 through sockets.
/// Only the relay's own thread is counted, as only the server's process is in `make bench`;
/// the client and the sink run on their own threads.
fn relay_ns(body_len: usize, image_len: usize, rounds: usize) -> f64 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let sink = TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let sink = std::thread::spawn(move || {
        let (mut socket, _) = sink.accept().unwrap();
        const CHUNK: usize = 256 * 1024;
        let mut buffer = vec![0u8; CHUNK];
        for _ in 0..rounds {
            let mut left = image_len;
            while left > 0 {
                left -= socket.read(&mut buffer[..left.min(CHUNK)]).unwrap();
            }
            socket.write_all(b"k").unwrap();
        }
    });
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let front_addr = front.local_addr().unwrap();
    let relay = std::thread::spawn(move || {
        let (mut client, _) = front.accept().unwrap();
        let mut upstream = TcpStream::connect(sink_addr).unwrap();
        let mut buffer = vec![0u8; body_len];
        let mut ack = [0u8; 1];
        let mut samples: Vec<f64> = (0..rounds)
            .map(|_| {
                client.read_exact(&mut buffer[..1]).unwrap();
                let started = thread_cpu_ns();
                client.read_exact(&mut buffer[1..]).unwrap();
                upstream.write_all(&buffer[..image_len]).unwrap();
                upstream.read_exact(&mut ack).unwrap();
                let spent = (thread_cpu_ns() - started) as f64;
                client.write_all(&ack).unwrap();
                spent
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    });
    let mut client = TcpStream::connect(front_addr).unwrap();
    let body = vec![0x5au8; body_len];
    let mut ack = [0u8; 1];
    for _ in 0..rounds {
        client.write_all(&body).unwrap();
        client.read_exact(&mut ack).unwrap();
    }
    sink.join().unwrap();
    relay.join().unwrap()
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
        let json_relay = relay_ns(text.len(), len, 15);
        let raw_relay = relay_ns(len, len, 15);
        results.push(format!(
            r#""{label}":{{"json_ns":{json_ns:.0},"raw_ns":{raw_ns:.0},"json_relay_ns":{json_relay:.0},"raw_relay_ns":{raw_relay:.0}}}"#
        ));
    }
    println!("{{{}}}", results.join(","));
}
