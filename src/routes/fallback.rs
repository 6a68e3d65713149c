use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see the README for the API's paths".into())
}

/// axum answers a known path with an unknown method by an empty 405; this gives it a problem
/// body. axum adds the `Allow` header after this layer, from its own route table.
pub async fn method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    ApiError::MethodNotAllowed(method).into_response()
}
