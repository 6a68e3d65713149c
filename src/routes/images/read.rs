use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::domain::ImageRecord;
use crate::error::ApiError;
use crate::responses::{NoSuchImage, NotModified, Revalidation};
use crate::routes::caching::validated;
use crate::routes::extract::{OwnImage, missing_object};
use crate::routes::paths;
use crate::state::AppState;

/// How long a download URL handed out for a large image stays valid.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(300);

/// `GET /images/{id}`: the record plus the bytes as base64, or a `content_url` for an image
/// larger than `MAX_UPLOAD_BYTES` (too large for a Lambda response).
#[utoipa::path(get, path = paths::IMAGE, operation_id = "get_image", tag = "images",
    params(paths::ImagePath),
    responses(
        (status = 200, description = "The record and the content (base64), or for an image larger than MAX_UPLOAD_BYTES a short-lived `content_url` instead", body = crate::bodies::ImageBody),
        NoSuchImage,
    )
)]
pub async fn image(
    State(state): State<AppState>,
    OwnImage(record): OwnImage,
) -> Result<Response, ApiError> {
    if !inline(&state, &record) {
        let content_url = download_url(&state, &record).await?;
        return Ok(axum::Json(crate::bodies::ImageWithContentUrl {
            record,
            content_url,
        })
        .into_response());
    }
    let Some(bytes) = state.store.read(record.id).await? else {
        return Err(missing_object(record.id));
    };
    let body = record_with_content(&record, &bytes)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Whether the bytes go in the response itself: up to `MAX_UPLOAD_BYTES`, what a Lambda
/// response carries; larger images are served by S3 through a presigned URL.
fn inline(state: &AppState, record: &ImageRecord) -> bool {
    record.size <= state.config.max_upload_bytes as u64
}

async fn download_url(state: &AppState, record: &ImageRecord) -> Result<String, ApiError> {
    let disposition = content_disposition(record.file_name.as_str());
    let disposition = disposition.to_str().expect("built from visible ASCII");
    Ok(state
        .store
        .download_url(record, disposition, DOWNLOAD_URL_TTL)
        .await?)
}

/// `{...record, "content": "<base64>"}`, with the base64 written straight into the one output
/// buffer: going through a `String` and a serializer would hold the encoded image twice.
fn record_with_content(record: &ImageRecord, bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let fields = serde_json::to_vec(record).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let encoded_len = bytes.len().div_ceil(3) * 4;
    let mut body = Vec::with_capacity(fields.len() + encoded_len + 16);
    body.extend_from_slice(&fields[..fields.len() - 1]);
    body.extend_from_slice(b",\"content\":\"");
    let start = body.len();
    body.resize(start + encoded_len, 0);
    let written = STANDARD
        .encode_slice(bytes, &mut body[start..])
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    body.truncate(start + written);
    body.extend_from_slice(b"\"}");
    Ok(body)
}

/// `GET /images/{id}/content`: the bytes themselves, streamed from S3.
#[utoipa::path(get, path = paths::IMAGE_CONTENT, operation_id = "get_image_content", tag = "images",
    params(paths::ImagePath, Revalidation),
    responses(
        (status = 200, description = "The image bytes, with their sniffed type", content_type = "image/*", body = [u8],
            headers(
                ("Content-Disposition" = String, description = "inline, with the file name (RFC 6266)"),
                ("X-Content-Type-Options" = String, description = "nosniff"),
            )),
        NotModified,
        (status = 307, description = "An image larger than MAX_UPLOAD_BYTES: its bytes are at a short-lived presigned S3 URL, which answers with the same type and disposition",
            headers(("Location" = String, description = "The presigned URL"))),
        NoSuchImage,
    )
)]
pub async fn content(
    State(state): State<AppState>,
    OwnImage(record): OwnImage,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The bytes behind an id never change, so the id itself is a strong validator and a
    // revalidation is answered without touching S3.
    let (mut headers, current) = validated(&format!("\"{}\"", record.id), &request_headers);
    if current {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    if !inline(&state, &record) {
        let url = download_url(&state, &record).await?;
        let location = HeaderValue::from_str(&url)
            .map_err(|_| ApiError::Internal("a presigned URL is not a header value".into()))?;
        headers.insert(header::LOCATION, location);
        // The URL expires: the redirect itself must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok((StatusCode::TEMPORARY_REDIRECT, headers).into_response());
    }

    let Some(stream) = state.store.stream(record.id).await? else {
        return Err(missing_object(record.id));
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(record.content_type.as_str()),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(record.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(record.file_name.as_str()),
    );
    let body = Body::from_stream(futures_util::stream::unfold(
        stream,
        |mut stream| async move { stream.next().await.map(|chunk| (chunk, stream)) },
    ));
    Ok((headers, body).into_response())
}

/// RFC 8187 `attr-char`: everything else is percent-encoded in `filename*`.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// RFC 6266: `filename*` carries the exact UTF-8 name; `filename` is an ASCII stand-in for
/// old clients, with anything that could break out of the quoted string replaced.
fn content_disposition(file_name: &str) -> HeaderValue {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(file_name, ATTR_CHAR_ESCAPES);
    HeaderValue::from_str(&format!(
        "inline; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .expect("only visible ASCII remains")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_with_content_is_the_record_plus_base64() {
        let record = ImageRecord::new(
            crate::domain::Owner::parse("someone").unwrap(),
            crate::domain::FileName::parse("a\"b.png".into()).unwrap(),
            imaging::media::MediaType::Png,
            5,
            imaging::dimensions::Dimensions {
                width: 3,
                height: 2,
            },
            crate::domain::Metadata::default(),
        );
        for bytes in [&b""[..], b"x", b"xy", b"xyz", b"\x89PNG\r"] {
            let body = record_with_content(&record, bytes).unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let mut expected = serde_json::to_value(&record).unwrap();
            expected["content"] = STANDARD.encode(bytes).into();
            assert_eq!(parsed, expected);
        }
    }

    #[test]
    fn disposition_encodes_any_name_safely() {
        let value = content_disposition("résumé \"final\".png");
        assert_eq!(
            value.to_str().unwrap(),
            "inline; filename=\"r_sum_ _final_.png\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.png"
        );
        let crlf = content_disposition("a\r\nSet-Cookie: x");
        assert!(!crlf.to_str().unwrap().contains('\n'));
    }
}
