//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//! `app` builds the one router both entry points serve, so tests exercise exactly that.

pub mod config;
pub mod domain;
pub mod error;
pub mod lambda;
pub mod media;
mod routes;
pub mod sdk;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;

use axum::Router;
use axum::middleware::from_fn;
use axum::response::IntoResponse;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

pub fn app(state: AppState) -> Router {
    let api = routes::router()
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }));
    // Wrapped, not layered: these must see the request before routing picks a route.
    Router::new()
        .fallback_service(api)
        .layer(from_fn(telemetry::request_span))
        .layer(MapRequestLayer::new(lambda::strip_mount_prefix))
}
