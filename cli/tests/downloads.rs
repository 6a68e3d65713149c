//! `get` of images whose stored names were chosen by whoever uploaded them: the CLI writes only
//! inside the current directory, under a safe base name, never over a file that is there
//! (unless `--force`), and follows the API's 307 to S3 without any of the API's credentials.
//! Against a stand-in API (records with hostile names, content as a redirect) and a stand-in S3
//! that records the headers it was sent.

use std::io::Write;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

mod support;
use support::stand_in;

const BYTES: &str = "not-really-a-png";

/// The stand-in S3: answers every GET with `BYTES`, keeping each request's head, lower-cased.
fn storage() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let address = stand_in(move |head, stream| {
        kept.lock()
            .unwrap()
            .extend(head.iter().map(|line| line.to_ascii_lowercase()));
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BYTES}",
            BYTES.len()
        );
    });
    (address, seen)
}

/// The stand-in API: `GET /images/{id}` is a record named `names[id]`; its content is a 307 to
/// `storage`.
fn api(names: Vec<(&'static str, &'static str)>, storage: String) -> String {
    stand_in(move |head, stream| {
        let path = head[0].split(' ').nth(1).unwrap_or_default().to_owned();
        let id = path
            .trim_start_matches("/images/")
            .split('/')
            .next()
            .unwrap();
        if path.ends_with("/content") {
            let _ = write!(
                stream,
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {storage}/bucket/images/{id}?X-Amz-Signature=x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            return;
        }
        let name = names.iter().find(|(known, _)| *known == id).unwrap().1;
        let body = serde_json::json!({"id": id, "file_name": name, "content_type": "image/png"})
            .to_string();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    })
}

fn get(endpoint: &str, here: &std::path::Path, args: &[&str], auth: (&str, &str)) -> Output {
    let config = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_image-api-cli"))
        .arg("get")
        .args(args)
        .current_dir(here)
        .env("IMAGE_API_URL", endpoint)
        .env_remove("IMAGE_API_KEY")
        .env_remove("IMAGE_API_TOKEN")
        .env(auth.0, auth.1)
        .env("XDG_CONFIG_HOME", config.path())
        .output()
        .expect("the CLI runs")
}

fn files(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn hostile_names_are_written_here_under_a_safe_base_name_without_credentials_sent_to_s3() {
    let (s3, seen) = storage();
    let names = vec![
        ("a", ".bashrc"),
        ("b", "../../.ssh/authorized_keys"),
        ("c", "..\\..\\windows\\evil.png"),
        ("d", "bell\u{7}and\nnewline.png"),
        ("e", ".."),
        ("f", "/"),
        ("g", "photo.png"),
    ];
    let endpoint = api(names, s3);
    let parent = tempfile::tempdir().unwrap();
    let here = parent.path().join("here");
    std::fs::create_dir(&here).unwrap();

    for (id, expected) in [
        ("a", "bashrc"),
        ("b", "authorized_keys"),
        ("c", "evil.png"),
        ("d", "bellandnewline.png"),
        ("e", "e.png"),
        ("f", "f.png"),
    ] {
        let run = get(&endpoint, &here, &[id], ("IMAGE_API_KEY", "the-api-key"));
        assert!(
            run.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let written = std::fs::read_to_string(here.join(expected))
            .unwrap_or_else(|e| panic!("{id}: no {expected} in {:?} ({e})", files(&here)));
        assert_eq!(written, BYTES);
    }
    assert_eq!(
        files(&here),
        [
            "authorized_keys",
            "bashrc",
            "bellandnewline.png",
            "e.png",
            "evil.png",
            "f.png"
        ]
    );
    assert_eq!(
        files(parent.path()),
        ["here"],
        "nothing outside the directory"
    );

    // The key went to the API only: S3 saw none of it, nor a bearer token.
    let run = get(
        &endpoint,
        &here,
        &["a", "--force"],
        ("IMAGE_API_TOKEN", "the-token"),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|line| line.starts_with("get /bucket/images/")),
        "{seen:?}"
    );
    for line in &seen {
        assert!(
            !(line.starts_with("x-api-key")
                || line.starts_with("authorization")
                || line.starts_with("x-amz-")),
            "S3 was sent {line:?}"
        );
    }
    assert!(
        !seen
            .iter()
            .any(|line| line.contains("the-api-key") || line.contains("the-token"))
    );
}

#[test]
fn a_file_already_there_is_left_alone_unless_forced() {
    let (s3, _) = storage();
    let endpoint = api(vec![("g", "photo.png")], s3);
    let here = tempfile::tempdir().unwrap();
    let victim = here.path().join("photo.png");
    std::fs::write(&victim, "the victim").unwrap();

    let refused = get(&endpoint, here.path(), &["g"], ("IMAGE_API_KEY", "k"));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("photo.png already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the victim");
    assert_eq!(files(here.path()), ["photo.png"], "no .part left either");

    // `-o` names a file that is there: refused the same way.
    let named = get(
        &endpoint,
        here.path(),
        &["g", "-o", "photo.png"],
        ("IMAGE_API_KEY", "k"),
    );
    assert_eq!(named.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the victim");

    let forced = get(
        &endpoint,
        here.path(),
        &["g", "--force"],
        ("IMAGE_API_KEY", "k"),
    );
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), BYTES);
}
