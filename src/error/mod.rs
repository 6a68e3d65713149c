//! The one error type of the API and its single translation into an RFC 9457 problem document:
//! domain, storage and HTTP-edge errors all become one here. Internals (SDK errors,
//! endpoints) are logged here and never reach a response body.

use aws_sdk_s3::error::DisplayErrorContext;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::domain::InputError;
use crate::storage::{OnceError, StorageError, UploadError};
use imaging::thumbnail::ThumbnailError;

mod problems;
pub use problems::ProblemType;

pub use crate::storage::BoxError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every error a request can end in: the domain's refusals of input, what the HTTP edge
/// refuses before the domain sees anything, and failures of storage.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Input(#[from] InputError),
    /// No valid access token: `401` with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body could not be read")]
    UnreadableBody,
    #[error("the request body paused for more than {secs} seconds")]
    BodyTimeout { secs: u64 },
    #[error("the request headers exceed {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("the request has more than {limit} header fields")]
    TooManyHeaders { limit: usize },
    #[error("the request URI exceeds {limit} bytes")]
    UriTooLong { limit: usize },
    #[error(
        "method {0} is not allowed on this path; the Allow header lists the methods it accepts"
    )]
    MethodNotAllowed(String),
    /// A direct upload cannot be completed as it stands: says why (missing parts, size).
    #[error("{0}")]
    UploadIncomplete(String),
    #[error("the upload is completed: delete the image instead")]
    UploadCompleted,
    #[error(
        "this Idempotency-Key was used with a different request: use a new key for a new request"
    )]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still running; retry after it answers")]
    RequestInProgress,
    #[error("{0}")]
    ThumbnailUnsupported(String),
    /// The image is valid, but decoding it would pass the decode budget: says which part.
    #[error("no thumbnail is made of this image: {0}")]
    DecodeBudgetExceeded(String),
    /// The dependency is unreachable, timed out or throttled us: worth retrying later.
    #[error("a storage service is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// Which row of the problem table this error is answered with.
    pub fn problem_type(&self) -> ProblemType {
        use InputError as I;
        use ProblemType as P;
        match self {
            Self::Input(input) => match input {
                I::InvalidJson(_) => P::InvalidJson,
                I::MissingField(_) => P::MissingField,
                I::InvalidField(_) => P::InvalidField,
                I::InvalidBase64(_) => P::InvalidBase64,
                I::EmptyContent => P::EmptyContent,
                I::PayloadTooLarge { .. } => P::PayloadTooLarge,
                I::UnsupportedMediaType => P::UnsupportedMediaType,
                I::InvalidQuery(_) => P::InvalidQuery,
                I::InvalidToken(_) => P::InvalidToken,
                I::InvalidId(_) => P::InvalidId,
                I::TooManyPixels { .. } => P::TooManyPixels,
                I::UnreadableImage => P::UnreadableImage,
                I::InvalidIdempotencyKey => P::InvalidIdempotencyKey,
            },
            Self::Unauthorized(_) => P::Unauthorized,
            Self::NotFound(_) => P::NotFound,
            Self::UnreadableBody => P::UnreadableBody,
            Self::BodyTimeout { .. } => P::RequestTimeout,
            Self::HeadersTooLarge { .. } | Self::TooManyHeaders { .. } => P::HeadersTooLarge,
            Self::UriTooLong { .. } => P::UriTooLong,
            Self::MethodNotAllowed(_) => P::MethodNotAllowed,
            Self::UploadIncomplete(_) => P::UploadIncomplete,
            Self::UploadCompleted => P::UploadCompleted,
            Self::IdempotencyKeyReused => P::IdempotencyKeyReused,
            Self::RequestInProgress => P::RequestInProgress,
            Self::ThumbnailUnsupported(_) => P::ThumbnailUnsupported,
            Self::DecodeBudgetExceeded(_) => P::DecodeBudgetExceeded,
            Self::Unavailable(_) => P::UpstreamUnavailable,
            Self::Internal(_) => P::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.problem_type().status()
    }

    pub fn code(&self) -> &'static str {
        self.problem_type().code()
    }

    fn detail(&self) -> String {
        match self {
            Self::Unavailable(_) => {
                "A storage service did not answer in time or is throttling; retry later.".into()
            }
            Self::Internal(_) => "The server failed to handle the request.".into(),
            other => other.to_string(),
        }
    }

    pub fn not_found_image() -> Self {
        Self::NotFound("no image with this id".into())
    }
}

