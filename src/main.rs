//! The binary: serves the API inside Lambda when Lambda runs it, over HTTP otherwise, or runs
//! an operator's sub-command (`commands`). Building the application is `startup`'s job.

use std::process::ExitCode;

use image_api::commands::{self, fail};
use image_api::telemetry::{self, LogFormat};
use image_api::{Application, Config, lambda};

fn main() -> ExitCode {
    // One thread serves, inside Lambda (one invocation at a time) and over HTTP alike: a thread
    // per core cost the HTTP server about a fifth of its CPU per upload in wakeups across cores
    // (docs/design-decisions.md), and the local server then schedules as the function does.
    // Decoding runs on tokio's blocking pool either way. `TOKIO_WORKER_THREADS` (read by tokio)
    // gives the HTTP server a pool of that many threads instead.
    let in_lambda = lambda::in_lambda();
    if in_lambda {
        lambda::keep_large_buffers();
    }
    let mut builder = if !in_lambda && std::env::var_os("TOKIO_WORKER_THREADS").is_some() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the async runtime: {error}")),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    runtime.block_on(async {
        if args.is_empty() {
            serve(in_lambda).await
        } else {
            commands::run(&args).await
        }
    })
}

async fn serve(in_lambda: bool) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error.to_string()),
    };
    telemetry::init(if in_lambda {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
    let application = match Application::build(config).await {
        Ok(application) => application,
        Err(error) => return fail(&format!("cannot start: {error}")),
    };
    let served = if in_lambda {
        application.run_lambda().await.map_err(|e| e.to_string())
    } else {
        application.run_http().await.map_err(|e| e.to_string())
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}
