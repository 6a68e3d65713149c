//! Bodies the API description names but the handlers write by other means (a record with its
//! base64 content is written straight into one buffer): types for utoipa to read, public so
//! that they stand as the description they are.

use crate::domain::ImageRecord;

/// The body of `GET /images/{id}`: the record with its bytes inline.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImageWithContent {
    #[serde(flatten)]
    pub record: ImageRecord,
    /// The image bytes, standard base64.
    #[schema(content_encoding = "base64")]
    pub content: String,
}

/// The body of `GET /images/{id}` for an image too large to carry inline.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImageWithContentUrl {
    #[serde(flatten)]
    pub record: ImageRecord,
    /// A short-lived URL of the bytes (a presigned S3 `GetObject`).
    pub content_url: String,
}

/// The body of `GET /images/{id}`: the record with its content inline, or with a short-lived
/// `content_url` for an image too large to carry inline.
// serde's `untagged` is what tells utoipa the body is one or the other, not a wrapped variant.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ImageBody {
    Inline(ImageWithContent),
    Url(ImageWithContentUrl),
}
