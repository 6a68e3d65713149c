//! The one table of problem types: each `code` with its status and when it is answered. The
//! status, `code` and `title` of every problem document, the API description's list of codes
//! and the README's error table all come from here (a test holds the README to it).

use axum::http::StatusCode;

macro_rules! problem_types {
    ($($kind:ident: $status:literal $code:literal $when:literal,)*) => {
        /// What kind of problem a request ended in: one per `code`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ProblemType {
            $($kind),*
        }

        impl ProblemType {
            /// Every problem type, in the order of the table.
            pub const ALL: &[ProblemType] = &[$(ProblemType::$kind),*];

            pub fn status(self) -> StatusCode {
                let status = match self {
                    $(Self::$kind => $status),*
                };
                StatusCode::from_u16(status).expect("the table holds valid statuses")
            }

            /// Stable machine-readable code: never renamed.
            pub fn code(self) -> &'static str {
                match self {
                    $(Self::$kind => $code),*
                }
            }

            /// When the problem is answered, as the README and the API description say it.
            pub fn when(self) -> &'static str {
                match self {
                    $(Self::$kind => $when),*
                }
            }
        }
    };
}

problem_types! {
    InvalidJson: 400 "invalid_json" "the body is not JSON, or not a JSON object",
    MissingField: 400 "missing_field" "`file_name` or `content` is missing (or the `file_name` query parameter of a raw upload)",
    InvalidField: 400 "invalid_field" "a field has the wrong type, is out of bounds, or is unknown; the detail starts with the field's path (`` `metadata.k` ``)",
    InvalidBase64: 400 "invalid_base64" "`content` is not valid standard base64",
    EmptyContent: 400 "empty_content" "the image has zero bytes",
    InvalidQuery: 400 "invalid_query" "a bad `limit`, `size` or date; an unknown or repeated query parameter; a parameter that is not UTF-8 once percent-decoded",
    InvalidToken: 400 "invalid_token" "a `next_token` this API did not issue for this query's filters",
    InvalidId: 400 "invalid_id" "the id in the path is not a UUID",
    UnreadableBody: 400 "unreadable_body" "the request body could not be read (connection error)",
    InvalidIdempotencyKey: 400 "invalid_idempotency_key" "`Idempotency-Key` is not 1 to 255 visible ASCII characters, or is given twice",
    Unauthorized: 401 "unauthorized" "with sign-in on: no `Authorization: Bearer` token, or one that is not a valid access token of the user pool's configured app clients; the detail says why. The answer carries `WWW-Authenticate: Bearer`",
    NotFound: 404 "not_found" "no image or upload with this id (another owner's id answers exactly as one that does not exist), or no such path",
    MethodNotAllowed: 405 "method_not_allowed" "known path, other method; `Allow` lists the accepted ones",
    RequestTimeout: 408 "request_timeout" "the request body paused for more than `CLIENT_TIMEOUT_SECS` (HTTP server only)",
    UploadIncomplete: 409 "upload_incomplete" "completing a direct upload whose parts are missing or whose bytes are not the declared size; the detail says which",
    UploadCompleted: 409 "upload_completed" "aborting a direct upload that is already an image",
    RequestInProgress: 409 "request_in_progress" "a request with the same `Idempotency-Key` is still running",
    PayloadTooLarge: 413 "payload_too_large" "the image exceeds `MAX_UPLOAD_BYTES` (a direct upload: `MAX_DIRECT_UPLOAD_BYTES`)",
    UriTooLong: 414 "uri_too_long" "path and query exceed 8 KiB",
    UnsupportedMediaType: 415 "unsupported_media_type" "the bytes are not a supported image",
    TooManyPixels: 422 "too_many_pixels" "the image's header declares more than `MAX_PIXELS` pixels",
    UnreadableImage: 422 "unreadable_image" "the image's header cannot be read, so its size is unknown (or, for a thumbnail, its pixels do not decode)",
    IdempotencyKeyReused: 422 "idempotency_key_reused" "the `Idempotency-Key` was used with a different request (another body, type, query or route)",
    ThumbnailUnsupported: 422 "thumbnail_unsupported" "a thumbnail of a HEIC/HEIF or AVIF image",
    DecodeBudgetExceeded: 422 "decode_budget_exceeded" "a thumbnail whose decode would hold more memory than the decode budget or decode more than `MAX_PIXELS` pixels (or a JPEG of more than 64 scans); judged from the header, before anything is allocated; the detail says which and by how much",
    HeadersTooLarge: 431 "headers_too_large" "header names and values exceed 16 KiB in total, or there are more than 4096 header fields",
    Internal: 500 "internal" "anything unexpected, including a panic in a handler",
    UpstreamUnavailable: 503 "upstream_unavailable" "S3 or DynamoDB unreachable, timing out, throttling or failing on their side (or, with sign-in, the user pool's keys cannot be fetched); retry later",
}

impl ProblemType {
    /// RFC 9457's short summary of the type: the status's reason phrase.
    pub fn title(self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    /// `urn:image-api:problem:{code}`.
    pub fn uri(self) -> String {
        format!("urn:image-api:problem:{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ProblemType;

    #[test]
    fn codes_are_unique_and_the_table_is_in_status_order() {
        let mut codes: Vec<_> = ProblemType::ALL.iter().map(|kind| kind.code()).collect();
        let statuses: Vec<_> = ProblemType::ALL.iter().map(|kind| kind.status()).collect();
        assert!(statuses.is_sorted());
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ProblemType::ALL.len());
    }

    /// The README's error table is this table: the same codes, statuses and words, in order.
    #[test]
    fn the_readme_error_table_is_this_table() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split_once("\n## Errors\n")
            .expect("the README has an Errors section")
            .1;
        let section = section.split("\n## ").next().unwrap_or(section);
        let rows: Vec<(u16, String, String)> = section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line
                    .strip_prefix('|')?
                    .strip_suffix('|')?
                    .split(" | ")
                    .collect();
                let [status, code, when] = cells.as_slice() else {
                    return None;
                };
                let status = status.trim().parse().ok()?;
                let code = code.trim().strip_prefix('`')?.strip_suffix('`')?;
                Some((status, code.to_owned(), when.trim().to_owned()))
            })
            .collect();
        let table: Vec<(u16, String, String)> = ProblemType::ALL
            .iter()
            .map(|kind| {
                (
                    kind.status().as_u16(),
                    kind.code().to_owned(),
                    kind.when().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            rows, table,
            "README.md's error table differs from src/error/problems.rs"
        );
    }
}
