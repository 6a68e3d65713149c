//! `Idempotency-Key` (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a client
//! names a request so that repeating it, after a lost answer, is done at most once.

use std::borrow::Cow;
use std::fmt::Write;

use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::{InputError, Owner};

/// At most this many characters, as the draft's examples and the common implementations allow.
pub const MAX_KEY_CHARS: usize = 255;

/// What `IdempotencyKey::parse` accepts, as a JSON Schema pattern.
const PATTERN: &str = r#"^("[!-~]{1,255}"|[!-~]{1,255})$"#;

/// A client's key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl utoipa::PartialSchema for IdempotencyKey {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_KEY_CHARS + 2))
            .pattern(Some(PATTERN))
            .into()
    }
}

impl utoipa::ToSchema for IdempotencyKey {
    fn name() -> Cow<'static, str> {
        "IdempotencyKey".into()
    }
}

impl IdempotencyKey {
    /// The header's value. The draft makes the key a Structured Field string; clients send it
    /// quoted (`"abc"`) or bare (`abc`), so both are read, as the same key: `"abc"` is `abc`
    /// when what the quotes hold is a key, else the value is taken whole (`""` is a key of
    /// two quotes). `PATTERN` says the same for the API document.
    pub fn parse(value: &[u8]) -> Result<Self, InputError> {
        let is_key = |k: &[u8]| {
            (1..=MAX_KEY_CHARS).contains(&k.len()) && k.iter().all(|b| (0x21..=0x7e).contains(b))
        };
        let key = match value {
            [b'"', inner @ .., b'"'] if is_key(inner) => inner,
            whole if is_key(whole) => whole,
            _ => return Err(InputError::InvalidIdempotencyKey),
        };
        // Visible ASCII is UTF-8.
        Ok(Self(String::from_utf8_lossy(key).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests the same request: the route and every part of the request that
/// changes what it does. Kept with the key, so the same key with another request is told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// SHA-256 over each part, each preceded by its length, so no two lists of parts give the
    /// same input.
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let mut hex = String::with_capacity(64);
        for byte in hash.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// As stored: 64 hex digits.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request a client named with a key: storage does it at most once per key and owner
/// (one owner's key never meets another's).
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub owner: Owner,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters_quoted_or_bare() {
        for good in [
            &b"a"[..],
            b"\"a\"",
            b"8e03978e-40d5-43e8-bc93-6894a57f9324",
            &[b'~'; 255],
        ] {
            assert!(IdempotencyKey::parse(good).is_ok(), "{good:?}");
        }
        assert_eq!(
            IdempotencyKey::parse(b"\"k-1\"").unwrap(),
            IdempotencyKey::parse(b"k-1").unwrap()
        );
        // What the quotes hold is not a key: the value is taken whole.
        assert_eq!(IdempotencyKey::parse(b"\"\"").unwrap().as_str(), "\"\"");
        for bad in [
            &b""[..],
            b"\" \"",
            b"a b",
            b"tab\there",
            b"\x7f",
            "caf\u{e9}".as_bytes(),
            &[b'a'; 256],
            b"new\nline",
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_tell_requests_apart_by_every_part() {
        let one = Fingerprint::of(&[b"POST /images", b"body"]);
        assert_eq!(one, Fingerprint::of(&[b"POST /images", b"body"]));
        assert_ne!(one, Fingerprint::of(&[b"POST /uploads", b"body"]));
        assert_ne!(one, Fingerprint::of(&[b"POST /images", b"bodY"]));
        // The same bytes cut differently are different requests.
        assert_ne!(
            Fingerprint::of(&[b"ab", b"c"]),
            Fingerprint::of(&[b"a", b"bc"])
        );
        assert_eq!(one.as_str().len(), 64);
    }
}
