//! Stand-in servers for the CLI's tests: the answers a real API or S3 would not give on cue.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};

/// A server on a free local port (its `http://` address is returned) that hands each
/// connection's request head (the request line, then the header lines, each trimmed) and the
/// connection to `answer`, one connection at a time.
pub fn stand_in(mut answer: impl FnMut(Vec<String>, &mut TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                head.push(line.trim_end().to_owned());
                line.clear();
            }
            answer(head, &mut stream);
        }
    });
    address
}
