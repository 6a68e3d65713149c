//! The domain's own errors: what was wrong with a client's input. `crate::error` is the one
//! place that turns them, like every other error, into problem documents.

/// Why input was refused. The messages are written for the client: they become the
/// problem document's `detail`.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    MissingField(String),
    #[error("{0}")]
    InvalidField(String),
    #[error("`content` is not valid standard base64 (RFC 4648 alphabet with `=` padding): {0}")]
    InvalidBase64(String),
    #[error("the image content is empty")]
    EmptyContent,
    #[error("the image is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error(
        "the content is not a supported image (PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF, HEIC/HEIF)"
    )]
    UnsupportedMediaType,
    #[error("{0}")]
    InvalidQuery(String),
    #[error("`next_token` was not issued by this API for this query: {0}")]
    InvalidToken(&'static str),
    #[error(
        "the image has {pixels} pixels, more than the limit of {limit}: it would take too much memory to process"
    )]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error(
        "the image's header could not be read, so neither its size nor its content can be trusted"
    )]
    UnreadableImage,
    #[error("the image id must be a UUID, got {0:?}")]
    InvalidId(String),
    #[error(
        "`Idempotency-Key` must be 1 to 255 visible ASCII characters (letters, digits, punctuation; no spaces), bare or in double quotes"
    )]
    InvalidIdempotencyKey,
}
