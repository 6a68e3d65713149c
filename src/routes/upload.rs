use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;

use super::body::read_body;
use super::paths;
use crate::domain::{FileName, ImageRecord, NewImage, UploadRequest, json_body_limit};
use crate::error::{ApiError, Problem};
use crate::query_string;
use crate::state::AppState;

/// `POST /images`: a JSON body with base64 content, or the raw image bytes.
#[utoipa::path(
    post,
    path = paths::IMAGES,
    operation_id = "upload_image",
    tag = "images",
    params(("file_name" = inline(Option<FileName>), Query,
        description = "Required for a raw upload (else `400 missing_field`). A JSON upload takes no query parameters (else `400 invalid_query`)")),
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
        (status = 413, description = "The image exceeds MAX_UPLOAD_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The bytes are not a supported image", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The image's header declares more than MAX_PIXELS pixels (`too_many_pixels`), or cannot be read (`unreadable_image`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let max = state.config.max_upload_bytes;
    let pause = state.config.client_timeout;
    let image = if is_json(&headers) {
        query_string::parameters(uri.query(), &[])?;
        let bytes = read_body(body, &headers, json_body_limit(max), max, pause).await?;
        NewImage::from_json(&bytes, max, state.config.max_pixels)?
    } else {
        let mut found = query_string::parameters(uri.query(), &["file_name"])?;
        let bytes = read_body(body, &headers, max, max, pause).await?;
        NewImage::from_raw(
            bytes,
            found.remove("file_name"),
            max,
            state.config.max_pixels,
        )?
    };

    let record = ImageRecord::new(
        image.file_name,
        image.media,
        image.content.len(),
        image.dimensions,
        image.metadata,
    );
    state.store.create(&record, image.content).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, paths::image(record.id))],
        Json(record),
    ))
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
