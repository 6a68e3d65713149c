//! What every request passes through before and after routing, in one place and in order.

mod bounds;
mod cors;
mod mount_prefix;
mod panics;
pub mod request_id;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn;
use tower::util::MapRequestLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use bounds::{MAX_HEAD_BYTES, MAX_HEADER_BYTES, MAX_HEADER_FIELDS, MAX_URI_BYTES};

use crate::config::Config;

/// Wraps the routes in the pipeline, listed here from the outside in:
/// 1. `mount_prefix`: behind API Gateway, drop a stage or base path before anything reads it;
/// 2. `nosniff` on every response, errors included (problem documents echo client input);
/// 3. `request_id`: the request's id, its span and its log line;
/// 4. `cors`, when configured;
/// 5. `bounds`: headers and URI within their limits, and heads the HTTP server refused;
/// 6. `panics`: a handler's panic becomes a `500` problem document.
pub fn around(routes: Router, config: &Config) -> Router {
    let inner = routes.layer(panics::layer());
    // A router wrapped, not layered: the layers below must see a request before routing
    // picks a route (a 404 or 405 passes through them too).
    let mut app = Router::new()
        .fallback_service(inner)
        .layer(from_fn(bounds::layer));
    if let Some(cors) = cors::layer(&config.cors_allowed_origins) {
        app = app.layer(cors);
    }
    app.layer(from_fn(request_id::layer))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(MapRequestLayer::new(mount_prefix::strip))
}
