use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::paths;
use crate::domain::{ImageRecord, InputError, NewImage, UploadRequest, json_body_limit};
use crate::error::{ApiError, Problem};
use crate::query_string;
use crate::state::AppState;

/// `POST /images`: a JSON body with base64 content, or the raw image bytes.
#[utoipa::path(
    post,
    path = paths::IMAGES,
    operation_id = "upload_image",
    tag = "images",
    params(("file_name" = Option<String>, Query, min_length = 1, max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
        description = "Required for a raw upload (else `400 missing_field`), ignored for a JSON one")),
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
        let bytes = read_body(body, &headers, json_body_limit(max), max, pause).await?;
        NewImage::from_json(&bytes, max)?
    } else {
        let mut found = query_string::parameters(uri.query(), &["file_name"])?;
        let bytes = read_body(body, &headers, max, max, pause).await?;
        NewImage::from_raw(bytes, found.remove("file_name"), max)?
    };

    let record = ImageRecord::new(
        image.file_name,
        image.media,
        image.content.len(),
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

/// Reads at most `limit` bytes: a declared `Content-Length` over it is refused before any
/// byte is read, and an undeclared one as soon as the stream passes it. A client that pauses
/// longer than `pause` is dropped (it would hold a connection and its buffers forever). A body that arrives in
/// one piece (always, inside Lambda) is passed on as is; one that arrives in pieces is copied
/// once into a buffer sized from `Content-Length`, so only one copy of it is ever held.
async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    limit: usize,
    max_image: usize,
    pause: std::time::Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || InputError::PayloadTooLarge { limit: max_image }.into();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }

    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let timed_out = || ApiError::BodyTimeout {
        secs: pause.as_secs(),
    };
    while let Some(frame) = tokio::time::timeout(pause, body.frame())
        .await
        .map_err(|_| timed_out())?
    {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "upload body could not be read");
            ApiError::UnreadableBody
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        let received =
            first.as_ref().map_or(0, Bytes::len) + joined.as_ref().map_or(0, BytesMut::len);
        if received + chunk.len() > limit {
            return Err(too_large());
        }
        match (&mut first, &mut joined) {
            (None, None) => first = Some(chunk),
            (Some(_), None) => {
                let capacity = declared
                    .map_or(0, |n| n as usize)
                    .max(received + chunk.len());
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&first.take().expect("checked above"));
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    Ok(joined.map(BytesMut::freeze).or(first).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::upload_bodies::{envelope, faulted_text, outcome, seams};

    /// Cuts anywhere in a body, and near the seams of the text it carries.
    fn cuts(text_len: usize) -> impl Strategy<Value = Vec<usize>> {
        let offset = envelope(b"").len() - 2;
        let near_seams: Vec<usize> = seams(text_len).into_iter().map(|at| at + offset).collect();
        prop::collection::vec(
            prop_oneof![prop::sample::select(near_seams), 0..text_len + offset + 2],
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// A body that arrives in pieces (over HTTP, whatever the client's writes) is read
        /// and judged exactly as the same body in one piece.
        #[test]
        fn a_body_in_pieces_is_judged_as_the_whole(
            (text, mut cuts) in faulted_text().prop_flat_map(|text| {
                let cuts = cuts(text.len());
                (Just(text), cuts)
            }),
            declared in any::<bool>(),
        ) {
            let body = envelope(&text);
            cuts.push(body.len());
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts {
                let cut = cut.min(body.len());
                pieces.push(Ok::<_, Infallible>(Bytes::copy_from_slice(&body[start..cut])));
                start = cut;
            }
            let mut headers = HeaderMap::new();
            if declared {
                headers.insert(header::CONTENT_LENGTH, body.len().into());
            }
            let stream = Body::from_stream(futures_util::stream::iter(pieces));
            let max = 1 << 20;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let read = runtime
                .block_on(read_body(
                    stream,
                    &headers,
                    json_body_limit(max),
                    max,
                    std::time::Duration::from_secs(30),
                ))
                .unwrap();
            prop_assert_eq!(&read[..], &body[..]);
            prop_assert_eq!(
                outcome(NewImage::from_json(&read, max)),
                outcome(NewImage::from_json(&body, max))
            );
        }
    }
}
