//! Where requests become domain types: the extractors of the id, the owner, the caller's own
//! image (`own_image`), the query (`query`) and the idempotency key, and the body reader
//! (`body`).

pub(crate) mod body;
mod own_image;
mod query;

pub use own_image::{OwnImage, missing_object};
pub use query::StrictQuery;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::domain::{IdempotencyKey, ImageId, InputError, Owner};
use crate::error::ApiError;
use crate::state::AppState;

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

/// Handlers take the `Owner` they act for: who the caller is, decided once, here, and kept
/// with the request so that extractors after the first (`OwnImage`) do not verify it again.
impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(owner) = parts.extensions.get::<Owner>() {
            return Ok(owner.clone());
        }
        let owner = state.auth.owner(&parts.headers).await?;
        parts.extensions.insert(owner.clone());
        Ok(owner)
    }
}

/// The `Idempotency-Key` of a `POST`, if it names one; given twice, it names none clearly.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(InputError::InvalidIdempotencyKey.into());
    }
    Ok(Some(IdempotencyKey::parse(value.as_bytes())?))
}

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` header, as the API document describes it on each `POST` that takes it.
pub(crate) const IDEMPOTENCY_KEY_DOC: &str = "1 to 255 visible ASCII characters (else `400 invalid_idempotency_key`), bare or in double quotes; a fresh one (a UUID) per new request. The request is done at most once per key for 24 hours (for `POST /uploads`, as long as the upload it plans): a repeat of the same request is answered as the first was, with the same id; the same key with a different request gets `422 idempotency_key_reused`, and one that arrives while the first runs `409 request_in_progress`. A request that fails frees its key, so its repeat runs again.";
