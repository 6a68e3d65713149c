//! `make bench`: the service's own thumbnail code path (`imaging::thumbnail::make`, what
//! `GET /images/{id}/thumbnail` runs) on one file, several times; prints one JSON line with
//! each run's time and the process's peak resident memory, as the peers' scripts do.
//! Usage: thumbnail FILE SIZE RUNS

use std::time::Instant;

use imaging::media::MediaType;
use imaging::thumbnail;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, size, runs] = &args[..] else {
        eprintln!("usage: thumbnail FILE SIZE RUNS");
        std::process::exit(2);
    };
    let (size, runs): (u32, usize) = (size.parse().unwrap(), runs.parse().unwrap());
    // The service's default budget (a 256 MB function), as `make run` and Lambda use it.
    let budget = image_api::Config::default_decode_budget();
    let mut times_ms = Vec::with_capacity(runs);
    let mut out_bytes = 0;
    for _ in 0..runs {
        // Read each time, as the service reads the object for each thumbnail it makes.
        let started = Instant::now();
        let bytes = std::fs::read(path).unwrap();
        let media = MediaType::sniff(&bytes).expect("a supported image");
        let made = thumbnail::make(&bytes, media, size, &budget).unwrap_or_else(|error| {
            eprintln!("{path}: {error:?} after {:?}", started.elapsed());
            std::process::exit(1)
        });
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        out_bytes = std::hint::black_box(made).bytes.len();
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({"times_ms": times_ms, "peak_kib": peak_kib, "out_bytes": out_bytes})
    );
}
