//! A panic in a handler answers `500` with a problem document instead of dropping the
//! connection (the release profile keeps unwinding for this).

use axum::response::IntoResponse;
use tower_http::catch_panic::{CatchPanicLayer, ResponseForPanic};

use crate::error::ApiError;

#[derive(Clone, Copy)]
pub struct InternalError;

impl ResponseForPanic for InternalError {
    type ResponseBody = axum::body::Body;

    fn response_for_panic(
        &mut self,
        _panic: Box<dyn std::any::Any + Send + 'static>,
    ) -> axum::http::Response<Self::ResponseBody> {
        ApiError::Internal("a request handler panicked".into()).into_response()
    }
}

pub fn layer() -> CatchPanicLayer<InternalError> {
    CatchPanicLayer::custom(InternalError)
}
