//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//! `app` builds the one router both entry points serve, so tests exercise exactly that.

pub mod config;
pub mod domain;
pub mod error;
pub mod media;
mod routes;
pub mod sdk;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;

use axum::Router;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

pub fn app(state: AppState) -> Router {
    routes::router()
        .with_state(state)
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
}
