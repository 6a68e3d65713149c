use axum::Json;
use axum::extract::{Query, State};
use axum::http::Uri;
use serde::Serialize;

use crate::domain::{ImageRecord, ListQuery, RawListQuery};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub struct ListResponse {
    pub items: Vec<ImageRecord>,
    /// Present only while more items may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

pub async fn list(State(state): State<AppState>, uri: Uri) -> Result<Json<ListResponse>, ApiError> {
    let Query(raw) = Query::<RawListQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let query = ListQuery::parse(raw)?;
    let page = state.store.list(&query).await?;
    Ok(Json(ListResponse {
        items: page.items,
        next_token: page.next.map(|token| token.encode()),
    }))
}
