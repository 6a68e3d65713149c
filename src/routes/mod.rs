//! The HTTP surface: one table of routes, and the edge where requests become domain types.

pub(crate) mod delete;
mod extract;
pub(crate) mod fallback;
pub(crate) mod get;
pub(crate) mod list;
pub mod paths;
pub(crate) mod upload;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// The image routes. `crate::app` adds the API description and the fallbacks.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::IMAGES, get(list::list).post(upload::upload))
        .route(paths::IMAGE, get(get::image).delete(delete::delete))
        .route(paths::IMAGE_CONTENT, get(get::content))
}
