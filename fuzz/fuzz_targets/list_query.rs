#![no_main]
//! Any query string for `GET /images`, and any page token, parses or gives a documented 400.

use image_api::domain::{ListQuery, Owner, PageToken, RawListQuery};
use image_api::query_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(token) = PageToken::decode(text) {
        assert_eq!(PageToken::decode(&token.encode()).unwrap(), token);
    }
    let Ok(raw) = query_string::parse::<RawListQuery>(Some(text)) else { return };
    if let Err(error) = ListQuery::parse(raw, Owner::parse("fuzz").unwrap()).map_err(image_api::ApiError::from) {
        assert!(matches!(error.code(), "invalid_query" | "invalid_token"), "{}", error.code());
    }
});
