//! Reading JSON request bodies into their request shapes (`UploadRequest`, `CreateUpload`,
//! `CompleteUpload`, each one `#[derive(Deserialize)]` with `deny_unknown_fields`), and the
//! one place serde's errors become the domain's. Also the member types serde has none for.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::InputError;

/// Error details quote the client's input; past this many characters they are cut.
const MAX_DETAIL_CHARS: usize = 256;

/// `body` as the request shape `T`. Syntax errors and repeated members are `InvalidJson`
/// (parsers differ on which of two `content` members wins, so a body with two is not one this
/// API reads); a member of the wrong type or an unknown one is `InvalidField`, named by its
/// path. Missing members are the shape's to report (its fields are `Option`s).
pub(crate) fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, InputError> {
    // serde's derive would also read a struct from a JSON array of its members.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(InputError::InvalidJson(
            "the body must be a JSON object".into(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let shape = serde_path_to_error::deserialize(&mut deserializer).map_err(input_error)?;
    deserializer
        .end()
        .map_err(|error| InputError::InvalidJson(error.to_string()))?;
    Ok(shape)
}

fn input_error(error: serde_path_to_error::Error<serde_json::Error>) -> InputError {
    let path = error.path().to_string();
    let error = error.into_inner();
    let message = error.to_string();
    let mut detail = if path == "." {
        message.clone()
    } else {
        format!("`{path}`: {message}")
    };
    if let Some((cut, _)) = detail.char_indices().nth(MAX_DETAIL_CHARS) {
        detail.truncate(cut);
        detail.push('…');
    }
    // serde's derive words a repeat as `duplicate field`; `UniqueMap` uses the same words.
    if !error.is_data() || message.starts_with("duplicate field") {
        InputError::InvalidJson(detail)
    } else {
        InputError::InvalidField(detail)
    }
}

/// A JSON object of string values that refuses a repeated name, as serde's derive does for
/// a struct's members (a `BTreeMap` keeps the last one silently).
#[derive(Debug, Default)]
pub(crate) struct UniqueMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = UniqueMap;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    if entries.contains_key(&key) {
                        let key = super::excerpt(&key);
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    entries.insert(key, value);
                }
                Ok(UniqueMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// A string member, borrowed from the body when it holds no escape: a base64 image is not
/// copied before it is decoded. (serde borrows a bare `Cow<str>` member, not one in an
/// `Option`.)
#[derive(Debug)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A whole number, `185.0` included: JSON does not tell them apart, and neither does JSON
/// Schema's `integer`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeNumber(pub u64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = WholeNumber;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(WholeNumber(n))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n)
                    .map(WholeNumber)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }

            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                // Beyond 2^53 a float no longer names one whole number.
                if n >= 0.0 && n.fract() == 0.0 && n <= (1u64 << 53) as f64 {
                    Ok(WholeNumber(n as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(n), &self))
                }
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A member the shape requires, or `MissingField`.
pub(crate) fn required<T>(member: Option<T>, name: &str) -> Result<T, InputError> {
    member.ok_or_else(|| InputError::MissingField(format!("the field `{name}` is required")))
}
