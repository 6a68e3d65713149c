use std::borrow::Cow;

use serde::Deserialize;
use utoipa::openapi::{RefOr, Schema};

use super::{InputError, text};

pub const MAX_FILE_NAME_CHARS: usize = 255;

/// A client's name for an image: 1–255 Unicode characters, no control characters, kept
/// verbatim. It is only ever data (a DynamoDB attribute, a header parameter), never a key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct FileName(String);

impl TryFrom<String> for FileName {
    type Error = InputError;

    fn try_from(raw: String) -> Result<Self, InputError> {
        Self::parse(raw)
    }
}

impl utoipa::PartialSchema for FileName {
    fn schema() -> RefOr<Schema> {
        text::schema(1, Some(MAX_FILE_NAME_CHARS))
            .description(Some("Any characters but control characters."))
            .into()
    }
}

impl utoipa::ToSchema for FileName {
    fn name() -> Cow<'static, str> {
        "FileName".into()
    }
}

impl FileName {
    pub fn parse(raw: String) -> Result<Self, InputError> {
        let chars = raw.chars().count();
        if chars == 0 || chars > MAX_FILE_NAME_CHARS {
            return Err(InputError::InvalidField(format!(
                "a file name must be 1 to {MAX_FILE_NAME_CHARS} characters long, got {chars}"
            )));
        }
        if text::has_control(&raw) {
            return Err(InputError::InvalidField(
                "a file name must not contain control characters".into(),
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_length_in_characters_not_bytes() {
        assert!(FileName::parse("é".repeat(255)).is_ok());
        assert!(FileName::parse("é".repeat(256)).is_err());
        assert!(FileName::parse(String::new()).is_err());
        assert_eq!(
            FileName::parse(" ../a b.png ".into()).unwrap().as_str(),
            " ../a b.png "
        );
    }

    #[test]
    fn refuses_control_characters() {
        for bad in ["a\nb", "a\u{0}", "tab\t", "del\u{7f}", "c1\u{85}"] {
            assert!(FileName::parse(bad.into()).is_err(), "{bad:?}");
        }
    }
}
