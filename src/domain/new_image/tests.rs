use std::borrow::Cow;

use proptest::prelude::*;

use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0";

fn json(value: serde_json::Value) -> Result<NewImage, InputError> {
    NewImage::from_json(value.to_string().as_bytes(), 1024, u64::MAX)
}

fn code(result: Result<NewImage, InputError>) -> &'static str {
    result
        .map(|_| "ok")
        .unwrap_or_else(|e| crate::error::ApiError::from(e).code())
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
fn escaped_strings_are_unescaped() {
    // "/" escaped as "\/" is legal JSON; so is a \u escape in a name.
    let content = STANDARD.encode([PNG, &[0xff; 30][..]].concat());
    assert!(content.contains('/'));
    let body = format!(
        r#"{{"file_name": "caf\u00e9.png", "content": "{}"}}"#,
        content.replace('/', "\\/")
    );
    let image = NewImage::from_json(body.as_bytes(), 1024, u64::MAX).unwrap();
    assert_eq!(image.file_name.as_str(), "café.png");
    assert_eq!(STANDARD.encode(&image.content), content);
}

#[test]
fn content_is_borrowed_from_the_body_unless_escaped() {
    let plain = envelope(b"iVBORw0K");
    let request: UploadRequest = json::read(&plain).unwrap();
    assert!(matches!(
        request.content,
        Some(Text(Cow::Borrowed("iVBORw0K")))
    ));
    let escaped = envelope(b"iVBOR\\/w0K");
    let request: UploadRequest = json::read(&escaped).unwrap();
    assert!(matches!(request.content, Some(Text(Cow::Owned(text))) if text == "iVBOR/w0K"));
}

