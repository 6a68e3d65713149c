//! HTTP caching of bytes that never change: a strong ETag, a year of private caching, and the
//! 304 answer to a client whose copy is current. Image content and thumbnails use it.

use axum::http::{HeaderMap, HeaderValue, header};

/// The bytes behind an ETag never change (an image after upload, a thumbnail of one version),
/// so a year of private caching is safe.
pub(crate) const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

/// The headers of bytes that never change under `etag` (a strong validator, a year of
/// private caching), and whether the client's copy is current (`If-None-Match`).
pub(crate) fn validated(etag: &str, request_headers: &HeaderMap) -> (HeaderMap, bool) {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(etag).expect("ids and sizes make valid header values"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    // Whose the bytes are depends on who asked: a browser shared by two people signed in in
    // turn must not answer one with what it kept for the other.
    headers.insert(header::VARY, HeaderValue::from_static("authorization"));
    (headers, if_none_match(request_headers, etag))
}

/// RFC 9110 §13.1.2: weak comparison, `*` matches any current representation.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", W/\"abc\""),
        );
        assert!(if_none_match(&headers, "\"abc\""));
        assert!(!if_none_match(&headers, "\"abd\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&headers, "\"abd\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abd\""));
    }
}
