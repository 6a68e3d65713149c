//! Generated bad input: whatever arrives, the parsers either accept it or name the documented
//! 4xx, and never panic.

use image_api::ApiError;
use image_api::domain::{
    FileName, ImageId, InputError, ListQuery, NewImage, PageToken, RawListQuery, SortKey,
};
use imaging::media::MediaType;
use proptest::prelude::*;

/// Domain errors as the client sees them: through the API's one translation.
fn api(error: InputError) -> ApiError {
    ApiError::from(error)
}

fn is_client_error(error: &ApiError) -> bool {
    error.status().is_client_error()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sniffing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = MediaType::sniff(&bytes);
    }

    #[test]
    fn sniffing_survives_hostile_isobmff_boxes(len in any::<u32>(), brands in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = len.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(&brands);
        let _ = MediaType::sniff(&bytes);
    }

    #[test]
    fn ids_parse_or_are_invalid_id(raw in ".{0,64}") {
        match raw.parse::<ImageId>() {
            Ok(id) => prop_assert_eq!(id.to_string(), raw.to_lowercase()),
            Err(error) => prop_assert_eq!(api(error).code(), "invalid_id"),
        }
    }

    #[test]
    fn file_names_parse_or_are_invalid_field(raw in any::<String>()) {
        match FileName::parse(raw.clone()) {
            Ok(name) => prop_assert_eq!(name.as_str(), raw.as_str()),
            Err(error) => prop_assert_eq!(api(error).code(), "invalid_field"),
        }
    }

    #[test]
    fn listing_queries_parse_or_are_a_documented_400(
        file_name in proptest::option::of(any::<String>()),
        created_after in proptest::option::of(any::<String>()),
        created_before in proptest::option::of(any::<String>()),
        limit in proptest::option::of(any::<String>()),
        next_token in proptest::option::of(any::<String>()),
    ) {
        let raw = RawListQuery { file_name, created_after, created_before, limit, next_token };
        if let Err(error) = ListQuery::parse(raw, owner()).map_err(api) {
            prop_assert!(matches!(error.code(), "invalid_query" | "invalid_token"), "{}", error.code());
            prop_assert!(is_client_error(&error));
        }
    }

    #[test]
    fn well_formed_dates_and_limits_always_parse(
        secs in 0i64..253_402_300_799,
        nanos in 0u32..1_000_000_000,
        limit in 1usize..=100,
    ) {
        let at = time::OffsetDateTime::from_unix_timestamp(secs).unwrap().replace_nanosecond(nanos).unwrap();
        let text = at.format(&time::format_description::well_known::Rfc3339).unwrap();
        let raw = RawListQuery { created_after: Some(text.clone()), created_before: Some(text), limit: Some(limit.to_string()), ..Default::default() };
        let query = ListQuery::parse(raw, owner()).unwrap();
        prop_assert_eq!(query.range, None, "an exclusive window of one instant is empty");
        prop_assert_eq!(query.limit, limit);
    }

    #[test]
    fn page_tokens_round_trip(secs in 0i64..253_402_300_799, millis in 0u32..1000, id in any::<u128>()) {
        let at = time::OffsetDateTime::from_unix_timestamp(secs).unwrap().replace_millisecond(millis as u16).unwrap();
        let stored = at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z")).unwrap();
        let id = uuid::Uuid::from_u128(id);
        let key = SortKey::parse(&format!("{stored}#{id}")).unwrap();
        let token = PageToken::after(key, id.as_u128() as u32);
        let decoded = PageToken::decode(&token.encode()).unwrap();
        prop_assert_eq!(decoded.position(), &key);
    }

    #[test]
    fn arbitrary_tokens_are_refused_cleanly(raw in any::<String>()) {
        if let Err(error) = PageToken::decode(&raw).map_err(api) {
            prop_assert_eq!(error.code(), "invalid_token");
        }
    }

    #[test]
    fn upload_bodies_parse_or_are_a_documented_4xx(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(error) = NewImage::from_json(&body, 1024, u64::MAX).map_err(api) {
            prop_assert!(is_client_error(&error), "{}", error.code());
        }
    }

    #[test]
    fn json_shaped_uploads_parse_or_are_a_documented_4xx(
        file_name in prop_oneof![any::<String>().prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::Value::Null)],
        content in prop_oneof![".{0,40}".prop_map(serde_json::Value::from), "[A-Za-z0-9+/]{0,40}={0,2}".prop_map(serde_json::Value::from), Just(serde_json::Value::Bool(true))],
        metadata in proptest::option::of(proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4)),
    ) {
        let mut body = serde_json::json!({"file_name": file_name, "content": content});
        if let Some(metadata) = metadata {
            body["metadata"] = serde_json::to_value(metadata).unwrap();
        }
        if let Err(error) = NewImage::from_json(body.to_string().as_bytes(), 1024, u64::MAX).map_err(api) {
            prop_assert!(matches!(error.code(), "invalid_field" | "missing_field" | "invalid_base64" | "empty_content" | "unsupported_media_type" | "payload_too_large"), "{}", error.code());
        }
    }
}

fn owner() -> image_api::domain::Owner {
    image_api::domain::Owner::parse("someone").unwrap()
}
