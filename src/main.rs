use std::process::ExitCode;

use image_api::domain::Owner;
use image_api::reconcile::{self, Options};
use image_api::telemetry::{self, LogFormat};
use image_api::{AppState, Config, app, lambda_env, server};

const USAGE: &str = "usage: image-api                 serve the API (Lambda when AWS_LAMBDA_RUNTIME_API is set, else HTTP on BIND_ADDR)
       image-api reconcile [--repair] [--grace-seconds N]
                                   report (and remove) objects without records and records without objects
       image-api adopt [--owner OWNER]
                                   give the records written before owners an owner (IMAGE_OWNER by default)
       image-api openapi           print the OpenAPI 3.1 description (as served at /openapi.json)";

fn main() -> ExitCode {
    // One thread serves, inside Lambda (one invocation at a time) and over HTTP alike: a thread
    // per core cost the HTTP server about a fifth of its CPU per upload in wakeups across cores
    // (docs/design-decisions.md), and the local server then schedules as the function does.
    // Decoding runs on tokio's blocking pool either way. `TOKIO_WORKER_THREADS` (read by tokio)
    // gives the HTTP server a pool of that many threads instead.
    let in_lambda = lambda_env::in_lambda();
    if in_lambda {
        lambda_env::keep_large_buffers();
    }
    let mut builder = if !in_lambda && std::env::var_os("TOKIO_WORKER_THREADS").is_some() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(run(std::env::args().skip(1).collect())),
        Err(error) => fail(&format!("cannot start the async runtime: {error}")),
    }
}

async fn run(args: Vec<String>) -> ExitCode {
    match args.first().map(String::as_str) {
        None => serve().await,
        Some("reconcile") => match Options::parse(&args[1..]) {
            Ok(options) => run_reconcile(options).await,
            Err(message) => fail(&message),
        },
        Some("adopt") => run_adopt(&args[1..]).await,
        Some("openapi") => {
            println!("{}", image_api::openapi::default_document());
            ExitCode::SUCCESS
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => fail(&format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("image-api: {message}");
    ExitCode::FAILURE
}

fn config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|error| fail(&error.to_string()))
}

async fn serve() -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let in_lambda = lambda_env::in_lambda();
    telemetry::init(if in_lambda {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
    let bind_addr = config.bind_addr;
    let limits = server::ConnectionLimits {
        max_connections: config.max_connections,
        client_timeout: config.client_timeout,
    };
    let state = match AppState::connect(config).await {
        Ok(state) => state,
        Err(error) => return fail(&format!("cannot start: {error}")),
    };
    let router = app(state.clone());

    let outcome = if in_lambda {
        server::run_lambda(router).await.map_err(|e| e.to_string())
    } else {
        let served = server::run_http(router, bind_addr, limits).await;
        // Uploads and deletes whose clients left are still finishing: let them.
        state.store.finish_pending().await;
        served.map_err(|e| e.to_string())
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn run_reconcile(options: Options) -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    telemetry::init(LogFormat::Text);
    let state = match AppState::connect(config).await {
        Ok(state) => state,
        Err(error) => return fail(&format!("cannot start: {error}")),
    };
    match reconcile::run(&state.store, &options).await {
        Ok(report) => {
            print!("{}", report.render(&options));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("reconcile failed: {error}")),
    }
}

async fn run_adopt(args: &[String]) -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let owner = match args {
        [] => config.owner.clone(),
        [flag, owner] if flag == "--owner" => match Owner::parse(owner) {
            Ok(owner) => owner,
            Err(error) => return fail(&error.to_string()),
        },
        _ => return fail(&format!("unexpected arguments {args:?}\n{USAGE}")),
    };
    telemetry::init(LogFormat::Text);
    let state = match AppState::connect(config).await {
        Ok(state) => state,
        Err(error) => return fail(&format!("cannot start: {error}")),
    };
    match state.store.catalog().adopt(&owner).await {
        Ok(adopted) => {
            println!(
                "adopted for owner {owner}: {} images, {} pending uploads",
                adopted.images, adopted.uploads
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("adopt failed: {error}")),
    }
}
