use axum::extract::State;
use axum::http::StatusCode;

use crate::domain::ImageId;
use crate::error::ApiError;
use crate::state::AppState;

/// 204 when a record was removed, 404 when there was none; the object is removed in both
/// cases, so repeating a delete that failed half-way finishes it.
pub async fn delete(State(state): State<AppState>, id: ImageId) -> Result<StatusCode, ApiError> {
    if state.store.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found_image())
    }
}
