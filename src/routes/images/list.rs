use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::domain::{FileName, ImageRecord, ListQuery, Owner, RawListQuery};
use crate::error::ApiError;
use crate::routes::extract::StrictQuery;
use crate::routes::paths;
use crate::state::AppState;

/// A page of image records, newest first.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ImageList)]
pub struct ListResponse {
    pub items: Vec<ImageRecord>,
    /// Opaque; pass it back with the same filters for the next page. Present only while more
    /// items may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[utoipa::path(get, path = paths::IMAGES, operation_id = "list_images", tag = "images",
    params(
        ("file_name" = inline(Option<FileName>), Query, description = "Exact file name"),
        ("created_after" = Option<String>, Query, format = DateTime, description = "RFC 3339; only images created strictly after"),
        ("created_before" = Option<String>, Query, format = DateTime, description = "RFC 3339; only images created strictly before"),
        ("limit" = Option<u8>, Query, minimum = 1, maximum = 100, description = "Page size, 1 to 100, default 50"),
        ("next_token" = Option<String>, Query, min_length = 1, max_length = 256, pattern = r"^[A-Za-z0-9_-]+$",
            description = "The previous page's `next_token`, with the same `file_name`, `created_after` and `created_before` (`limit` may change); any other value is refused (`400 invalid_token`)"),
    ),
    responses((status = 200, description = "A page of records, newest first", body = ListResponse))
)]
pub async fn list(
    State(state): State<AppState>,
    owner: Owner,
    StrictQuery(raw): StrictQuery<RawListQuery>,
) -> Result<Json<ListResponse>, ApiError> {
    let query = ListQuery::parse(raw, owner)?;
    let page = state.store.list(&query).await?;
    Ok(Json(ListResponse {
        items: page.items,
        next_token: page.next.map(|token| token.encode()),
    }))
}
