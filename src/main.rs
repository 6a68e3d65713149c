use std::process::ExitCode;

use image_api::telemetry::{self, LogFormat};
use image_api::{AppState, Config, app, lambda, server};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("image-api: {error}");
            return ExitCode::FAILURE;
        }
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
        Err(error) => {
            eprintln!("image-api: {error}");
            ExitCode::FAILURE
        }
    }
}
