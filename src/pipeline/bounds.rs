//! Bounds on the parts of a request that no handler reads whole: headers and the URI. The
//! body's bound depends on the route and lives with the upload handler. The HTTP server
//! checks a head before hyper reads it (`server::head_guard`) and marks one it refuses with a
//! `HeadRefusal`, answered here like the bounds.

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
/// Header fields, however small: room for 16 KiB of tiny ones.
pub const MAX_HEADER_FIELDS: usize = MAX_HEADER_BYTES / 4;

/// Why the HTTP server refused a request head that hyper could not have read, or one past
/// the bounds; the request that reaches the router in its place carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadRefusal {
    /// Not an HTTP/1.1 head: says what is wrong with it.
    Malformed(&'static str),
    TooManyHeaders,
    HeadersTooLarge,
    UriTooLong,
}

impl From<HeadRefusal> for ApiError {
    fn from(refusal: HeadRefusal) -> Self {
        match refusal {
            HeadRefusal::Malformed(what) => ApiError::MalformedRequest(what),
            HeadRefusal::TooManyHeaders => ApiError::TooManyHeaders {
                limit: MAX_HEADER_FIELDS,
            },
            HeadRefusal::HeadersTooLarge => ApiError::HeadersTooLarge {
                limit: MAX_HEADER_BYTES,
            },
            HeadRefusal::UriTooLong => ApiError::UriTooLong {
                limit: MAX_URI_BYTES,
            },
        }
    }
}

pub async fn layer(request: Request, next: Next) -> Response {
    if let Some(refusal) = request.extensions().get::<HeadRefusal>() {
        tracing::info!(?refusal, "request head refused before it was read");
        return ApiError::from(refusal.clone()).into_response();
    }
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
