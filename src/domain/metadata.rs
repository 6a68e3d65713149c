use std::collections::BTreeMap;

use serde::Serialize;

use super::InputError;

pub const MAX_METADATA_ENTRIES: usize = 32;
pub const MAX_METADATA_KEY_CHARS: usize = 128;
/// Keys plus values, in UTF-8 bytes: keeps a record far below DynamoDB's 400 KB item limit
/// and a listing page of 100 records small.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// Free-form string pairs a client attaches to an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    pub fn parse(entries: BTreeMap<String, String>) -> Result<Self, InputError> {
        let invalid = |why: String| Err(InputError::InvalidField(format!("`metadata` {why}")));
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
            if key.chars().chain(value.chars()).any(char::is_control) {
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
