use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;

use crate::domain::{FileName, Fingerprint, ImageRecord, NewImage, UploadRequest, json_body_limit};
use crate::error::{ApiError, Problem};
use crate::query_string;
use crate::responses::StillRunning;
use crate::routes::extract::Idempotency;
use crate::routes::extract::body::read_body;
use crate::routes::paths;
use crate::state::AppState;

/// A JSON upload names its file in the body, so it takes no query parameter at all.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParameters {}

/// A raw upload's name, the one thing its body cannot carry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUploadQuery {
    file_name: Option<String>,
}

/// `POST /images`: a JSON body with base64 content, or the raw image bytes.
#[utoipa::path(post, path = paths::IMAGES, operation_id = "upload_image", tag = "images",
    params(("file_name" = inline(Option<FileName>), Query,
        description = "Required for a raw upload (else `400 missing_field`). A JSON upload takes no query parameters (else `400 invalid_query`)"),
        Idempotency),
    request_body(
        description = "JSON with base64 content (any `application/json` or `+json` type), or the raw image bytes (any other type). The bytes must be a PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF or HEIC/HEIF image (else `415`) of at most `MAX_UPLOAD_BYTES` (else `413`), a limit set by configuration",
        content(
            (UploadRequest = "application/json"),
            ([u8] = "application/octet-stream"),
            ([u8] = "image/png"),
        )
    ),
    responses(
        (status = 201, description = "Stored", body = ImageRecord,
            headers(("Location" = String, description = "`/images/{id}` of the new image")),
            links(
                ("GetImage" = (operation_id = "get_image", parameters(("id" = "$response.body#/id")))),
                ("GetImageContent" = (operation_id = "get_image_content", parameters(("id" = "$response.body#/id")))),
                ("DeleteImage" = (operation_id = "delete_image", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 413, description = "The image exceeds MAX_UPLOAD_BYTES", body = Problem),
        (status = 415, description = "The bytes are not a supported image", body = Problem),
        StillRunning,
        (status = 422, description = "The image's header declares more than MAX_PIXELS pixels (`too_many_pixels`), or cannot be read (`unreadable_image`); or the `Idempotency-Key` was used with a different request (`idempotency_key_reused`)", body = Problem),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    idempotency: Idempotency,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let max = state.config.max_upload_bytes;
    let pause = state.config.client_timeout;
    let (image, once) = if is_json(&headers) {
        query_string::parse::<NoParameters>(uri.query())?;
        let bytes = read_body(body, &headers, json_body_limit(max), max, pause).await?;
        let once = idempotency.once(|| same_request(&headers, &uri, &bytes));
        let image = NewImage::from_json(&bytes, max, state.config.max_pixels)?;
        (image, once)
    } else {
        let query = query_string::parse::<RawUploadQuery>(uri.query())?;
        let bytes = read_body(body, &headers, max, max, pause).await?;
        let once = idempotency.once(|| same_request(&headers, &uri, &bytes));
        let image = NewImage::from_raw(bytes, query.file_name, max, state.config.max_pixels)?;
        (image, once)
    };

    let record = ImageRecord::new(
        idempotency.owner,
        image.file_name,
        image.media,
        image.content.len(),
        image.dimensions,
        image.metadata,
    );
    let record = match once {
        None => {
            state.store.create(&record, image.content).await?;
            record
        }
        Some(request) => {
            let content = image.content;
            state.store.create_once(request, record, content).await?
        }
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, paths::image(record.id))],
        Json(record),
    ))
}

/// What makes a repeat of this upload the same upload: its type, its query and its bytes.
fn same_request(headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Fingerprint {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let query = uri.query().unwrap_or_default().as_bytes();
    Fingerprint::of(&[b"POST", paths::IMAGES.as_bytes(), content_type, query, body])
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}
