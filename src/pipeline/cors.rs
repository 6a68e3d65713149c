//! Cross-origin access for browser clients: off by default, an allow-list when configured.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::request_id::REQUEST_ID_HEADER;

/// CORS is off unless origins are configured; then only those origins may call, with the
/// headers a browser client needs to send and to read.
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
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
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-amz-date"),
                HeaderName::from_static("x-amz-security-token"),
                REQUEST_ID_HEADER.clone(),
            ])
            .expose_headers([header::LOCATION, header::ETAG, REQUEST_ID_HEADER.clone()])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
