//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//! `app` builds the one router both entry points serve, so tests exercise exactly that;
//! `startup::Application` builds it from the configuration. Modules are public where the
//! tests, the fuzz targets or the binary's sub-commands reach into them.

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
