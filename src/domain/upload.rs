use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::value::RawValue;

use super::{FileName, Metadata, excerpt};
use crate::error::ApiError;
use crate::media::MediaType;

/// Room in a JSON upload body for everything but the base64 text: `file_name` (255
/// characters, escaped in the worst case), metadata (8 KiB, escaped) and syntax.
const JSON_OVERHEAD_BYTES: usize = 64 * 1024;

/// The JSON upload body, for the API description. The parser reads it field by field (see
/// `NewImage::from_json`) to name each mistake precisely.
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"file_name": "pixel.png", "content": PIXEL_PNG_BASE64, "metadata": {"camera": "x100"}}))]
#[allow(dead_code)]
pub struct UploadRequest {
    #[schema(min_length = 1, max_length = 255)]
    file_name: String,
    /// Standard base64 (RFC 4648, padded) of the image bytes.
    #[schema(content_encoding = "base64")]
    content: String,
    /// At most 32 entries; keys 1–128 characters; keys and values at most 8 KiB in all.
    metadata: Option<BTreeMap<String, String>>,
}

/// A 1×1 PNG, for examples.
pub const PIXEL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

/// A valid upload: a named, recognised, non-empty image within the size limit.
#[derive(Debug)]
pub struct NewImage {
    pub file_name: FileName,
    pub media: MediaType,
    pub content: Bytes,
    pub metadata: Metadata,
}

/// Largest JSON body that can carry an image of `max_bytes` decoded bytes.
pub fn json_body_limit(max_bytes: usize) -> usize {
    max_bytes.div_ceil(3) * 4 + JSON_OVERHEAD_BYTES
}

impl NewImage {
    /// `{"file_name": "...", "content": "<base64>", "metadata": {...}}`. The base64 text is
    /// borrowed from the body, not copied, and decoded once into an exactly-sized buffer.
    pub fn from_json(body: &[u8], max_bytes: usize) -> Result<Self, ApiError> {
        let fields: BTreeMap<Cow<'_, str>, &RawValue> =
            serde_json::from_slice(body).map_err(|e| {
                ApiError::InvalidJson(if e.is_data() {
                    "the body must be a JSON object".to_owned()
                } else {
                    e.to_string()
                })
            })?;
        let (mut file_name, mut content, mut metadata) = (None, None, None);
        for (key, value) in fields {
            match key.as_ref() {
                "file_name" => file_name = Some(value),
                "content" => content = Some(value),
                "metadata" => metadata = Some(value),
                other => {
                    return Err(ApiError::InvalidField(format!(
                        "unknown field `{}`; expected `file_name`, `content` or `metadata`",
                        excerpt(other)
                    )));
                }
            }
        }

        let file_name = string_field(file_name, "file_name", "a string")?;
        let metadata = match metadata.filter(|raw| raw.get() != "null") {
            None => Metadata::default(),
            Some(raw) => Metadata::parse(serde_json::from_str(raw.get()).map_err(|_| {
                ApiError::InvalidField("`metadata` must be an object of string values".into())
            })?)?,
        };
        let file_name = FileName::parse(file_name.into_owned())?;
        let content = decode_content(content, max_bytes)?;
        Self::new(file_name, content, metadata, max_bytes)
    }

    /// A raw body is the image itself; its name comes from the `file_name` query parameter.
    pub fn from_raw(
        body: Bytes,
        file_name: Option<String>,
        max_bytes: usize,
    ) -> Result<Self, ApiError> {
        let file_name = file_name.ok_or_else(|| {
            ApiError::MissingField(
                "the `file_name` query parameter is required for a raw upload".into(),
            )
        })?;
        Self::new(
            FileName::parse(file_name)?,
            body,
            Metadata::default(),
            max_bytes,
        )
    }

    fn new(
        file_name: FileName,
        content: Bytes,
        metadata: Metadata,
        max_bytes: usize,
    ) -> Result<Self, ApiError> {
        if content.is_empty() {
            return Err(ApiError::EmptyContent);
        }
        if content.len() > max_bytes {
            return Err(ApiError::PayloadTooLarge { limit: max_bytes });
        }
        let media = MediaType::sniff(&content).ok_or(ApiError::UnsupportedMediaType)?;
        Ok(Self {
            file_name,
            media,
            content,
            metadata,
        })
    }
}

/// A required string field. Without escapes it stays borrowed from the body: for `content`
/// that saves a copy of several megabytes. The JSON parser has already validated the raw
/// token, so a string without backslashes is its text between the quotes, found with one
/// fast byte search instead of a second full parse.
fn string_field<'a>(
    raw: Option<&'a RawValue>,
    name: &str,
    expected: &str,
) -> Result<Cow<'a, str>, ApiError> {
    let raw =
        raw.ok_or_else(|| ApiError::MissingField(format!("the field `{name}` is required")))?;
    let token = raw.get();
    if let Some(inner) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
        && !inner.contains('\\')
    {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(token)
        .map(Cow::Owned)
        .map_err(|_| ApiError::InvalidField(format!("`{name}` must be {expected}")))
}

