//! The HTTP surface: one table of routes, and the edge where requests become domain types.

mod body;
pub(crate) mod delete;
mod extract;
pub(crate) mod fallback;
pub(crate) mod get;
pub(crate) mod list;
mod page;
pub mod paths;
pub(crate) mod thumbnail;
pub(crate) mod upload;
pub(crate) mod uploads;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// The image and upload routes. `crate::app` adds the API description and the fallbacks.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::IMAGES, get(list::list).post(upload::upload))
        .route(paths::IMAGE, get(get::image).delete(delete::delete))
        .route(paths::IMAGE_CONTENT, get(get::content))
        .route(paths::IMAGE_THUMBNAIL, get(thumbnail::thumbnail))
        .route(paths::UPLOADS, post(uploads::create))
        .route(paths::UPLOAD, delete(uploads::abort))
        .route(paths::UPLOAD_COMPLETE, post(uploads::complete))
        .route(paths::PAGE, get(page::index))
        .route(paths::PAGE_ASSET, get(page::asset))
}
