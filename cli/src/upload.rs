//! `upload PATH...`: files and folders (recursively), several at once, each with a progress
//! bar and one for the total; small files inline (`POST /images`), large ones through the
//! direct-upload flow (plan, parts straight to S3, complete).

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Semaphore;

use crate::client::{Client, Failure, Payload, Repeat, failure_of, retrying};
use crate::records::{Completion, CreateUpload, Plan, PlannedPart, Record, SentPart};

pub struct Options {
    /// Files sent at the same time.
    pub jobs: usize,
    /// Files up to this size go inline; a `413` sends them the direct way after all.
    pub inline_limit: u64,
}

/// The files under `paths` (folders walked recursively, in name order).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files)?;
    }
    Ok(files)
}

fn walk(path: &Path, files: &mut Vec<(PathBuf, u64)>) -> Result<(), Failure> {
    let unreadable = |e: std::io::Error| Failure::new(format!("{}: {e}", path.display()));
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if metadata.is_file() {
        files.push((path.to_owned(), metadata.len()));
    } else if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(unreadable)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(unreadable)?;
        entries.sort();
        for entry in entries {
            walk(&entry, files)?;
        }
    }
    Ok(())
}

/// Uploads every file; prints a line per file and a summary; true if all succeeded.
pub async fn run(
    client: Arc<Client>,
    paths: &[PathBuf],
    options: Options,
) -> Result<bool, Failure> {
    let files = collect(paths)?;
    if files.is_empty() {
        return Err(Failure::new("no files to upload"));
    }
    let started = Instant::now();
    let bars = MultiProgress::new();
    let total_bytes: u64 = files.iter().map(|(_, size)| size).sum();
    let total = bars.add(ProgressBar::new(total_bytes).with_style(style(
        "total {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta} left",
    )));
    let slots = Arc::new(Semaphore::new(options.jobs.max(1)));
    let options = Arc::new(options);
    let mut tasks = Vec::new();
    for (path, size) in files {
        let (client, slots, options, total) = (
            Arc::clone(&client),
            Arc::clone(&slots),
            Arc::clone(&options),
            total.clone(),
        );
        let bar = bars.insert_before(
            &total,
            ProgressBar::new(size).with_style(style(
                "{msg:30!} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
            )),
        );
        bar.set_message(path.display().to_string());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.expect("never closed");
            let progress = Progress {
                file: bar.clone(),
                total,
            };
            let outcome = upload_file(&client, &path, size, &options, &progress).await;
            bar.finish_and_clear();
            (path, size, outcome)
        }));
    }
    let (mut uploaded, mut bytes, mut failed) = (0, 0, Vec::new());
    for task in tasks {
        let (path, size, outcome) = task.await.map_err(|e| Failure::new(e.to_string()))?;
        match outcome {
            Ok(id) => {
                uploaded += 1;
                bytes += size;
                bars.suspend(|| println!("{id}  {}", path.display()));
            }
            Err(failure) => failed.push((path, failure)),
        }
    }
    total.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "uploaded {uploaded} file(s), {} in {seconds:.1} s; {} failed",
        human(bytes),
        failed.len()
    );
    for (path, failure) in &failed {
        eprintln!("  {}: {failure}", path.display());
    }
    Ok(failed.is_empty())
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

pub fn human(bytes: u64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let (mut value, mut unit) = (bytes as f64, 0);
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

struct Progress {
    file: ProgressBar,
    total: ProgressBar,
}

impl Progress {
    fn sent(&self, bytes: u64) {
        self.file.inc(bytes);
        self.total.inc(bytes);
    }

    /// A retry or a fallback starts over.
    fn rewind(&self) {
        self.total.dec(self.file.position());
        self.file.set_position(0);
    }
}

async fn upload_file(
    client: &Client,
    path: &Path,
    size: u64,
    options: &Options,
    progress: &Progress,
) -> Result<String, Failure> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::new("the file name is not UTF-8"))?;
    if size <= options.inline_limit {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Failure::new(format!("cannot read it: {e}")))?;
        match inline(client, name, bytes.into(), progress).await {
            Err(failure) if failure.status == Some(StatusCode::PAYLOAD_TOO_LARGE) => {
                progress.rewind()
            }
            outcome => return outcome,
        }
    }
    direct(client, path, name, size, progress).await
}

