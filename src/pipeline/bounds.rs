//! Bounds on the parts of a request that no handler reads whole: headers and the URI. The
//! body's bound depends on the route and lives with the upload handler.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Names plus values: more than API Gateway itself allows, and far more than SigV4 and
/// cookies need.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Path plus query: several times the longest legitimate URI (a listing with a 255-character
/// file name and a page token, percent-encoded).
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn layer(request: Request, next: Next) -> Response {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        }
        .into_response();
    }
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        }
        .into_response();
    }
    next.run(request).await
}