impl From<ThumbnailError> for ApiError {
    fn from(error: ThumbnailError) -> Self {
        match error {
            ThumbnailError::Unsupported(_) => Self::ThumbnailUnsupported(error.to_string()),
            ThumbnailError::Undecodable => Self::Input(InputError::UnreadableImage),
            ThumbnailError::OverBudget(why) => Self::DecodeBudgetExceeded(why.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable(source) => Self::Unavailable(source),
            refused => Self::Unauthorized(refused.to_string()),
        }
    }
}

impl From<OnceError> for ApiError {
    fn from(error: OnceError) -> Self {
        match error {
            OnceError::Reused => Self::IdempotencyKeyReused,
            OnceError::InProgress => Self::RequestInProgress,
            OnceError::Storage(error) => error.into(),
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::NotFound => Self::NotFound(
                "no upload with this id: never planned, expired, aborted or refused".into(),
            ),
            UploadError::Incomplete(why) => Self::UploadIncomplete(why),
            UploadError::Refused(refused) => Self::Input(refused),
            UploadError::Completed => Self::UploadCompleted,
            UploadError::Storage(error) => error.into(),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable(source) => Self::Unavailable(source),
            StorageError::Internal(source) => Self::Internal(source),
        }
    }
}

/// RFC 9457 problem document: the body of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// `urn:image-api:problem:{code}`.
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    /// Repeats the HTTP status.
    status: u16,
    /// What exactly was wrong.
    detail: String,
    /// Stable machine-readable code: one of the problem table's (`error/problems.rs`).
    #[schema(value_type = String, example = "invalid_base64")]
    code: &'a str,
    /// Quoting it to an operator finds every log line of the failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.problem_type();
        let status = kind.status();
        match &self {
            Self::Unavailable(source) => {
                // The SDK's own rendering: every cause (SDK errors keep the useful part in
                // `source()`), then the error's debug form.
                tracing::warn!(error = %DisplayErrorContext(source.as_ref()), "dependency unavailable")
            }
            Self::Internal(source) => {
                tracing::error!(error = %DisplayErrorContext(source.as_ref()), "internal error")
            }
            _ => tracing::debug!(code = kind.code(), "client error"),
        }
        let problem = Problem {
            kind: kind.uri(),
            title: kind.title(),
            status: status.as_u16(),
            detail: self.detail(),
            code: kind.code(),
            request_id: crate::telemetry::current_request_id(),
        };
        let body = serde_json::to_vec(&problem).expect("a problem document always serialises");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: the scheme to use; the problem document says what was wrong.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_is_answered_by_some_error() {
        let io = || -> BoxError { "x".into() };
        let input = [
            InputError::InvalidJson(String::new()),
            InputError::MissingField(String::new()),
            InputError::InvalidField(String::new()),
            InputError::InvalidBase64(String::new()),
            InputError::EmptyContent,
            InputError::PayloadTooLarge { limit: 1 },
            InputError::UnsupportedMediaType,
            InputError::InvalidQuery(String::new()),
            InputError::InvalidToken(""),
            InputError::InvalidId(String::new()),
            InputError::TooManyPixels {
                pixels: 2,
                limit: 1,
            },
            InputError::UnreadableImage,
            InputError::InvalidIdempotencyKey,
        ];
        let all = input.into_iter().map(ApiError::from).chain([
            ApiError::Unauthorized(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::UnreadableBody,
            ApiError::BodyTimeout { secs: 1 },
            ApiError::HeadersTooLarge { limit: 1 },
            ApiError::UriTooLong { limit: 1 },
            ApiError::MethodNotAllowed(String::new()),
            ApiError::UploadIncomplete(String::new()),
            ApiError::UploadCompleted,
            ApiError::IdempotencyKeyReused,
            ApiError::RequestInProgress,
            ApiError::ThumbnailUnsupported(String::new()),
            ApiError::DecodeBudgetExceeded(String::new()),
            ApiError::Unavailable(io()),
            ApiError::Internal(io()),
        ]);
        let mut answered: Vec<&str> = all.map(|error| error.code()).collect();
        answered.sort();
        answered.dedup();
        let mut table: Vec<&str> = ProblemType::ALL.iter().map(|kind| kind.code()).collect();
        table.sort();
        assert_eq!(answered, table);
    }
}