#[test]
fn a_detail_names_the_member_at_fault() {
    let png = STANDARD.encode(PNG);
    for (body, member) in [
        (
            serde_json::json!({"file_name": 7, "content": png}),
            "`file_name`",
        ),
        (
            serde_json::json!({"file_name": "a", "content": png, "metadata": {"k": 1}}),
            "`metadata.k`",
        ),
        (
            serde_json::json!({"file_name": "a", "content": [png]}),
            "`content`",
        ),
    ] {
        match json(body) {
            Err(InputError::InvalidField(detail)) => {
                assert!(detail.starts_with(member), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_repeated_member_is_invalid_json() {
    let png = STANDARD.encode(PNG);
    for body in [
        format!(r#"{{"file_name": "a", "content": "{png}", "content": "{png}"}}"#),
        format!(r#"{{"file_name": "a", "file_name": "b", "content": "{png}"}}"#),
        format!(r#"{{"file_name": "a", "content": "{png}", "metadata": {{}}, "metadata": {{}}}}"#),
        format!(r#"{{"file_name": "a", "content": "{png}", "metadata": {{"k": "1", "k": "2"}}}}"#),
        // The same name, spelled with an escape.
        format!(r#"{{"file_name": "a", "content": "{png}", "con\u0074ent": "{png}"}}"#),
    ] {
        assert_eq!(
            code(NewImage::from_json(body.as_bytes(), 1024, u64::MAX)),
            "invalid_json",
            "{body}"
        );
    }
    // A syntax error after the repeat: the same code either way.
    let body = format!(r#"{{"content": "{png}", "content": "{png}", }}"#);
    assert_eq!(
        code(NewImage::from_json(body.as_bytes(), 1024, u64::MAX)),
        "invalid_json"
    );
}

#[test]
fn names_each_kind_of_mistake() {
    let png = STANDARD.encode(PNG);
    assert_eq!(
        code(NewImage::from_json(b"{\"file_name\":", 1024, u64::MAX)),
        "invalid_json"
    );
    assert_eq!(
        code(NewImage::from_json(b"[1]", 1024, u64::MAX)),
        "invalid_json"
    );
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
        code(json(serde_json::json!({"file_name": "a", "content": 7}))),
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
    assert!(NewImage::from_json(body.as_bytes(), 1024, u64::MAX).is_ok());
    let escaped = body.replace('/', "\\/");
    assert!(escaped.len() > body.len());
    assert!(NewImage::from_json(escaped.as_bytes(), 1024, u64::MAX).is_ok());
    exact.push(0);
    let body =
        serde_json::json!({"file_name": "a", "content": STANDARD.encode(&exact)}).to_string();
    assert_eq!(
        code(NewImage::from_json(body.as_bytes(), 1024, u64::MAX)),
        "payload_too_large"
    );
    assert_eq!(
        code(NewImage::from_raw(
            Bytes::from(exact),
            Some("a".into()),
            1024,
            u64::MAX
        )),
        "payload_too_large"
    );
}

#[test]
fn raw_uploads_need_a_name() {
    assert_eq!(
        code(NewImage::from_raw(
            Bytes::from_static(PNG),
            None,
            1024,
            u64::MAX
        )),
        "missing_field"
    );
    assert_eq!(
        code(NewImage::from_raw(
            Bytes::new(),
            Some("a".into()),
            1024,
            u64::MAX
        )),
        "empty_content"
    );
    assert_eq!(
        code(NewImage::from_raw(
            Bytes::from_static(PNG),
            Some("a".into()),
            1024,
            u64::MAX
        )),
        "ok"
    );
}

/// What the service must do with `{"file_name": "a.png", "content": "<text>"}`, by the
/// simplest reading there is: serde_json unescapes the text, the base64 crate's strict
/// decoder decodes it whole, and the bytes are judged like a raw upload's.
fn oracle(text: &[u8], max: usize) -> String {
    let mut token = b"\"".to_vec();
    token.extend_from_slice(text);
    token.push(b'"');
    let Ok(unescaped) = serde_json::from_slice::<String>(&token) else {
        return "invalid_json".into();
    };
    match STANDARD.decode(&unescaped) {
        Err(error) => format!("{:?}", InputError::InvalidBase64(error.to_string())),
        Ok(bytes) if bytes.is_empty() => format!("{:?}", InputError::EmptyContent),
        Ok(bytes) if bytes.len() > max => {
            format!("{:?}", InputError::PayloadTooLarge { limit: max })
        }
        Ok(bytes) => match inspect(&bytes, u64::MAX) {
            Err(error) => format!("{error:?}"),
            Ok((media, _)) => format!("stored {media:?} {}", STANDARD.encode(bytes)),
        },
    }
}

/// A client's view of an outcome: the whole error (with the decoder's offset in its
/// detail), but of an `invalid_json` only the code, since the parser words its own.
pub(crate) fn outcome(result: Result<NewImage, InputError>) -> String {
    match result {
        Ok(image) => format!(
            "stored {:?} {}",
            image.media,
            STANDARD.encode(image.content)
        ),
        Err(InputError::InvalidJson(_)) => "invalid_json".into(),
        Err(error) => format!("{error:?}"),
    }
}

pub(crate) fn envelope(text: &[u8]) -> Vec<u8> {
    let mut body = br#"{"file_name": "a.png", "content": ""#.to_vec();
    body.extend_from_slice(text);
    body.extend_from_slice(br#""}"#);
    body
}

/// What can be put into a base64 text: a valid JSON escape of a base64 character (`\/`,
/// `\u0041`), padding, or something a strict decode (or JSON) must refuse.
pub(crate) const FAULTS: &[&[u8]] = &[
    b"=",
    b"==",
    b"\\/",
    b"\\u0041",
    b"\\u002b",
    b" ",
    b"\n",
    b"\r\n",
    b"\t",
    b"!",
    b"-",
    b"_",
    b"\"",
    b"\\",
    b"\\n",
    b"\xff",
    "é".as_bytes(),
    b"A",
    b"AAAA",
    b"",
];

/// Positions worth a fault in a text of `len` characters: its ends, every 4-character
/// quantum boundary near each 64 Ki characters (where a decoder that works in blocks would
/// have its seams), and near the base64 crate's own 8- and 32-character chunks.
pub(crate) fn seams(len: usize) -> Vec<usize> {
    let mut at = vec![0, 1, 2, 3, 4];
    for seam in (0..=len).step_by(65_536).chain([len / 2, len]) {
        at.extend((seam.saturating_sub(5)..=seam + 5).filter(|&i| i <= len));
    }
    at.extend((len.saturating_sub(40)..=len).filter(|i| i % 8 == 0 || len - i < 5));
    at.sort_unstable();
    at.dedup();
    at
}

/// The base64 text of a PNG signature and varied bytes (up to about three 64 Ki-character
/// blocks, any padding), with up to three faults, each replacing 0 to 2 characters at a
/// seam or anywhere.
pub(crate) fn faulted_text() -> impl Strategy<Value = Vec<u8>> {
    (1usize..220_000, any::<u64>())
        .prop_flat_map(|(len, seed)| {
            let mut data = PNG.to_vec();
            data.extend(
                (data.len()..len * 3 / 4)
                    .map(|i| (i as u64).wrapping_mul(seed | 1).rotate_left(17) as u8),
            );
            let text = STANDARD.encode(&data).into_bytes();
            let positions = seams(text.len());
            let fault = (
                prop_oneof![prop::sample::select(positions), 0..=text.len(),],
                prop::sample::select(FAULTS),
                0usize..3,
            );
            (Just(text), prop::collection::vec(fault, 0..4))
        })
        .prop_map(|(mut text, faults)| {
            for (at, insert, removed) in faults {
                let at = at.min(text.len());
                let end = (at + removed).min(text.len());
                text.splice(at..end, insert.iter().copied());
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the faults and wherever they sit, the service stores exactly what a
    /// strict whole-text decode accepts, and refuses the rest with the same code and
    /// offset.
    #[test]
    fn accepts_exactly_what_a_strict_decode_accepts(text in faulted_text()) {
        for max in [usize::MAX, text.len() / 2] {
            let body = envelope(&text);
            prop_assert_eq!(outcome(NewImage::from_json(&body, max, u64::MAX)), oracle(&text, max));
        }
    }
}

#[test]
fn texts_up_to_the_size_limit_with_faults_at_every_seam() {
    const MAX: usize = 4 * 1024 * 1024;
    let mut data = PNG.to_vec();
    data.extend((data.len()..MAX).map(|i| (i * 31 % 251) as u8));
    let text = STANDARD.encode(&data).into_bytes();
    let body = envelope(&text);
    assert!(body.len() <= json_body_limit(MAX));
    assert_eq!(
        outcome(NewImage::from_json(&body, MAX, u64::MAX)),
        oracle(&text, MAX)
    );
    let len = text.len();
    let seams = [
        0,
        1,
        3,
        4,
        65_535,
        65_536,
        65_537,
        len / 2,
        len - 4,
        len - 3,
        len - 1,
        len,
    ];
    for (i, at) in seams.iter().enumerate() {
        let fault = FAULTS[i % FAULTS.len()];
        let mut faulted = text.clone();
        faulted.splice(*at..(*at + 1).min(text.len()), fault.iter().copied());
        let body = envelope(&faulted);
        assert_eq!(
            outcome(NewImage::from_json(&body, MAX, u64::MAX)),
            oracle(&faulted, MAX),
            "{:?} at {at}",
            String::from_utf8_lossy(fault)
        );
    }
}
