//! What the bench's examples share: a PNG-headed payload and the calling thread's CPU clock.

/// A PNG signature and header, then noise, `len` bytes in all: sniffed as a PNG, and never
/// compressible by accident.
pub fn payload(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0".to_vec();
    let noise = imaging::samples::noise(0x2545_f491).map(|state| state as u8);
    bytes.extend(noise.take(len.saturating_sub(bytes.len())));
    bytes
}

/// CPU time of the calling thread, in nanoseconds: its own system calls included, and the
/// loopback deliveries the kernel makes on its behalf.
pub fn thread_cpu_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}
