//! image-api: an image upload service for AWS Lambda, servable over plain HTTP as well.
//! `app` builds the one router both entry points serve, so tests exercise exactly that.

pub mod config;
pub mod domain;
pub mod error;
pub mod lambda;
mod limits;
pub mod media;
pub mod openapi;
pub mod reconcile;
mod routes;
pub mod sdk;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::from_fn;
use axum::response::IntoResponse;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.config.cors_allowed_origins);
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
        .layer(MapRequestLayer::new(lambda::strip_mount_prefix))
}

/// CORS is off unless origins are configured; then only those origins may call, with the
/// headers a browser client needs to send and to read.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).expect("validated by Config"))
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::IF_NONE_MATCH,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("x-amz-date"),
                HeaderName::from_static("x-amz-security-token"),
                telemetry::REQUEST_ID_HEADER.clone(),
            ])
            .expose_headers([
                header::LOCATION,
                header::ETAG,
                telemetry::REQUEST_ID_HEADER.clone(),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
