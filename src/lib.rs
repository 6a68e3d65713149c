//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//! `app` builds the one router both entry points serve, so tests exercise exactly that.

pub mod config;
mod cors;
pub mod domain;
pub mod error;
pub mod lambda;
pub mod lambda_event;
mod limits;
pub mod media;
pub mod openapi;
pub mod query_string;
pub mod reconcile;
mod routes;
pub mod sdk;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn;
use axum::response::IntoResponse;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

pub fn app(state: AppState) -> Router {
    let cors = cors::layer(&state.config.cors_allowed_origins);
    let api = routes::router()
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }));
    // Wrapped, not layered: these must see the request before routing picks a route.
    let mut app = Router::new()
        .fallback_service(api)
        .layer(from_fn(limits::bound_request));
    if let Some(cors) = cors {
        app = app.layer(cors);
    }
    app.layer(from_fn(telemetry::request_span))
        // Every response, errors included: a problem document echoes client input.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(MapRequestLayer::new(lambda::strip_mount_prefix))
}
