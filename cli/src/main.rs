//! `image-api-cli`: upload files and folders to an image-api deployment (or `make run`), list,
//! download, make thumbnails and delete. Errors print the problem's `detail` and `request_id`
//! and exit with 1; usage errors exit with 2.

mod client;
mod connection;
mod download;
mod list;
mod login;
mod prompt;
mod records;
mod sigv4;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use reqwest::Method;

use client::{Client, Failure};
use connection::Connection;

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
                None => prompt::cognito_endpoint_of(&user_pool_id)?,
            };
            let password = prompt::password(&username, password_stdin)?;
            let ask_new_password = || prompt::new_password(&username, password_stdin);
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
    let auth = connection::auth(&connection, &api).await?;
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
            list::run(&client, &filters, limit, json)
                .await
                .map(|()| true)
        }
        ApiCommand::Get { id, output, force } => download::image(&client, &id, output, force)
            .await
            .map(|()| true),
        ApiCommand::Thumbnail {
            id,
            size,
            output,
            force,
        } => download::thumbnail(&client, &id, size, output, force)
            .await
            .map(|()| true),
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
