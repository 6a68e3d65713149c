//! The API's paths, spelled once: the router, the API description, `Location` headers and the
//! mount-prefix rule behind API Gateway all use these.

use crate::domain::ImageId;

macro_rules! images {
    () => {
        "/images"
    };
}

macro_rules! uploads {
    () => {
        "/uploads"
    };
}

macro_rules! assets {
    () => {
        "/assets"
    };
}

/// The roots every path of the API (and of the page's assets) hangs from.
pub const API_ROOTS: [&str; 3] = [images!(), uploads!(), assets!()];
pub const IMAGES: &str = images!();
pub const IMAGE: &str = concat!(images!(), "/{id}");
pub const IMAGE_CONTENT: &str = concat!(images!(), "/{id}/content");
pub const IMAGE_THUMBNAIL: &str = concat!(images!(), "/{id}/thumbnail");
pub const UPLOADS: &str = uploads!();
pub const UPLOAD: &str = concat!(uploads!(), "/{id}");
pub const UPLOAD_COMPLETE: &str = concat!(uploads!(), "/{id}/complete");
pub const OPENAPI: &str = "/openapi.json";
/// The gallery page, and its script and style sheet.
pub const PAGE: &str = "/";
pub const PAGE_ASSET: &str = concat!(assets!(), "/{name}");

/// Where an image's record is served: the `Location` of a new image.
pub fn image(id: ImageId) -> String {
    format!("{IMAGES}/{id}")
}

/// The `{id}` of an image's paths, as the API description states it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImagePath {
    /// Image id
    #[param(value_type = String, format = Uuid)]
    pub id: ImageId,
}

/// The `{id}` of a direct upload's paths, as the API description states it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UploadPath {
    /// Upload id
    #[param(value_type = String, format = Uuid)]
    pub id: ImageId,
}
