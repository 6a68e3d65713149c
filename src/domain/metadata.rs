use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::json::UniqueMap;
use super::{InputError, text};

pub const MAX_METADATA_ENTRIES: usize = 32;
pub const MAX_METADATA_KEY_CHARS: usize = 128;
/// Keys plus values, in UTF-8 bytes: keeps a record far below DynamoDB's 400 KB item limit
/// and a listing page of 100 records small.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// Free-form string pairs a client attaches to an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metadata(#[serde(deserialize_with = "parse_unique")] BTreeMap<String, String>);

fn parse_unique<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let UniqueMap(entries) = UniqueMap::deserialize(deserializer)?;
    Metadata::parse(entries)
        .map(|metadata| metadata.0)
        .map_err(serde::de::Error::custom)
}

/// What JSON Schema can say of metadata; the one rule it cannot (a bound on the bytes of
/// all keys and values together) is in the description.
pub fn metadata_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "Free-form string pairs: at most {MAX_METADATA_ENTRIES} entries, keys 1 to \
             {MAX_METADATA_KEY_CHARS} characters, keys and values at most \
             {MAX_METADATA_BYTES} bytes of UTF-8 in all, no control characters."
        )))
        .property_names(Some(text::schema(1, Some(MAX_METADATA_KEY_CHARS)).build()))
        .additional_properties(Some(text::schema(0, None)))
        .max_properties(Some(MAX_METADATA_ENTRIES))
        .build()
}

impl Metadata {
    pub fn parse(entries: BTreeMap<String, String>) -> Result<Self, InputError> {
        // The caller's detail names the member (`json::read` puts its path first).
        let invalid = |why: String| Err(InputError::InvalidField(why));
        if entries.len() > MAX_METADATA_ENTRIES {
            return invalid(format!(
                "may have at most {MAX_METADATA_ENTRIES} entries, got {}",
                entries.len()
            ));
        }
        let mut bytes = 0;
        for (key, value) in &entries {
            let chars = key.chars().count();
            if chars == 0 || chars > MAX_METADATA_KEY_CHARS {
                return invalid(format!(
                    "keys must be 1 to {MAX_METADATA_KEY_CHARS} characters long"
                ));
            }
            if text::has_control(key) || text::has_control(value) {
                return invalid("keys and values must not contain control characters".into());
            }
            bytes += key.len() + value.len();
        }
        if bytes > MAX_METADATA_BYTES {
            return invalid(format!(
                "may hold at most {MAX_METADATA_BYTES} bytes of keys and values, got {bytes}"
            ));
        }
        Ok(Self(entries))
    }

    /// For values read back from storage, which were validated when written.
    pub fn from_stored(entries: BTreeMap<String, String>) -> Self {
        Self(entries)
    }

    pub fn entries(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn accepts_within_bounds_and_refuses_beyond() {
        assert!(Metadata::parse(map(&[("camera", "x100"), ("note", "")])).is_ok());
        assert!(Metadata::parse(map(&[("", "v")])).is_err());
        assert!(Metadata::parse(map(&[("k", "line\nbreak")])).is_err());
        let too_many: BTreeMap<_, _> = (0..=MAX_METADATA_ENTRIES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert!(Metadata::parse(too_many).is_err());
        assert!(Metadata::parse(map(&[("big", &"v".repeat(MAX_METADATA_BYTES))])).is_err());
        assert!(Metadata::parse(map(&[("big", &"v".repeat(MAX_METADATA_BYTES - 3))])).is_ok());
    }
}
