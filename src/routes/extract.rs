use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::domain::{ImageId, InputError};
use crate::error::ApiError;

/// Handlers take an `ImageId` directly: the `{id}` segment is parsed once, here.
impl<S: Send + Sync> FromRequestParts<S> for ImageId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| InputError::InvalidId("(not valid UTF-8)".into()))?;
        Ok(raw.parse()?)
    }
}
