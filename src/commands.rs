//! The operator's sub-commands of the binary (`image-api reconcile`, `adopt`, `openapi`):
//! each reads the configuration and builds the application as the server does.

use std::process::ExitCode;

use crate::config::Config;
use crate::domain::Owner;
use crate::reconcile::{self, Options};
use crate::startup::Application;
use crate::telemetry::{self, LogFormat};

pub const USAGE: &str = "usage: image-api                 serve the API (Lambda when AWS_LAMBDA_RUNTIME_API is set, else HTTP on BIND_ADDR)
       image-api reconcile [--repair] [--grace-seconds N]
                                   report (and remove) objects without records and records without objects
       image-api adopt [--owner OWNER]
                                   give the records written before owners an owner (IMAGE_OWNER by default)
       image-api openapi           print the OpenAPI 3.1 description (as served at /openapi.json)";

/// Runs the sub-command `args` names (its name first).
pub async fn run(args: &[String]) -> ExitCode {
    let outcome = match args[0].as_str() {
        "reconcile" => match Options::parse(&args[1..]) {
            Ok(options) => run_reconcile(options).await,
            Err(message) => Err(message),
        },
        "adopt" => run_adopt(&args[1..]).await,
        "openapi" => {
            println!("{}", crate::openapi::default_document());
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

pub fn fail(message: &str) -> ExitCode {
    eprintln!("image-api: {message}");
    ExitCode::FAILURE
}

async fn application(config: Config) -> Result<Application, String> {
    telemetry::init(LogFormat::Text);
    Application::build(config)
        .await
        .map_err(|error| format!("cannot start: {error}"))
}

async fn run_reconcile(options: Options) -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let application = application(config).await?;
    let report = reconcile::run(&application.state().store, &options)
        .await
        .map_err(|error| format!("reconcile failed: {error}"))?;
    print!("{}", report.render(&options));
    Ok(())
}

async fn run_adopt(args: &[String]) -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let owner = match args {
        [] => config.owner.clone(),
        [flag, owner] if flag == "--owner" => Owner::parse(owner).map_err(|e| e.to_string())?,
        _ => return Err(format!("unexpected arguments {args:?}\n{USAGE}")),
    };
    let application = application(config).await?;
    let adopted = application
        .state()
        .store
        .catalog()
        .adopt(&owner)
        .await
        .map_err(|error| format!("adopt failed: {error}"))?;
    println!(
        "adopted for owner {owner}: {} images, {} pending uploads",
        adopted.images, adopted.uploads
    );
    Ok(())
}
