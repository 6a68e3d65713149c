use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::query_string;

/// A route's query string as its own type: strict UTF-8, every parameter known and given
/// once, then serde (`query_string::parse`). Anything else is `400 invalid_query`.
pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self(query_string::parse(parts.uri.query())?))
    }
}
