//! Bounds on the parts of a request that no handler reads whole: headers and the URI. The
//! body's bound depends on the route and lives with the upload handler. hyper's own limits
//! (`server`) are above these, so a head past them is answered here, with a problem document.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::CONNECTION;
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
/// The longest head within the bounds: a request line with the longest URI, then as many
/// fields as allowed, their names and values at the bound, each with `: ` and CRLF.
pub const MAX_HEAD_BYTES: usize = MAX_URI_BYTES + 64 + MAX_HEADER_BYTES + 4 * MAX_HEADER_FIELDS;

pub async fn layer(request: Request, next: Next) -> Response {
    match past_bounds(&request) {
        None => next.run(request).await,
        // A client past these bounds is not one worth keeping a connection open for.
        Some(error) => {
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn past_bounds(request: &Request) -> Option<ApiError> {
    if request.headers().len() > MAX_HEADER_FIELDS {
        return Some(ApiError::TooManyHeaders {
            limit: MAX_HEADER_FIELDS,
        });
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        });
    }
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    (uri_bytes > MAX_URI_BYTES).then_some(ApiError::UriTooLong {
        limit: MAX_URI_BYTES,
    })
}
