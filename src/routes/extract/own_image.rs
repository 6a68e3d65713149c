use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::domain::{ImageId, ImageRecord, Owner};
use crate::error::ApiError;
use crate::state::AppState;

/// The record of the image `{id}` names, if it is the caller's: the one lookup every route of
/// one image starts with. Another owner's image answers exactly as one that does not exist.
pub struct OwnImage(pub ImageRecord);

impl FromRequestParts<AppState> for OwnImage {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let owner = Owner::from_request_parts(parts, state).await?;
        let id = ImageId::from_request_parts(parts, state).await?;
        match state.store.record(&owner, id).await? {
            Some(record) => Ok(Self(record)),
            None => Err(ApiError::not_found_image()),
        }
    }
}

/// The answer when a record's object is gone (which the order of writes never leaves, and a
/// hand edit can): the image does not exist, and an operator hears of it.
pub fn missing_object(id: ImageId) -> ApiError {
    tracing::warn!(%id, "record without object");
    ApiError::not_found_image()
}