/// Base64 has no character JSON must escape, so the raw token is decoded as it stands; only
/// a body that escapes characters needlessly (`\/` is legal JSON) is unescaped, and then a
/// second time. The decoder itself finds the backslash: a separate scan for one would read
/// megabytes for nothing on every upload.
fn decode_content(raw: Option<&RawValue>, max_bytes: usize) -> Result<Bytes, ApiError> {
    let as_is = raw
        .and_then(|raw| raw.get().strip_prefix('"'))
        .and_then(|token| token.strip_suffix('"'));
    if let Some(inner) = as_is {
        match decode_base64(inner, max_bytes) {
            // Escapes make the text longer and are not base64: unescape, then judge.
            Err(ApiError::InvalidBase64(_) | ApiError::PayloadTooLarge { .. })
                if inner.contains('\\') => {}
            decoded => return decoded,
        }
    }
    let text = string_field(raw, "content", "a base64 string")?;
    decode_base64(&text, max_bytes)
}

fn decode_base64(text: &str, max_bytes: usize) -> Result<Bytes, ApiError> {
    if text.is_empty() {
        return Err(ApiError::EmptyContent);
    }
    // Refuse before decoding: the decoded size follows from the text's length.
    let padding = text.bytes().rev().take(2).filter(|&b| b == b'=').count();
    if (text.len() / 4 * 3).saturating_sub(padding) > max_bytes {
        return Err(ApiError::PayloadTooLarge { limit: max_bytes });
    }
    STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| ApiError::InvalidBase64(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn json(value: serde_json::Value) -> Result<NewImage, ApiError> {
        NewImage::from_json(value.to_string().as_bytes(), 1024)
    }

    fn code(result: Result<NewImage, ApiError>) -> &'static str {
        result.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn accepts_a_complete_upload() {
        let image = json(serde_json::json!({
            "file_name": "a.png", "content": STANDARD.encode(PNG), "metadata": {"k": "v"}
        }))
        .unwrap();
        assert_eq!(image.media, MediaType::Png);
        assert_eq!(&image.content[..], PNG);
        assert_eq!(image.metadata.entries()["k"], "v");
    }

    #[test]
    fn escaped_strings_are_decoded_and_plain_ones_borrowed() {
        // "/" escaped as "\/" is legal JSON; so is a \u escape in a name.
        let content = STANDARD.encode([PNG, &[0xff; 30][..]].concat());
        assert!(content.contains('/'));
        let body = format!(
            r#"{{"file_name": "caf\u00e9.png", "content": "{}"}}"#,
            content.replace('/', "\\/")
        );
        let image = NewImage::from_json(body.as_bytes(), 1024).unwrap();
        assert_eq!(image.file_name.as_str(), "café.png");
        assert_eq!(STANDARD.encode(&image.content), content);

        let plain = format!(r#"{{"file_name": "a.png", "content": "{content}"}}"#);
        assert!(NewImage::from_json(plain.as_bytes(), 1024).is_ok());
    }

    #[test]
    fn names_each_kind_of_mistake() {
        let png = STANDARD.encode(PNG);
        assert_eq!(
            code(NewImage::from_json(b"{\"file_name\":", 1024)),
            "invalid_json"
        );
        assert_eq!(code(NewImage::from_json(b"[1]", 1024)), "invalid_json");
        assert_eq!(
            code(json(serde_json::json!({"content": png}))),
            "missing_field"
        );
        assert_eq!(
            code(json(serde_json::json!({"file_name": "a"}))),
            "missing_field"
        );
        assert_eq!(
            code(json(serde_json::json!({"file_name": 7, "content": png}))),
            "invalid_field"
        );
        assert_eq!(
            code(json(
                serde_json::json!({"file_name": "a", "content": png, "metadata": {"k": 1}})
            )),
            "invalid_field"
        );
        assert_eq!(
            code(json(
                serde_json::json!({"file_name": "a", "content": png, "extra": 1})
            )),
            "invalid_field"
        );
        assert_eq!(
            code(json(
                serde_json::json!({"file_name": "a", "content": "not base64!"})
            )),
            "invalid_base64"
        );
        assert_eq!(
            code(json(serde_json::json!({"file_name": "a", "content": ""}))),
            "empty_content"
        );
        assert_eq!(
            code(json(
                serde_json::json!({"file_name": "a", "content": STANDARD.encode("plain text")})
            )),
            "unsupported_media_type"
        );
    }

    #[test]
    fn the_limit_is_inclusive() {
        let mut exact = PNG.to_vec();
        exact.resize(1024, 0xff); // base64 "////": escapable
        let body =
            serde_json::json!({"file_name": "a", "content": STANDARD.encode(&exact)}).to_string();
        assert!(body.len() <= json_body_limit(1024));
        assert!(NewImage::from_json(body.as_bytes(), 1024).is_ok());
        let escaped = body.replace('/', "\\/");
        assert!(escaped.len() > body.len());
        assert!(NewImage::from_json(escaped.as_bytes(), 1024).is_ok());
        exact.push(0);
        let body =
            serde_json::json!({"file_name": "a", "content": STANDARD.encode(&exact)}).to_string();
        assert_eq!(
            code(NewImage::from_json(body.as_bytes(), 1024)),
            "payload_too_large"
        );
        assert_eq!(
            code(NewImage::from_raw(
                Bytes::from(exact),
                Some("a".into()),
                1024
            )),
            "payload_too_large"
        );
    }

    #[test]
    fn raw_uploads_need_a_name() {
        assert_eq!(
            code(NewImage::from_raw(Bytes::from_static(PNG), None, 1024)),
            "missing_field"
        );
        assert_eq!(
            code(NewImage::from_raw(Bytes::new(), Some("a".into()), 1024)),
            "empty_content"
        );
        assert_eq!(
            code(NewImage::from_raw(
                Bytes::from_static(PNG),
                Some("a".into()),
                1024
            )),
            "ok"
        );
    }
}
