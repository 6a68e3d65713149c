//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//!
//! - Start-up: `startup::Application` reads the configuration, builds the SDK clients and the
//!   state, and serves `app` over HTTP (`http_server`) or in Lambda (`lambda`); `main.rs` only
//!   chooses, and the tests build through the same `Application`.
//! - A request enters through `pipeline::around` (its layers, in order), then `routes`: one
//!   module per resource (`images`, `thumbnails`, `direct_uploads`, the page), with the
//!   extractors that turn it into domain types (`routes::extract`).
//! - The work is in `domain` (what a request means, no HTTP) and `storage` (S3 and DynamoDB);
//!   `imaging` (a crate of its own) reads every image byte.
//! - Every error becomes a problem document in one place: `error` (the table of problem
//!   types is `error::problems`).
//!
//! Modules are public where the tests, the fuzz targets or the binary's sub-commands reach
//! into them.

pub mod accept;
pub mod auth;
pub mod bodies;
pub mod commands;
pub mod config;
pub mod domain;
pub mod error;
pub(crate) mod http_server;
pub mod lambda;
pub mod openapi;
mod pipeline;
pub mod query_string;
pub mod reconcile;
pub mod responses;
mod routes;
pub mod sdk;
pub mod startup;
pub(crate) mod state;
pub mod storage;
pub mod telemetry;

use axum::Router;
use axum::middleware::from_fn;

pub use config::Config;
pub use error::ApiError;
pub use startup::Application;
pub use state::AppState;

/// The image routes and the API description, their 404 and 405 answers, inside the request
/// pipeline (`pipeline::around` lists its layers in order).
pub fn app(state: AppState) -> Router {
    let routes = routes::router()
        .merge(openapi::router(state.config.max_direct_upload_bytes))
        .layer(from_fn(routes::fallback::method_not_allowed))
        .fallback(routes::fallback::not_found)
        .with_state(state.clone());
    pipeline::around(routes, &state.config)
}
