//! Where requests become domain types: the extractors of the id, the owner, the caller's own
//! image (`own_image`), the query (`query`) and the idempotency key, and the body reader
//! (`body`).

pub(crate) mod body;
mod idempotency;
mod own_image;
mod query;

pub use idempotency::Idempotency;
pub use own_image::{OwnImage, missing_object};
pub use query::StrictQuery;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::domain::{ImageId, InputError, Owner};
use crate::error::ApiError;
use crate::routes::paths::{ImagePath, UploadPath};
use crate::state::AppState;

/// Handlers take an `ImageId` directly: the `{id}` segment is parsed once, here.
impl<S: Send + Sync> FromRequestParts<S> for ImageId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| InputError::InvalidId("(not valid UTF-8)".into()))?;
        Ok(raw.parse()?)
    }
}

/// The path of one image: its `{id}`, parsed as an `ImageId`.
impl<S: Send + Sync> FromRequestParts<S> for ImagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let id = ImageId::from_request_parts(parts, state).await?;
        Ok(Self { id })
    }
}

/// The path of one direct upload: its `{id}`, which becomes the image's.
impl<S: Send + Sync> FromRequestParts<S> for UploadPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let id = ImageId::from_request_parts(parts, state).await?;
        Ok(Self { id })
    }
}

/// Handlers take the `Owner` they act for: who the caller is, decided once, here, and kept
/// with the request so that extractors after the first (`OwnImage`) do not verify it again.
impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(owner) = parts.extensions.get::<Owner>() {
            return Ok(owner.clone());
        }
        let owner = state.auth.owner(&parts.headers).await?;
        parts.extensions.insert(owner.clone());
        Ok(owner)
    }
}
