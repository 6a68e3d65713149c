//! The CLI end to end. Against the server that `scripts/test-cli.sh` starts on moto
//! (IMAGE_API_TEST_URL, with a 256 KiB inline limit): a folder of real images of several sizes
//! round-trips byte for byte. Against a server that always fails, and one that is not there:
//! a clear message and exit code 1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use image::{ImageFormat, Rgb, RgbImage};

mod support;
use support::stand_in;

fn cli(endpoint: &str, args: &[&str]) -> Output {
    let config = tempdir("config");
    Command::new(env!("CARGO_BIN_EXE_image-api-cli"))
        .args(args)
        .env("IMAGE_API_URL", endpoint)
        .env_remove("IMAGE_API_KEY")
        .env_remove("IMAGE_API_TOKEN")
        // No sign-in of the person running the tests reaches them.
        .env("XDG_CONFIG_HOME", config.path())
        .output()
        .expect("the CLI runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn picture(width: u32, height: u32, seed: u32, noisy: bool, format: ImageFormat) -> Vec<u8> {
    let mut noise = imaging::samples::noise(seed);
    let image = RgbImage::from_fn(width, height, |x, y| {
        let state = noise.next().unwrap_or_default();
        if noisy {
            Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
        } else {
            Rgb([(x % 256) as u8, (y % 256) as u8, (seed % 256) as u8])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn server() -> Option<String> {
    let url = std::env::var("IMAGE_API_TEST_URL").ok();
    if url.is_none() {
        eprintln!("IMAGE_API_TEST_URL is not set: run through scripts/test-cli.sh (make test-cli)");
    }
    url
}

#[test]
fn a_folder_of_images_round_trips_byte_for_byte() {
    let Some(endpoint) = server() else {
        panic!("run through scripts/test-cli.sh");
    };
    let folder = tempdir("round-trip");
    let folder = folder.path();
    std::fs::create_dir_all(folder.join("nested/deeper")).unwrap();
    let files = [
        // Inline.
        ("small.png", picture(120, 80, 1, false, ImageFormat::Png)),
        (
            "nested/photo.jpg",
            picture(800, 600, 2, true, ImageFormat::Jpeg),
        ),
        // Past the server's 256 KiB inline limit: refused inline, then sent the direct way.
        (
            "nested/large.png",
            picture(400, 300, 3, true, ImageFormat::Png),
        ),
        // Past one 8 MiB part: a multipart upload, each part's ETag read back.
        (
            "nested/deeper/huge.png",
            picture(1800, 1800, 4, true, ImageFormat::Png),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(folder.join(name), bytes).unwrap();
    }
    assert!(files[2].1.len() > 256 * 1024 && files[3].1.len() > 8 * 1024 * 1024);

    let uploaded = cli(
        &endpoint,
        &["upload", "--jobs", "3", folder.to_str().unwrap()],
    );
    assert!(uploaded.status.success(), "{}", text(&uploaded.stderr));
    assert!(
        text(&uploaded.stderr).contains("uploaded 4 file(s)"),
        "{}",
        text(&uploaded.stderr)
    );
    let ids: Vec<(String, String)> = text(&uploaded.stdout)
        .lines()
        .map(|line| {
            let (id, path) = line.split_once("  ").expect("id  path");
            (id.to_owned(), path.to_owned())
        })
        .collect();
    assert_eq!(ids.len(), 4, "{}", text(&uploaded.stdout));

    let downloads = tempdir("downloads");
    let downloads = downloads.path();
    for (id, path) in &ids {
        let original = std::fs::read(path).unwrap();
        let out = downloads.join(id);
        let got = cli(&endpoint, &["get", id, "-o", out.to_str().unwrap()]);
        assert!(got.status.success(), "{}", text(&got.stderr));
        assert!(
            std::fs::read(&out).unwrap() == original,
            "{path} differs after the round trip"
        );
    }

    let listed = cli(&endpoint, &["list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let records: Vec<serde_json::Value> = text(&listed.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (id, _) in &ids {
        assert!(
            records.iter().any(|r| r["id"] == id.as_str()),
            "{id} listed"
        );
    }
    let table = cli(&endpoint, &["list", "--file-name", "photo.jpg"]);
    assert!(
        text(&table.stdout).contains("800x600"),
        "{}",
        text(&table.stdout)
    );

    let (first, _) = &ids[0];
    let thumb = downloads.join("thumb");
    let made = cli(
        &endpoint,
        &[
            "thumbnail",
            first,
            "--size",
            "64",
            "-o",
            thumb.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let thumbnail = image::load_from_memory(&std::fs::read(&thumb).unwrap()).unwrap();
    assert_eq!(thumbnail.width().max(thumbnail.height()), 64);

    let all: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
    let deleted = cli(&endpoint, &[&["delete"], &all[..]].concat());
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let gone = cli(&endpoint, &["get", first, "-o", "-"]);
    assert_eq!(gone.status.code(), Some(1));
    let message = text(&gone.stderr);
    assert!(
        message.starts_with("error: no image with this id (404) (request id "),
        "{message}"
    );
}

#[test]
fn refused_files_are_summarised_and_fail_the_run() {
    let Some(endpoint) = server() else {
        panic!("run through scripts/test-cli.sh");
    };
    let folder = tempdir("refused");
    let folder = folder.path();
    std::fs::write(
        folder.join("good.png"),
        picture(40, 30, 5, false, ImageFormat::Png),
    )
    .unwrap();
    std::fs::write(folder.join("notes.txt"), b"not an image").unwrap();
    let run = cli(&endpoint, &["upload", folder.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("uploaded 1 file(s)") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("notes.txt: ") && stderr.contains("(415) (request id "),
        "{stderr}"
    );
    assert!(!stderr.contains("Failure {"), "no debug dump: {stderr}");
}

/// A server that answers every request with a 503 problem document, counting them.
fn failing_server() -> (String, Arc<AtomicUsize>) {
    let (address, count, _) = recording_failing_server();
    (address, count)
}

/// Each request's head: its request line, then its header lines.
type Heads = Arc<Mutex<Vec<Vec<String>>>>;

/// `failing_server`, keeping each request's head.
fn recording_failing_server() -> (String, Arc<AtomicUsize>, Heads) {
    let count = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (seen, kept) = (Arc::clone(&count), Arc::clone(&heads));
    let address = stand_in(move |head, stream| {
        seen.fetch_add(1, Ordering::SeqCst);
        kept.lock().unwrap().push(head);
        let body = r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"A storage service is unavailable; retry later.","code":"upstream_unavailable","request_id":"req-503"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.read(&mut [0; 16]);
    });
    (address, count, heads)
}

#[test]
fn a_failing_server_gives_a_clear_message_after_retries() {
    let (address, count) = failing_server();
    let run = cli(&address, &["list"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    assert_eq!(
        stderr.trim_end(),
        "error: A storage service is unavailable; retry later. (503) (request id req-503)"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "the first attempt and three retries"
    );
}

/// A proxy to `upstream` that loses the answer to its first request (after the server has
/// begun answering it, so the server has acted) and passes every later one through.
fn proxy_losing_first_answer(upstream: &str) -> String {
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let server = std::net::TcpStream::connect(&upstream).unwrap();
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
            let (mut server_in, mut client_out) = (server, client);
            std::thread::spawn(move || {
                if n == 0 {
                    let _ = server_in.read(&mut [0; 1]);
                    let _ = client_out.shutdown(std::net::Shutdown::Both);
                } else {
                    let _ = std::io::copy(&mut server_in, &mut client_out);
                    let _ = client_out.shutdown(std::net::Shutdown::Write);
                }
            });
        }
    });
    address
}

#[test]
fn an_upload_whose_answer_is_lost_is_stored_once() {
    let Some(endpoint) = server() else {
        panic!("run through scripts/test-cli.sh");
    };
    let folder = tempdir("lost-answer");
    let folder = folder.path();
    let name = format!("lost-{}.png", std::process::id());
    std::fs::write(
        folder.join(&name),
        picture(30, 20, 9, false, ImageFormat::Png),
    )
    .unwrap();
    let lossy = proxy_losing_first_answer(&endpoint);
    let run = cli(&lossy, &["upload", folder.join(&name).to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let listed = cli(&endpoint, &["list", "--json", "--file-name", &name]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(
        text(&listed.stdout).lines().count(),
        1,
        "{}",
        text(&listed.stdout)
    );
}

/// Each upload is retried under one `Idempotency-Key` of its own, so that a retry after a lost
/// answer can never store the image twice.
#[test]
fn uploads_are_retried_under_a_key_of_their_own() {
    let (address, _, heads) = recording_failing_server();
    let folder = tempdir("keys");
    let folder = folder.path();
    for seed in [1, 2] {
        let bytes = picture(20, 10, seed, false, ImageFormat::Png);
        std::fs::write(folder.join(format!("{seed}.png")), bytes).unwrap();
    }
    let run = cli(&address, &["upload", folder.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let heads = heads.lock().unwrap().clone();
    let mut keys: Vec<String> = Vec::new();
    for head in &heads {
        assert!(head[0].starts_with("POST /images?file_name="), "{head:?}");
        let key = head
            .iter()
            .find_map(|line| line.strip_prefix("idempotency-key: "))
            .unwrap_or_else(|| panic!("a POST without a key: {head:?}"));
        keys.push(key.to_owned());
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 2, "one key per file: {heads:?}");
    assert_eq!(
        heads.len(),
        8,
        "the first attempt and three retries, per file"
    );
}

/// A download is streamed to a `.part` file and renamed when whole: one that breaks off leaves
/// no file behind that looks complete.
#[test]
fn a_download_that_breaks_off_leaves_no_file() {
    let address = stand_in(|_, stream| {
        // 64 KiB promised, 10 sent.
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 65536\r\n\r\n0123456789"
        );
    });
    let folder = tempdir("broken-download");
    let folder = folder.path();
    let output = folder.join("image.png");
    let run = cli(&address, &["get", "x", "-o", output.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("the download broke off"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(
        std::fs::read_dir(folder).unwrap().count(),
        0,
        "nothing left in {folder:?}"
    );
}

#[test]
fn an_unreachable_server_and_bad_usage_fail_clearly() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = cli(&format!("http://127.0.0.1:{port}"), &["delete", "x"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("cannot reach http://127.0.0.1:"),
        "{}",
        text(&run.stderr)
    );
    let usage = cli("http://127.0.0.1:1", &["upload"]);
    assert_eq!(usage.status.code(), Some(2));
    let nothing = cli("http://127.0.0.1:1", &["upload", "/nonexistent/path"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        text(&nothing.stderr).starts_with("error: /nonexistent/path: "),
        "{}",
        text(&nothing.stderr)
    );
}

/// A fresh directory, removed with everything in it when the guard is dropped (a test
/// shadows the guard with its path, which keeps it alive to the test's end).
fn tempdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("image-api-cli-{name}-"))
        .tempdir()
        .unwrap()
}
