//! The HTTP surface: one table of routes, and the edge where requests become domain types.

pub(crate) mod delete;
mod extract;
mod fallback;
pub(crate) mod get;
pub(crate) mod list;
pub(crate) mod upload;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/images", get(list::list).post(upload::upload))
        .route("/images/{id}", get(get::image).delete(delete::delete))
        .route("/images/{id}/content", get(get::content))
        .route("/openapi.json", get(crate::openapi::serve))
        .layer(axum::middleware::from_fn(fallback::method_not_allowed))
        .fallback(fallback::not_found)
}
