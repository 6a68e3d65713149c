use base64::engine::general_purpose::STANDARD;
use base64::{DecodeSliceError, Engine};
use bytes::Bytes;
use serde::Deserialize;

use super::json::{self, Text, required};
use super::metadata::metadata_schema;
use super::{FileName, InputError, Metadata};
use imaging::dimensions::{self, Dimensions};
use imaging::media::MediaType;

/// Room in a JSON upload body for everything but the base64 text: the longest `file_name`
/// and the largest metadata, both escaped in the worst case, and syntax.
const JSON_OVERHEAD_BYTES: usize = 64 * 1024;

/// A JSON upload: the image as base64, its name and optional metadata. Each member at most
/// once; no other members.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"file_name": "pixel.png", "content": PIXEL_PNG_BASE64, "metadata": {"camera": "x100"}}))]
pub struct UploadRequest<'a> {
    #[schema(value_type = FileName, inline, required = true)]
    file_name: Option<FileName>,
    /// Standard base64 (RFC 4648, padded, canonical) of the image bytes, which must be one of
    /// the supported image types (else `415`) within `MAX_UPLOAD_BYTES` (else `413`).
    #[serde(borrow)]
    #[schema(
        value_type = String,
        required = true,
        content_encoding = "base64",
        min_length = 4,
        pattern = r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)$"
    )]
    content: Option<Text<'a>>,
    #[schema(schema_with = metadata_schema)]
    metadata: Option<Metadata>,
}

/// A 1×1 PNG, for examples.
pub const PIXEL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

/// A valid upload: a named, recognised, non-empty image within the size limit, whose header
/// gave its dimensions.
#[derive(Debug)]
pub struct NewImage {
    pub file_name: FileName,
    pub media: MediaType,
    pub dimensions: Dimensions,
    pub content: Bytes,
    pub metadata: Metadata,
}

/// The type and displayed size of an image's bytes (all of them, or enough of the first), or
/// why they are refused: not a supported image, a header that cannot be read, or more pixels
/// than `max_pixels`, judged before anything decodes a pixel.
pub fn inspect(head: &[u8], max_pixels: u64) -> Result<(MediaType, Dimensions), InputError> {
    let media = MediaType::sniff(head).ok_or(InputError::UnsupportedMediaType)?;
    let dimensions = dimensions::read(head, media).map_err(|_| InputError::UnreadableImage)?;
    if dimensions.pixels() > max_pixels {
        return Err(InputError::TooManyPixels {
            pixels: dimensions.pixels(),
            limit: max_pixels,
        });
    }
    Ok((media, dimensions))
}

/// Largest JSON body that can carry an image of `max_bytes` decoded bytes.
pub fn json_body_limit(max_bytes: usize) -> usize {
    max_bytes.div_ceil(3) * 4 + JSON_OVERHEAD_BYTES
}

impl NewImage {
    /// `{"file_name": "...", "content": "<base64>", "metadata": {...}}`, in three steps a
    /// reviewer can check apart: serde reads the object (the `content` string stays borrowed
    /// from the body unless it holds an escape); the base64 text is decoded whole by the
    /// strict standard decoder into one buffer of exactly the decoded size; then the bytes are
    /// judged like a raw upload's. docs/design-decisions.md says why there is no faster path.
    pub fn from_json(body: &[u8], max_bytes: usize, max_pixels: u64) -> Result<Self, InputError> {
        let request: UploadRequest = json::read(body)?;
        let file_name = required(request.file_name, "file_name")?;
        let Text(content) = required(request.content, "content")?;
        let content = decode_base64(&content)?;
        let metadata = request.metadata.unwrap_or_default();
        Self::new(file_name, content, metadata, max_bytes, max_pixels)
    }

    /// A raw body is the image itself; its name comes from the `file_name` query parameter.
    pub fn from_raw(
        body: Bytes,
        file_name: Option<String>,
        max_bytes: usize,
        max_pixels: u64,
    ) -> Result<Self, InputError> {
        let file_name = file_name.ok_or_else(|| {
            InputError::MissingField(
                "the `file_name` query parameter is required for a raw upload".into(),
            )
        })?;
        Self::new(
            FileName::parse(file_name)?,
            body,
            Metadata::default(),
            max_bytes,
            max_pixels,
        )
    }

    fn new(
        file_name: FileName,
        content: Bytes,
        metadata: Metadata,
        max_bytes: usize,
        max_pixels: u64,
    ) -> Result<Self, InputError> {
        if content.is_empty() {
            return Err(InputError::EmptyContent);
        }
        if content.len() > max_bytes {
            return Err(InputError::PayloadTooLarge { limit: max_bytes });
        }
        let (media, dimensions) = inspect(&content, max_pixels)?;
        Ok(Self {
            file_name,
            media,
            dimensions,
            content,
            metadata,
        })
    }
}

/// Strict standard base64 of the whole text, into a buffer of exactly the decoded size.
fn decode_base64(text: &str) -> Result<Bytes, InputError> {
    let invalid = |error: base64::DecodeError| InputError::InvalidBase64(error.to_string());
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    let mut buffer = vec![0; (text.len() / 4 * 3).saturating_sub(padding)];
    match STANDARD.decode_slice(text, &mut buffer) {
        Ok(len) => {
            buffer.truncate(len);
            Ok(buffer.into())
        }
        Err(DecodeSliceError::DecodeError(error)) => Err(invalid(error)),
        // The size follows from the length only for well-formed text: let the decoder that
        // sizes its own buffer name what is wrong.
        Err(DecodeSliceError::OutputSliceTooSmall) => {
            STANDARD.decode(text).map(Bytes::from).map_err(invalid)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
