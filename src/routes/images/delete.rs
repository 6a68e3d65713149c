use axum::extract::State;
use axum::http::StatusCode;

use crate::domain::Owner;
use crate::error::ApiError;
use crate::responses::NoSuchImage;
use crate::routes::paths;
use crate::state::AppState;

/// 204 when a record was removed, 404 when there was none; the object is removed in both
/// cases, so repeating a delete that failed half-way finishes it.
#[utoipa::path(delete, path = paths::IMAGE, operation_id = "delete_image", tag = "images",
    params(paths::ImagePath),
    responses(
        (status = 204, description = "The object and the record are gone"),
        NoSuchImage,
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    paths::ImagePath { id }: paths::ImagePath,
) -> Result<StatusCode, ApiError> {
    if state.store.delete(&owner, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found_image())
    }
}
