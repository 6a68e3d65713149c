//! `GET /images/{id}/thumbnail?size=N`: made on the first request, kept in S3 for the next.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::caching::validated;
use super::extract::{OwnImage, StrictQuery, missing_object};
use super::paths;
use crate::domain::Owner;
use crate::error::{ApiError, Problem};
use crate::responses::{NoSuchImage, NotModified, Revalidation};
use crate::state::AppState;
use imaging::thumbnail::{self, SIZES};

/// Bumped when the way thumbnails are made changes, so caches holding an older one refetch.
const VERSION: &str = "t1";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailQuery {
    size: Size,
}

/// One of the sizes thumbnails are made in, so nobody can fill the bucket with variants.
#[derive(serde::Deserialize)]
#[serde(try_from = "u32")]
struct Size(u32);

impl TryFrom<u32> for Size {
    type Error = String;

    fn try_from(size: u32) -> Result<Self, String> {
        if SIZES.contains(&size) {
            Ok(Self(size))
        } else {
            Err(format!("must be one of {SIZES:?}"))
        }
    }
}

#[utoipa::path(get, path = paths::IMAGE_THUMBNAIL, operation_id = "get_image_thumbnail", tag = "images",
    params(
        paths::ImagePath,
        ("size" = u32, Query, description = "Fits within size×size pixels; one of 64, 128, 256, 512, 1024"),
        Revalidation,
    ),
    responses(
        (status = 200, description = "The thumbnail: upright (EXIF orientation applied), no metadata; JPEG when opaque, PNG with transparency; never larger than the image", content_type = "image/*", body = [u8],
            headers(
                ("X-Content-Type-Options" = String, description = "nosniff"),
            )),
        NotModified,
        NoSuchImage,
        (status = 422, description = "No thumbnail can be made: HEIC/HEIF and AVIF (`thumbnail_unsupported`), bytes that do not decode (`unreadable_image`), or an image whose decode would pass the memory or pixel budget (`decode_budget_exceeded`)", body = Problem),
    )
)]
// The order of the extractors is the order of the refusals: a caller without a valid token
// (401) learns nothing of the query's rules (400), and a bad query is refused before the
// record is looked up (404).
pub async fn thumbnail(
    State(state): State<AppState>,
    _caller: Owner,
    _: paths::ImagePath,
    StrictQuery(ThumbnailQuery { size: Size(size) }): StrictQuery<ThumbnailQuery>,
    OwnImage(record): OwnImage,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = record.id;

    let (mut headers, current) = validated(&format!("\"{id}-{size}-{VERSION}\""), &request_headers);
    if current {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    let (bytes, media) = match state.store.thumbnail(id, size).await? {
        Some(stored) => stored,
        None => {
            let Some(original) = state.store.read(id).await? else {
                return Err(missing_object(id));
            };
            let (media, budget) = (record.content_type, state.config.decode_budget);
            // Decoding is CPU work: off the threads that serve other requests.
            let made = tokio::task::spawn_blocking(move || {
                thumbnail::make(&original, media, size, &budget)
            })
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))??;
            let bytes = Bytes::from(made.bytes);
            if let Err(error) = state
                .store
                .save_thumbnail(id, size, bytes.clone(), made.media)
                .await
            {
                // Served anyway; the next request makes it again.
                tracing::warn!(%id, size, %error, "thumbnail made but not kept");
            }
            (bytes, made.media)
        }
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Ok((headers, bytes).into_response())
}
