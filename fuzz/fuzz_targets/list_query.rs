#![no_main]
//! Any query string for `GET /images`, and any page token, parses or gives a documented 400.

use axum::extract::Query;
use axum::http::Uri;
use image_api::domain::{ListQuery, PageToken, RawListQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(token) = PageToken::decode(text) {
        assert_eq!(PageToken::decode(&token.encode()).unwrap(), token);
    }
    let Ok(uri) = format!("/images?{text}").parse::<Uri>() else { return };
    let Ok(Query(raw)) = Query::<RawListQuery>::try_from_uri(&uri) else { return };
    if let Err(error) = ListQuery::parse(raw) {
        assert!(matches!(error.code(), "invalid_query" | "invalid_token"), "{}", error.code());
    }
});
