//! `GET /images/{id}/thumbnail?size=N[&format=F]`: made on the first request, kept in S3 for
//! the next, one object per size and format. Without `format`, `Accept` picks WebP when it
//! names it; otherwise the image's own choice, JPEG when opaque, PNG with transparency.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::caching::validated;
use super::extract::{OwnImage, StrictQuery, missing_object};
use super::paths;
use crate::accept;
use crate::domain::Owner;
use crate::error::{ApiError, Problem};
use crate::responses::{NoSuchImage, NotModified, Revalidation};
use crate::state::AppState;
use crate::storage::ThumbnailOf;
use imaging::thumbnail::{self, Format, SIZES};

/// Bumped when the way thumbnails are made changes, so caches holding an older one refetch.
const VERSION: &str = "t1";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailQuery {
    size: Size,
    format: Option<AskedFormat>,
}

/// The `format` parameter: one of these words, in lower case.
#[derive(serde::Deserialize, utoipa::ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum AskedFormat {
    Webp,
    Jpeg,
    Png,
}

impl From<AskedFormat> for Format {
    fn from(asked: AskedFormat) -> Self {
        match asked {
            AskedFormat::Webp => Format::Webp,
            AskedFormat::Jpeg => Format::Jpeg,
            AskedFormat::Png => Format::Png,
        }
    }
}

/// The format `Accept` asks for by name; `None` leaves the choice to the image.
fn negotiated(headers: &HeaderMap) -> Option<Format> {
    let values: Vec<&[u8]> = headers
        .get_all(header::ACCEPT)
        .iter()
        .map(|value| value.as_bytes())
        .collect();
    accept::names(&values, Format::Webp.media().as_str()).then_some(Format::Webp)
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
        ("format" = inline(Option<AskedFormat>), Query, nullable = false, description = "The encoding: `webp` (lossy, transparency kept), `jpeg` (transparency on white) or `png`. Without it, `Accept` decides: WebP when it names `image/webp` with q > 0 (wildcards never count), else JPEG when the image is opaque and PNG with transparency; such an answer carries `Vary: Accept`"),
        Revalidation,
    ),
    responses(
        (status = 200, description = "The thumbnail: upright (EXIF orientation applied), no metadata, in the format asked for or negotiated; never larger than the image", content_type = "image/*", body = [u8],
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
    StrictQuery(ThumbnailQuery {
        size: Size(size),
        format: asked,
    }): StrictQuery<ThumbnailQuery>,
    OwnImage(record): OwnImage,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = record.id;
    let format = asked
        .map(Format::from)
        .or_else(|| negotiated(&request_headers));
    let kept = ThumbnailOf { id, size, format };

    let etag = match format {
        None => format!("\"{id}-{size}-{VERSION}\""),
        Some(format) => format!("\"{id}-{size}-{}-{VERSION}\"", format.name()),
    };
    let (mut headers, current) = validated(&etag, &request_headers);
    if asked.is_none() {
        // Without `format`, the bytes depend on `Accept` too.
        headers.insert(
            header::VARY,
            HeaderValue::from_static("authorization, accept"),
        );
    }
    if current {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    let (bytes, media) = match state.store.thumbnail(&kept).await? {
        Some(stored) => stored,
        None => {
            let Some(original) = state.store.read(id).await? else {
                return Err(missing_object(id));
            };
            let (media, budget) = (record.content_type, state.config.decode_budget);
            // Decoding is CPU work: off the threads that serve other requests.
            let made = tokio::task::spawn_blocking(move || {
                thumbnail::make(&original, media, size, format, &budget)
            })
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))??;
            let bytes = Bytes::from(made.bytes);
            if let Err(error) = state
                .store
                .save_thumbnail(&kept, bytes.clone(), made.media)
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
