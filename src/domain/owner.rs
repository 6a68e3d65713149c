//! Whose an image is.

/// The person an image belongs to: the `sub` of a verified Cognito access token, or, in a
/// deployment without sign-in, the one owner it is configured with (`IMAGE_OWNER`).
///
/// Owners go into index keys and idempotency keys ahead of a separator (`/`, `#`); the narrow
/// alphabet keeps every such key unambiguous. Cognito's `sub` is a UUID, well inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

pub const MAX_OWNER_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an owner is 1 to {MAX_OWNER_CHARS} ASCII letters, digits and the characters . _ - + @, got {0:?}"
)]
pub struct InvalidOwner(pub String);

impl Owner {
    pub fn parse(raw: &str) -> Result<Self, InvalidOwner> {
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@');
        if (1..=MAX_OWNER_CHARS).contains(&raw.len()) && raw.chars().all(allowed) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidOwner(super::excerpt(raw)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_cannot_hold_the_key_separators() {
        for good in [
            "default",
            "6f9619ff-8b86-4011-b42d-00c04fc964ff",
            "a.b+c@d_e",
        ] {
            assert_eq!(Owner::parse(good).unwrap().as_str(), good);
        }
        let longest = "x".repeat(MAX_OWNER_CHARS);
        assert!(Owner::parse(&longest).is_ok());
        for bad in [
            "",
            "a/b",
            "a#b",
            "a b",
            "caf\u{e9}",
            "a\nb",
            &format!("{longest}x"),
        ] {
            assert!(Owner::parse(bad).is_err(), "{bad:?}");
        }
    }
}
