//! The HTTP surface: one table of routes, and the edge where requests become domain types.

pub(crate) mod caching;
pub(crate) mod direct_uploads;
mod extract;
pub(crate) mod fallback;
pub(crate) mod images;
mod page;
pub mod paths;
pub(crate) mod thumbnails;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// The image and upload routes. `crate::app` adds the API description and the fallbacks.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::IMAGES,
            get(images::list::list).post(images::upload::upload),
        )
        .route(
            paths::IMAGE,
            get(images::read::image).delete(images::delete::delete),
        )
        .route(paths::IMAGE_CONTENT, get(images::read::content))
        .route(paths::IMAGE_THUMBNAIL, get(thumbnails::thumbnail))
        .route(paths::UPLOADS, post(direct_uploads::create))
        .route(paths::UPLOAD, delete(direct_uploads::abort))
        .route(paths::UPLOAD_COMPLETE, post(direct_uploads::complete))
        .route(paths::PAGE, get(page::index))
        .route(paths::PAGE_ASSET, get(page::asset))
}
