//! `make bench`: the service's own thumbnail code path (`imaging::thumbnail::make`, what
//! `GET /images/{id}/thumbnail` runs) on one file, several times; prints one JSON line with
//! each run's time, the output's size and the process's peak resident memory, as the peers'
//! scripts do; with THUMB_OUT set, the last thumbnail is written there.
//! Usage: thumbnail FILE SIZE RUNS [webp|jpeg|png] (without a format: the image's own choice)

use std::time::Instant;

use imaging::media::MediaType;
use imaging::thumbnail::{self, Format};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, size, runs, format) = match &args[..] {
        [_, path, size, runs] => (path, size, runs, None),
        [_, path, size, runs, format] => (path, size, runs, Some(format.as_str())),
        _ => {
            eprintln!("usage: thumbnail FILE SIZE RUNS [webp|jpeg|png]");
            std::process::exit(2);
        }
    };
    let format = format.map(|name| {
        [Format::Webp, Format::Jpeg, Format::Png]
            .into_iter()
            .find(|format| format.name() == name)
            .expect("webp, jpeg or png")
    });
    let (size, runs): (u32, usize) = (size.parse().unwrap(), runs.parse().unwrap());
    // The service's default budget (a 256 MB function), as `make run` and Lambda use it.
    let budget = image_api::Config::default_decode_budget();
    let mut times_ms = Vec::with_capacity(runs);
    let mut last = Vec::new();
    for _ in 0..runs {
        // Read each time, as the service reads the object for each thumbnail it makes.
        let started = Instant::now();
        let bytes = std::fs::read(path).unwrap();
        let media = MediaType::sniff(&bytes).expect("a supported image");
        let made = thumbnail::make(&bytes, media, size, format, &budget).unwrap_or_else(|error| {
            eprintln!("{path}: {error:?} after {:?}", started.elapsed());
            std::process::exit(1)
        });
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        last = std::hint::black_box(made).bytes;
    }
    if let Some(out) = std::env::var_os("THUMB_OUT") {
        std::fs::write(out, &last).unwrap();
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
        serde_json::json!({"times_ms": times_ms, "peak_kib": peak_kib, "out_bytes": last.len()})
    );
}
