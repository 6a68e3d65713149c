//! `image-api-cli`: upload files and folders to an image-api deployment (or `make run`), list,
//! download, make thumbnails and delete. Errors print the problem's `detail` and `request_id`
//! and exit with 1; usage errors exit with 2.

mod client;
mod login;
mod sigv4;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use clap::{Parser, Subcommand};
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use client::{Auth, Client, Failure};

#[derive(Parser)]
#[command(
    name = "image-api-cli",
    version,
    about = "A command-line client for image-api"
)]
struct Cli {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

/// Where the API is and how to authenticate to it.
#[derive(clap::Args)]
struct Connection {
    /// The API's base URL: a stack's `ApiUrl` (`https://…/Prod`) or `make run`'s address.
    #[arg(long, env = "IMAGE_API_URL", default_value = "http://127.0.0.1:3000")]
    endpoint: String,
    /// An API key, for stacks deployed with `AuthMode=API_KEY`.
    #[arg(long, env = "IMAGE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A Cognito access token, for stacks deployed with `AuthMode=COGNITO` (else `login` once).
    #[arg(long, env = "IMAGE_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Sign requests with SigV4 (the standard AWS credential chain), for `AuthMode=AWS_IAM`
    /// stacks. On by default for `*.amazonaws.com` endpoints when no API key is given.
    #[arg(long)]
    sigv4: bool,
    /// The region to sign for; by default the one in the endpoint, else the AWS config's.
    #[arg(long)]
    region: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a stack deployed with `AuthMode=COGNITO` (its `UserPoolId` and
    /// `UserPoolClientId` outputs); later commands use the sign-in, renewed as needed.
    Login {
        #[arg(long, env = "IMAGE_API_USER_POOL_ID")]
        user_pool_id: String,
        #[arg(long, env = "IMAGE_API_CLIENT_ID")]
        client_id: String,
        #[arg(long)]
        username: String,
        /// Cognito's API, for an emulator; by default the pool's region's.
        #[arg(long, env = "IMAGE_API_COGNITO_ENDPOINT")]
        cognito_endpoint: Option<String>,
        /// Read the password from the first line of stdin instead of asking for it (and, if it
        /// is a temporary one, the new password from the second).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the sign-in to this endpoint.
    Logout,
    #[command(flatten)]
    Api(ApiCommand),
}

/// What the API does.
#[derive(Subcommand)]
enum ApiCommand {
    /// Upload files, and folders recursively.
    Upload {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Files sent at the same time.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Files up to this many bytes go inline, larger ones straight to S3 (the service's
        /// `MAX_UPLOAD_BYTES`, 4 MiB by default; a smaller service limit is handled too).
        #[arg(long, default_value_t = 4 * 1024 * 1024)]
        inline_limit: u64,
    },
    /// List images, newest first.
    List {
        #[arg(long)]
        file_name: Option<String>,
        /// RFC 3339, e.g. 2026-01-31T00:00:00Z.
        #[arg(long)]
        created_after: Option<String>,
        #[arg(long)]
        created_before: Option<String>,
        /// At most this many (all of them by default, page after page).
        #[arg(long)]
        limit: Option<usize>,
        /// JSON lines, one record each, instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Download an image's bytes.
    Get {
        id: String,
        /// Where to write them (`-` for stdout); by default its stored file name's base name,
        /// made safe, in the current directory.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite a file that is already there (never by default).
        #[arg(long)]
        force: bool,
    },
    /// Download a thumbnail.
    Thumbnail {
        id: String,
        /// 64, 128, 256, 512 or 1024.
        #[arg(long, default_value_t = 256)]
        size: u32,
        /// Where to write it (`-` for stdout); by default ID-SIZE.jpg (or .png).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite a file that is already there (never by default).
        #[arg(long)]
        force: bool,
    },
    /// Delete images.
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<bool, Failure> {
    let connection = cli.connection;
    let api = connection.endpoint.trim_end_matches('/').to_owned();
    let command = match cli.command {
        Command::Login {
            user_pool_id,
            client_id,
            username,
            cognito_endpoint,
            password_stdin,
        } => {
            let endpoint = match cognito_endpoint {
                Some(endpoint) => endpoint,
                None => cognito_endpoint_of(&user_pool_id)?,
            };
            let password = password(&username, password_stdin)?;
            let ask_new_password = || new_password(&username, password_stdin);
            let http = reqwest::Client::new();
            login::login(
                &http,
                &api,
                &endpoint,
                &client_id,
                &username,
                &password,
                ask_new_password,
            )
            .await?;
            eprintln!("signed in to {api} as {username}");
            return Ok(true);
        }
        Command::Logout => {
            if login::logout(&api)? {
                eprintln!("signed out of {api}");
            } else {
                eprintln!("not signed in to {api}");
            }
            return Ok(true);
        }
        Command::Api(command) => command,
    };
    let auth = auth(&connection, &api).await?;
    let client = Arc::new(Client::new(&connection.endpoint, auth)?);
    match command {
        ApiCommand::Upload {
            paths,
            jobs,
            inline_limit,
        } => {
            let options = upload::Options { jobs, inline_limit };
            upload::run(client, &paths, options).await
        }
        ApiCommand::List {
            file_name,
            created_after,
            created_before,
            limit,
            json,
        } => {
            let filters = [
                ("file_name", file_name),
                ("created_after", created_after),
                ("created_before", created_before),
            ];
            list(&client, &filters, limit, json).await.map(|()| true)
        }
        ApiCommand::Get { id, output, force } => {
            let response = client
                .send(Method::GET, &format!("images/{id}/content"), None)
                .await?;
            let output = match output {
                Some(output) => output,
                None => {
                    let record: serde_json::Value = client
                        .send(Method::GET, &format!("images/{id}"), None)
                        .await?
                        .json()
                        .await
                        .map_err(|e| Failure::new(format!("an unreadable record: {e}")))?;
                    let stored = record["file_name"].as_str().unwrap_or_default();
                    let media = record["content_type"].as_str().unwrap_or_default();
                    PathBuf::from(safe_file_name(stored, &id, media))
                }
            };
            save(response, &output, force).await.map(|()| true)
        }
        ApiCommand::Thumbnail {
            id,
            size,
            output,
            force,
        } => {
            let response = client
                .send(
                    Method::GET,
                    &format!("images/{id}/thumbnail?size={size}"),
                    None,
                )
                .await?;
            let extension = match response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
            {
                Some("image/png") => "png",
                _ => "jpg",
            };
            let output =
                output.unwrap_or_else(|| PathBuf::from(format!("{id}-{size}.{extension}")));
            save(response, &output, force).await.map(|()| true)
        }
        ApiCommand::Delete { ids } => {
            let mut all = true;
            for id in ids {
                match client
                    .send(Method::DELETE, &format!("images/{id}"), None)
                    .await
                {
                    Ok(_) => println!("deleted {id}"),
                    Err(failure) => {
                        eprintln!("error: {id}: {failure}");
                        all = false;
                    }
                }
            }
            Ok(all)
        }
    }
}

/// Cognito's API in the region a user pool id names (`{region}_{id}`).
fn cognito_endpoint_of(user_pool_id: &str) -> Result<String, Failure> {
    user_pool_id
        .split_once('_')
        .map(|(region, _)| region)
        .filter(|region| !region.is_empty())
        .map(|region| format!("https://cognito-idp.{region}.amazonaws.com"))
        .ok_or_else(|| {
            Failure::new(format!(
                "{user_pool_id:?} is not a user pool id (region_id)"
            ))
        })
}

/// The password, asked for without echo, or the first line of stdin.
fn password(username: &str, from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return stdin_line("the password");
    }
    rpassword::prompt_password(format!("Password for {username}: ")).map_err(unreadable)
}

/// The password that replaces a temporary one: asked for twice without echo, or the next line
/// of stdin.
fn new_password(username: &str, from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return stdin_line("a new password (the password is temporary)");
    }
    eprintln!("{username}'s password is temporary: choose a new one.");
    let first = rpassword::prompt_password("New password: ").map_err(unreadable)?;
    let again = rpassword::prompt_password("New password again: ").map_err(unreadable)?;
    if first != again {
        return Err(Failure::new("the two new passwords differ"));
    }
    Ok(first)
}

/// The next line of stdin, without its line ending; `what` names it if there is none.
fn stdin_line(what: &str) -> Result<String, Failure> {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).map_err(unreadable)? == 0 {
        return Err(Failure::new(format!("stdin ended before {what}")));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn unreadable(e: std::io::Error) -> Failure {
    Failure::new(format!("cannot read the password: {e}"))
}

async fn auth(cli: &Connection, api: &str) -> Result<Auth, Failure> {
    if let Some(key) = &cli.api_key {
        return Ok(Auth::ApiKey(key.clone()));
    }
    if let Some(token) = &cli.token {
        return Ok(Auth::Bearer(token.clone()));
    }
    if let Some(token) = login::access_token(&reqwest::Client::new(), api).await? {
        return Ok(Auth::Bearer(token));
    }
    let host = reqwest::Url::parse(&cli.endpoint)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    if !cli.sigv4 && !host.ends_with(".amazonaws.com") {
        return Ok(Auth::None);
    }
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    // execute-api hosts name their region: {api}.execute-api.{region}.amazonaws.com.
    let from_host = host
        .split('.')
        .skip_while(|part| *part != "execute-api")
        .nth(1)
        .map(str::to_owned);
    let region = cli
        .region
        .clone()
        .or(from_host)
        .or_else(|| config.region().map(|r| r.to_string()))
        .ok_or_else(|| Failure::new("no region to sign for: pass --region"))?;
    let credentials = config.credentials_provider().ok_or_else(|| {
        Failure::new(
            "no AWS credentials found for SigV4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile with keys (for SSO: `aws configure export-credentials --format env`)",
        )
    })?;
    Ok(Auth::SigV4 {
        credentials,
        region,
    })
}

async fn list(
    client: &Client,
    filters: &[(&str, Option<String>)],
    limit: Option<usize>,
    json: bool,
) -> Result<(), Failure> {
    let mut token: Option<String> = None;
    let mut shown = 0;
    if !json {
        println!(
            "{:<36}  {:>10}  {:>11}  {:<20}  file name",
            "id", "bytes", "dimensions", "created"
        );
    }
    loop {
        let page = limit
            .map_or(100, |limit| (limit - shown).min(100))
            .to_string();
        let mut query: Vec<(&str, &str)> = filters
            .iter()
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)))
            .collect();
        query.push(("limit", &page));
        if let Some(token) = &token {
            query.push(("next_token", token));
        }
        let body: serde_json::Value = client
            .send_query(Method::GET, "images", &query, None)
            .await?
            .json()
            .await
            .map_err(|e| Failure::new(format!("an unreadable listing: {e}")))?;
        for item in body["items"].as_array().into_iter().flatten() {
            shown += 1;
            if json {
                println!("{item}");
            } else {
                let dimensions = match (item["width"].as_u64(), item["height"].as_u64()) {
                    (Some(w), Some(h)) => format!("{w}x{h}"),
                    _ => "-".into(),
                };
                println!(
                    "{:<36}  {:>10}  {:>11}  {:<20}  {}",
                    item["id"].as_str().unwrap_or_default(),
                    item["size"].as_u64().unwrap_or_default(),
                    dimensions,
                    item["created_at"]
                        .as_str()
                        .unwrap_or_default()
                        .get(..19)
                        .unwrap_or_default(),
                    item["file_name"]
                        .as_str()
                        .unwrap_or_default()
                        .escape_debug(),
                );
            }
        }
        token = body["next_token"].as_str().map(str::to_owned);
        if token.is_none() || limit.is_some_and(|limit| shown >= limit) {
            return Ok(());
        }
    }
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
