use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use base64::engine::general_purpose::STANDARD;
use base64::{DecodeError, DecodeSliceError, Engine};
use bytes::{Bytes, BytesMut};
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
    /// read twice, once by a vectorised search for its end (`Members::scan`) and once by the
    /// decoder, and never copied: it is decoded where it lies, into the body's own buffer when
    /// nothing else holds that buffer (the decoded bytes are shorter than their text), so a
    /// JSON upload holds its body and nothing more; else into one exactly-sized buffer.
    pub fn from_json(body: Bytes, max_bytes: usize) -> Result<Self, ApiError> {
        Self::from_json_with(body, max_bytes, |body| Members::scan(body))
    }

    /// `from_json` with the way of finding the body's members before the parser is asked: the
    /// tests check that `Members::scan` changes no outcome.
    fn from_json_with(body: Bytes, max_bytes: usize, scan: Scan) -> Result<Self, ApiError> {
        let (file_name, metadata, text) = parse_json(&body, scan)?;
        let content = match body.try_into_mut() {
            Ok(buffer) => decode_in_place(buffer, text, max_bytes)?,
            // Shared (a static body, say): decode beside it.
            Err(shared) => decode_beside(&shared[text], max_bytes)?,
        };
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

/// A required string field. Without escapes it stays borrowed from the body: the JSON parser
/// has already validated the raw token, so a string without backslashes is its text between
/// the quotes, found with one fast byte search instead of a second full parse.
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

type Scan = for<'a> fn(&'a [u8]) -> Option<Members<'a>>;

fn parse_json(body: &[u8], scan: Scan) -> Result<(FileName, Metadata, Range<usize>), ApiError> {
    match scan(body) {
        Some(members) => {
            let text = members.content_text.clone();
            // The content text was not validated: if the body is in fact invalid JSON,
            // that is the mistake the parser would have named first.
            members.into_upload(body).map_err(|error| {
                text.and_then(|t| invalid_json_in(&body[t]))
                    .unwrap_or(error)
            })
        }
        None => Members::parse(body)?.into_upload(body),
    }
}

/// The members of a JSON upload body's top-level object.
struct Members<'a> {
    fields: BTreeMap<Cow<'a, str>, &'a RawValue>,
    /// `content` when it is a string without escapes: the range of its text in the body.
    content_text: Option<Range<usize>>,
}

impl<'a> Members<'a> {
    /// The whole body through the JSON parser.
    fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        let fields = serde_json::from_slice(body).map_err(|e| {
            ApiError::InvalidJson(if e.is_data() {
                "the body must be a JSON object".to_owned()
            } else {
                e.to_string()
            })
        })?;
        Ok(Self {
            fields,
            content_text: None,
        })
    }

    /// The same members as `parse`, without running the parser over the megabytes of the
    /// `content` string: its end is found with one vectorised search for a quote or a
    /// backslash, and its text is left to the base64 decoder, which accepts nothing a JSON
    /// string may not hold unescaped (and errors are checked against JSON: `invalid_json_in`).
    /// Every other member goes through the parser. `None` for anything unusual (an escape in
    /// the content, a syntax error): `parse` then decides, and names the mistake.
    fn scan(body: &'a [u8]) -> Option<Self> {
        let mut members = Self {
            fields: BTreeMap::new(),
            content_text: None,
        };
        let mut at = skip_whitespace(body, 0);
        if body.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_whitespace(body, at + 1);
        if body.get(at) == Some(&b'}') {
            return (skip_whitespace(body, at + 1) == body.len()).then_some(members);
        }
        loop {
            let (key, len) = next_value::<Cow<'a, str>>(&body[at..])?;
            at = skip_whitespace(body, at + len);
            if body.get(at) != Some(&b':') {
                return None;
            }
            at = skip_whitespace(body, at + 1);
            if key == "content"
                && (members.content_text.is_some() || members.fields.contains_key("content"))
            {
                // A content text passed over may be invalid JSON: let the parser judge.
                return None;
            }
            if key == "content" && body.get(at) == Some(&b'"') {
                let start = at + 1;
                let end = start + memchr::memchr2(b'"', b'\\', &body[start..])?;
                if body[end] != b'"' {
                    return None;
                }
                members.content_text = Some(start..end);
                at = end + 1;
            } else {
                let (value, len) = next_value::<&'a RawValue>(&body[at..])?;
                members.fields.insert(key, value);
                at += len;
            }
            at = skip_whitespace(body, at);
            match body.get(at)? {
                b',' => at = skip_whitespace(body, at + 1),
                b'}' => break,
                _ => return None,
            }
        }
        (skip_whitespace(body, at + 1) == body.len()).then_some(members)
    }

    fn into_upload(self, body: &[u8]) -> Result<(FileName, Metadata, Range<usize>), ApiError> {
        let (mut file_name, mut content, mut metadata) = (None, None, None);
        for (key, value) in self.fields {
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
        if let Some(text) = self.content_text {
            return Ok((file_name, metadata, text));
        }
        // The text between the quotes, escapes and all: a token that starts with a quote is a
        // string, already validated by the parser.
        let content = content
            .ok_or_else(|| ApiError::MissingField("the field `content` is required".into()))?
            .get();
        let inner = content
            .strip_prefix('"')
            .and_then(|token| token.strip_suffix('"'))
            .ok_or_else(|| ApiError::InvalidField("`content` must be a base64 string".into()))?;
        let start = inner.as_ptr() as usize - body.as_ptr() as usize;
        Ok((file_name, metadata, start..start + inner.len()))
    }
}

