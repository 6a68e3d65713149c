//! Answers and headers that several routes share, described once for the API document: types
//! for utoipa to read (the handlers answer through `ApiError` and `routes::caching`), public
//! so that they stand as the description they are, like `bodies`.

use crate::error::Problem;

/// `{id}` names no image of the caller's: one never made, one deleted, or another owner's,
/// which answers exactly as one that does not exist.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "No such image: never made, deleted, or another owner's"
)]
pub struct NoSuchImage(pub Problem<'static>);

/// A request with the same `Idempotency-Key` is still running: the repeat may come again.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 409,
    description = "A request with the same `Idempotency-Key` is still running (`request_in_progress`)"
)]
pub struct StillRunning(pub Problem<'static>);

/// The answer to an `If-None-Match` that names the current bytes.
#[derive(utoipa::IntoResponses)]
#[response(status = 304, description = "The client's copy is current",
    headers(("ETag" = String, description = "Strong validator")))]
pub struct NotModified;

/// The validator a client sends back to revalidate its copy.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct Revalidation {
    /// An ETag from an earlier answer
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}
