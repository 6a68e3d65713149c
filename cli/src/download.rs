//! `get` and `thumbnail`: bytes streamed to a file that never replaces one already there, and
//! never lands outside the current directory by default.

use std::path::PathBuf;

use reqwest::Method;
use tokio::io::AsyncWriteExt;

use crate::client::{Client, Failure};
use crate::records::Named;
use crate::upload;

/// `get`: the image's bytes, under `output` or its stored name made safe.
pub async fn image(
    client: &Client,
    id: &str,
    output: Option<PathBuf>,
    force: bool,
) -> Result<(), Failure> {
    let response = client
        .send(Method::GET, &format!("images/{id}/content"), None)
        .await?;
    let output = match output {
        Some(output) => output,
        None => {
            let record: Named = client
                .send(Method::GET, &format!("images/{id}"), None)
                .await?
                .json()
                .await
                .map_err(|e| Failure::new(format!("an unreadable record: {e}")))?;
            PathBuf::from(safe_file_name(&record.file_name, id, &record.content_type))
        }
    };
    save(response, &output, force).await
}

/// `thumbnail`: under `output`, or `{id}-{size}.{jpg|png}`.
pub async fn thumbnail(
    client: &Client,
    id: &str,
    size: u32,
    output: Option<PathBuf>,
    force: bool,
) -> Result<(), Failure> {
    let path = format!("images/{id}/thumbnail?size={size}");
    let response = client.send(Method::GET, &path, None).await?;
    let extension = match response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    {
        Some("image/png") => "png",
        _ => "jpg",
    };
    let output = output.unwrap_or_else(|| PathBuf::from(format!("{id}-{size}.{extension}")));
    save(response, &output, force).await
}

/// The name a download is saved under by default: the uploader's `stored` name cut to its
/// last component, without control characters or leading dots (no `..`, no `.bashrc`), so
/// that a name chosen by whoever uploaded never picks the directory nor a hidden file; else
/// `{id}.{ext}`.
fn safe_file_name(stored: &str, id: &str, media: &str) -> String {
    let last = stored.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if !clean.is_empty() {
        return clean.to_owned();
    }
    let extension = match media {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        "image/heic" => "heic",
        "image/tiff" => "tiff",
        "image/bmp" => "bmp",
        _ => "bin",
    };
    // An id is the server's, but it reached us over the network too.
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{id}.{extension}")
}

/// Streams the body to `output` (`-`: stdout) as it arrives. A file is written under a
/// `.part` name and renamed when complete, so a broken download leaves no file that looks
/// whole. Without `force`, a file already at `output` is never replaced: the name is claimed
/// first with `create_new`, so that it cannot appear between a check and the write either.
async fn save(response: reqwest::Response, output: &PathBuf, force: bool) -> Result<(), Failure> {
    if output.as_os_str() == "-" {
        return copy(response, &mut tokio::io::stdout(), "to stdout")
            .await
            .map(drop);
    }
    let shown = output.display().to_string();
    if !force {
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(output)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Failure::new(format!(
                    "{shown} already exists: left as it is (--force overwrites it, -o names another file)"
                )),
                _ => Failure::new(format!("cannot write {shown}: {e}")),
            })?;
    }
    let claimed = !force;
    let mut partial = output.clone().into_os_string();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let mut file = match tokio::fs::File::create(&partial).await {
        Ok(file) => file,
        Err(e) => {
            if claimed {
                let _ = tokio::fs::remove_file(output).await;
            }
            return Err(Failure::new(format!("cannot write {shown}: {e}")));
        }
    };
    let written = match copy(response, &mut file, &shown).await {
        Ok(written) => written,
        Err(failure) => {
            let _ = tokio::fs::remove_file(&partial).await;
            if claimed {
                let _ = tokio::fs::remove_file(output).await;
            }
            return Err(failure);
        }
    };
    tokio::fs::rename(&partial, output)
        .await
        .map_err(|e| Failure::new(format!("cannot write {shown}: {e}")))?;
    eprintln!("wrote {shown} ({})", upload::human(written));
    Ok(())
}

/// The body into `sink` (named `name` in errors), chunk by chunk; how many bytes it had.
async fn copy(
    mut response: reqwest::Response,
    sink: &mut (impl tokio::io::AsyncWrite + Unpin),
    name: &str,
) -> Result<u64, Failure> {
    let cannot_write = |e: std::io::Error| Failure::new(format!("cannot write {name}: {e}"));
    let mut written = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::new(format!("the download broke off: {e}")))?
    {
        sink.write_all(&chunk).await.map_err(cannot_write)?;
        written += chunk.len() as u64;
    }
    sink.flush().await.map_err(cannot_write)?;
    Ok(written)
}