async fn inline(
    client: &Client,
    name: &str,
    bytes: Bytes,
    progress: &Progress,
) -> Result<String, Failure> {
    let payload = Payload {
        bytes,
        content_type: "application/octet-stream",
        repeat: Some(Repeat::fresh_key()),
    };
    let length = payload.bytes.len() as u64;
    let response = client
        .send_query(
            Method::POST,
            "images",
            &[("file_name", name)],
            Some(&payload),
        )
        .await;
    // The body goes in one write; its progress is counted when it was accepted.
    let record: Record = response?
        .json()
        .await
        .map_err(|e| Failure::new(format!("an unreadable answer: {e}")))?;
    progress.sent(length);
    Ok(record.id)
}

async fn direct(
    client: &Client,
    path: &Path,
    name: &str,
    size: u64,
    progress: &Progress,
) -> Result<String, Failure> {
    let request = CreateUpload {
        file_name: name,
        size,
    };
    let payload = Payload {
        bytes: serde_json::to_vec(&request).expect("a JSON value").into(),
        content_type: "application/json",
        repeat: Some(Repeat::fresh_key()),
    };
    let plan: Plan = client
        .send(Method::POST, "uploads", Some(&payload))
        .await?
        .json()
        .await
        .map_err(|e| Failure::new(format!("an unreadable upload plan: {e}")))?;
    let sent = send_parts(client, path, &plan, progress).await;
    let parts = match sent {
        Ok(parts) => parts,
        Err(failure) => {
            // Nothing half-made is left behind: the plan is abandoned.
            let _ = client
                .send(Method::DELETE, &format!("uploads/{}", plan.id), None)
                .await;
            return Err(failure);
        }
    };
    let parts = if plan.parts.len() == 1 {
        Vec::new()
    } else {
        parts
    };
    let completion = Completion { parts };
    let payload = Payload {
        bytes: serde_json::to_vec(&completion)
            .expect("a JSON value")
            .into(),
        content_type: "application/json",
        repeat: Some(Repeat::Harmless),
    };
    let record: Record = client
        .send(
            Method::POST,
            &format!("uploads/{}/complete", plan.id),
            Some(&payload),
        )
        .await?
        .json()
        .await
        .map_err(|e| Failure::new(format!("an unreadable answer: {e}")))?;
    Ok(record.id)
}

/// Each part's bytes to its presigned URL, with exactly its signed headers; retried like API
/// calls. Returns each part's number and ETag.
async fn send_parts(
    client: &Client,
    path: &Path,
    plan: &Plan,
    progress: &Progress,
) -> Result<Vec<SentPart>, Failure> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Failure::new(format!("cannot read it: {e}")))?;
    let mut parts = Vec::with_capacity(plan.parts.len());
    for part in &plan.parts {
        let length: u64 = part
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse().ok())
            .ok_or_else(|| Failure::new("an upload plan without part lengths"))?;
        let mut bytes = vec![0; length as usize];
        let start = (part.number - 1) * plan.part_size;
        let read = async {
            file.seek(SeekFrom::Start(start)).await?;
            file.read_exact(&mut bytes).await
        };
        read.await
            .map_err(|e| Failure::new(format!("cannot read it: {e}")))?;
        let bytes = Bytes::from(bytes);
        let etag = retrying(|| put_part(client, part, bytes.clone())).await?;
        progress.sent(length);
        parts.push(SentPart {
            number: part.number,
            etag,
        });
    }
    Ok(parts)
}

async fn put_part(client: &Client, part: &PlannedPart, bytes: Bytes) -> Result<String, Failure> {
    let method = part
        .method
        .parse()
        .map_err(|_| Failure::new("an upload plan with a bad method"))?;
    let mut request = client.http().request(method, &part.url).body(bytes);
    for (name, value) in &part.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| Failure {
        message: format!("cannot reach S3: {e}"),
        request_id: None,
        status: None,
        retryable: true,
    })?;
    if !response.status().is_success() {
        return Err(failure_of(response).await);
    }
    Ok(response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned())
}
