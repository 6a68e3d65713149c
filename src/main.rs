use std::process::ExitCode;

use image_api::reconcile::{self, Options};
use image_api::telemetry::{self, LogFormat};
use image_api::{AppState, Config, app, lambda, sdk, server};

const USAGE: &str = "usage: image-api                 serve the API (Lambda when AWS_LAMBDA_RUNTIME_API is set, else HTTP on BIND_ADDR)
       image-api reconcile [--repair] [--grace-seconds N]
                                   report (and remove) objects without records and records without objects
       image-api openapi           print the OpenAPI 3.1 description (as served at /openapi.json)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve().await,
        Some("reconcile") => match Options::parse(&args[1..]) {
            Ok(options) => run_reconcile(options).await,
            Err(message) => fail(&message),
        },
        Some("openapi") => {
            println!("{}", image_api::openapi::document());
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
    let in_lambda = lambda::in_lambda();
    telemetry::init(if in_lambda {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
    let bind_addr = config.bind_addr;
    let router = app(AppState::connect(config).await);

    let outcome = if in_lambda {
        server::run_lambda(router).await.map_err(|e| e.to_string())
    } else {
        server::run_http(router, bind_addr)
            .await
            .map_err(|e| e.to_string())
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
    let sdk_config = sdk::load(&config).await;
    let s3 = sdk::s3(&sdk_config, &config);
    let dynamodb = sdk::dynamodb(&sdk_config);
    match reconcile::run(
        &s3,
        &dynamodb,
        &config.bucket_name,
        &config.table_name,
        &options,
    )
    .await
    {
        Ok(report) => {
            print!("{}", report.render(&options));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("reconcile failed: {error}")),
    }
}