fn skip_whitespace(body: &[u8], mut at: usize) -> usize {
    while matches!(body.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The JSON value at the start of `text` and the length it takes.
fn next_value<'a, T: serde::Deserialize<'a>>(text: &'a [u8]) -> Option<(T, usize)> {
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<T>();
    let value = values.next()?.ok()?;
    Some((value, values.byte_offset()))
}

/// `InvalidJson` when the text of a JSON string (between its quotes, without escapes) holds
/// what a JSON string may not: a control character, or bytes that are not UTF-8.
fn invalid_json_in(text: &[u8]) -> Option<ApiError> {
    (text.iter().any(|&byte| byte < 0x20) || std::str::from_utf8(text).is_err()).then(|| {
        ApiError::InvalidJson(
            "`content` holds a control character or bytes that are not UTF-8".into(),
        )
    })
}

/// Decodes the base64 text at `range` of `buffer` into the buffer's own start: each block
/// of text is decoded into a small scratch buffer, then copied to where the decoded bytes
/// so far end, which is never past where the next block starts. Base64 has no character
/// JSON must escape, so each block is checked for a backslash just before it is decoded,
/// while it is in the cache, rather than by a scan of the whole text beforehand; from a
/// block with one on (`\/` is legal JSON), the rest is unescaped and decoded apart. No
/// escape can straddle that block's start: its backslash would be in the block before.
fn decode_in_place(
    mut buffer: BytesMut,
    range: Range<usize>,
    max_bytes: usize,
) -> Result<Bytes, ApiError> {
    const BLOCK: usize = 64 * 1024; // characters; a multiple of 4
    let text = range.clone();
    if check_decoded_size(&buffer[text.clone()], max_bytes).is_err() {
        // Refused, unless escapes lengthened the text: judge it unescaped.
        return decode_beside(&buffer[text], max_bytes);
    }
    let mut scratch = vec![0; BLOCK / 4 * 3];
    let mut written = 0;
    for start in text.clone().step_by(BLOCK) {
        let block = start..(start + BLOCK).min(text.end);
        if buffer[block.clone()].contains(&b'\\') {
            let tail = STANDARD
                .decode(unescape(&buffer[start..text.end])?)
                .map_err(|e| ApiError::InvalidBase64(e.to_string()))?;
            if written + tail.len() > max_bytes {
                return Err(ApiError::PayloadTooLarge { limit: max_bytes });
            }
            buffer.truncate(written);
            buffer.extend_from_slice(&tail);
            return Ok(buffer.freeze());
        }
        let decoded = STANDARD
            .decode_slice(&buffer[block], &mut scratch)
            .map_err(|error| match error {
                DecodeSliceError::DecodeError(error) => {
                    // Blocks before this one decoded, so only the rest can hold a JSON error.
                    invalid_json_in(&buffer[start..text.end])
                        .unwrap_or_else(|| invalid_base64(error, start - text.start))
                }
                DecodeSliceError::OutputSliceTooSmall => {
                    unreachable!("a block of 4n characters decodes to at most 3n bytes")
                }
            })?;
        buffer[written..written + decoded].copy_from_slice(&scratch[..decoded]);
        written += decoded;
    }
    buffer.truncate(written);
    Ok(buffer.freeze())
}

/// Decodes a JSON string's text into a buffer of its own, unescaping it first if need be.
fn decode_beside(raw: &[u8], max_bytes: usize) -> Result<Bytes, ApiError> {
    if raw.contains(&b'\\') {
        decode_base64(unescape(raw)?.as_bytes(), max_bytes)
    } else {
        decode_base64(raw, max_bytes).map_err(|error| invalid_json_in(raw).unwrap_or(error))
    }
}

/// The text of a JSON string (between its quotes, as the parser validated it), unescaped.
fn unescape(raw: &[u8]) -> Result<String, ApiError> {
    let mut token = Vec::with_capacity(raw.len() + 2);
    token.push(b'"');
    token.extend_from_slice(raw);
    token.push(b'"');
    serde_json::from_slice(&token)
        .map_err(|_| ApiError::InvalidField("`content` must be a base64 string".into()))
}

/// The decoder's error, with its offset counted from the start of the whole text.
fn invalid_base64(error: DecodeError, offset: usize) -> ApiError {
    let error = match error {
        DecodeError::InvalidByte(at, byte) => DecodeError::InvalidByte(at + offset, byte),
        DecodeError::InvalidLastSymbol(at, byte) => {
            DecodeError::InvalidLastSymbol(at + offset, byte)
        }
        DecodeError::InvalidLength(len) => DecodeError::InvalidLength(len + offset),
        DecodeError::InvalidPadding => DecodeError::InvalidPadding,
    };
    ApiError::InvalidBase64(error.to_string())
}

/// Refuse before decoding: the decoded size follows from the text's length.
fn check_decoded_size(text: &[u8], max_bytes: usize) -> Result<(), ApiError> {
    if text.is_empty() {
        return Err(ApiError::EmptyContent);
    }
    let padding = text.iter().rev().take(2).filter(|&&b| b == b'=').count();
    if (text.len() / 4 * 3).saturating_sub(padding) > max_bytes {
        return Err(ApiError::PayloadTooLarge { limit: max_bytes });
    }
    Ok(())
}

fn decode_base64(text: &[u8], max_bytes: usize) -> Result<Bytes, ApiError> {
    check_decoded_size(text, max_bytes)?;
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
        NewImage::from_json(value.to_string().into(), 1024)
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
    fn escaped_strings_are_decoded_shared_bodies_too() {
        // "/" escaped as "\/" is legal JSON; so is a \u escape in a name.
        let content = STANDARD.encode([PNG, &[0xff; 30][..]].concat());
        assert!(content.contains('/'));
        let body = format!(
            r#"{{"file_name": "caf\u00e9.png", "content": "{}"}}"#,
            content.replace('/', "\\/")
        );
        let image = NewImage::from_json(body.clone().into(), 1024).unwrap();
        assert_eq!(image.file_name.as_str(), "café.png");
        assert_eq!(STANDARD.encode(&image.content), content);

        let plain = format!(r#"{{"file_name": "a.png", "content": "{content}"}}"#);
        assert!(NewImage::from_json(plain.clone().into(), 1024).is_ok());

        // A body whose buffer is shared cannot be decoded into: it is decoded beside.
        for body in [body, plain] {
            let shared = Bytes::from(body);
            let _other_holder = shared.clone();
            let image = NewImage::from_json(shared, 1024).unwrap();
            assert_eq!(STANDARD.encode(&image.content), content);
        }
    }

    #[test]
    fn decodes_in_place_across_blocks_with_escapes_anywhere() {
        const MAX: usize = 1 << 20;
        let upload = |body: String| NewImage::from_json(body.into(), MAX);
        // Text lengths just around the 64 Ki-character blocks; 0xff bytes give "/" to escape.
        for len in [49_151, 49_152, 49_153, 98_304, 150_000] {
            let mut data = PNG.to_vec();
            data.extend((data.len()..len).map(|i| if i % 97 == 0 { 0xff } else { i as u8 }));
            let text = STANDARD.encode(&data);
            let body =
                |content: &str| format!(r#"{{"file_name": "a.png", "content": "{content}"}}"#);

            let image = upload(body(&text)).unwrap();
            assert_eq!(image.content, data, "len {len}");
            for at in [0, 65_535, 65_536, 65_540, text.len() - 1] {
                let from = at.min(text.len() - 1);
                let Some(slash) = text[from..].find('/').map(|i| i + from) else {
                    continue;
                };
                let escaped = format!("{}\\/{}", &text[..slash], &text[slash + 1..]);
                let image = upload(body(&escaped)).unwrap();
                assert_eq!(image.content, data, "len {len}, escape at {slash}");
            }
            // A bad character deep in the text is reported where it is, as a whole-text decode would.
            let mut broken = text.clone().into_bytes();
            broken[text.len() - 10] = b'!';
            let broken = String::from_utf8(broken).unwrap();
            let expected = STANDARD.decode(&broken).unwrap_err().to_string();
            match upload(body(&broken)) {
                Err(ApiError::InvalidBase64(detail)) => assert_eq!(detail, expected),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn names_each_kind_of_mistake() {
        let png = STANDARD.encode(PNG);
        assert_eq!(
            code(NewImage::from_json(
                Bytes::from_static(b"{\"file_name\":"),
                1024
            )),
            "invalid_json"
        );
        assert_eq!(
            code(NewImage::from_json(Bytes::from_static(b"[1]"), 1024)),
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

    /// Bodies near a valid upload: members in any order, repeated or unknown, odd whitespace,
    /// and content with escapes, quotes, control characters, bad UTF-8 or bad base64.
    fn near_valid_body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let image = STANDARD.encode([PNG, &[0xff; 40][..]].concat());
        let content = prop_oneof![
            Just(format!(r#""{image}""#).into_bytes()),
            Just(format!(r#""{}""#, image.replace('/', "\\/")).into_bytes()),
            Just(br#""""#.to_vec()),
            Just(br#"7"#.to_vec()),
            Just(br#"null"#.to_vec()),
            (
                0..image.len(),
                prop::sample::select(vec![
                    &b"\x01"[..],
                    b"\x1f",
                    b"\\",
                    b"\"",
                    b"!",
                    b"=",
                    "é".as_bytes(),
                    b"\xff",
                    b"\\u0041",
                    b"\\/"
                ])
            )
                .prop_map(move |(at, insert)| {
                    let mut text = format!(r#""{image}""#).into_bytes();
                    text.splice(at + 1..at + 1, insert.iter().copied());
                    text
                }),
        ];
        let file_name = prop::sample::select(vec![
            &br#""a.png""#[..],
            br#""""#,
            b"7",
            b"null",
            br#""caf\u00e9.png""#,
            b"\"a\x01\"",
        ]);
        let metadata = prop::sample::select(vec![
            &br#"{}"#[..],
            br#"{"k": "v"}"#,
            br#"{"k": 1}"#,
            b"null",
            b"[]",
        ]);
        let member = prop_oneof![
            content.prop_map(|v| (b"\"content\"".to_vec(), v)),
            file_name.prop_map(|v| (b"\"file_name\"".to_vec(), v.to_vec())),
            metadata.prop_map(|v| (b"\"metadata\"".to_vec(), v.to_vec())),
            Just((b"\"extra\"".to_vec(), b"1".to_vec())),
            Just((br#""con\u0074ent""#.to_vec(), br#""AAAA""#.to_vec())),
        ];
        let space = prop::sample::select(vec![&b""[..], b" ", b"\n\t ", b"\r\n"]);
        let trailer = prop::sample::select(vec![&b""[..], b"\n", b" x", b",", b"}"]);
        (
            proptest::collection::vec((member, space.clone()), 0..5),
            space,
            trailer,
            proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
        )
            .prop_map(|(members, space, trailer, mutation)| {
                let mut body = b"{".to_vec();
                for (i, ((key, value), gap)) in members.iter().enumerate() {
                    if i > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(gap);
                    body.extend_from_slice(key);
                    body.extend_from_slice(gap);
                    body.push(b':');
                    body.extend_from_slice(value);
                }
                body.extend_from_slice(space);
                body.push(b'}');
                body.extend_from_slice(trailer);
                if let Some((at, byte)) = mutation {
                    let at = at.index(body.len());
                    body[at] = byte;
                }
                body
            })
    }

    /// What a client sees of an outcome: the whole result, but of an `invalid_json` only its
    /// code (the parser words its own messages).
    fn outcome(result: Result<NewImage, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidJson(_)) => "invalid_json".to_owned(),
            other => format!("{other:?}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn scanning_for_the_content_changes_no_outcome(body in near_valid_body()) {
            let parse_all: Scan = |_| None;
            for max in [1024, 20] {
                let expected = outcome(NewImage::from_json_with(body.clone().into(), max, parse_all));
                proptest::prop_assert_eq!(&outcome(NewImage::from_json(body.clone().into(), max)), &expected);
                // A shared buffer is decoded beside, not in place.
                let shared = Bytes::from(body.clone());
                let _other_holder = shared.clone();
                proptest::prop_assert_eq!(&outcome(NewImage::from_json(shared, max)), &expected);
            }
        }
    }

    #[test]
    fn the_scan_finds_the_members_the_parser_finds() {
        let body = br#" { "metadata" : {"k": "v"}, "content":"QUJD" ,"file_name": "a\"b" } "#;
        let members = Members::scan(body).unwrap();
        assert_eq!(&body[members.content_text.clone().unwrap()], b"QUJD");
        let keys: Vec<_> = members.fields.keys().map(|k| k.as_ref()).collect();
        assert_eq!(keys, ["file_name", "metadata"]);
        // Escaped content, a later non-string content, and syntax errors go to the parser.
        for body in [
            &br#"{"content": "QU\/D", "file_name": "a"}"#[..],
            br#"{"content": "QUJD", "content": 7}"#,
            br#"{"content": "QUJD" "file_name": "a"}"#,
            br#"{"content": "QUJD"} x"#,
            br#"[]"#,
        ] {
            let scanned = Members::scan(body);
            let fields = scanned.as_ref().map(|m| m.fields.len());
            assert!(
                scanned.is_none_or(|m| m.content_text.is_none()),
                "{}: {fields:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_limit_is_inclusive() {
        let mut exact = PNG.to_vec();
        exact.resize(1024, 0xff); // base64 "////": escapable
        let body =
            serde_json::json!({"file_name": "a", "content": STANDARD.encode(&exact)}).to_string();
        assert!(body.len() <= json_body_limit(1024));
        assert!(NewImage::from_json(body.clone().into(), 1024).is_ok());
        let escaped = body.replace('/', "\\/");
        assert!(escaped.len() > body.len());
        assert!(NewImage::from_json(escaped.clone().into(), 1024).is_ok());
        exact.push(0);
        let body =
            serde_json::json!({"file_name": "a", "content": STANDARD.encode(&exact)}).to_string();
        assert_eq!(
            code(NewImage::from_json(body.clone().into(), 1024)),
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
