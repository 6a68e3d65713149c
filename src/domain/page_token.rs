use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::SortKey;
use crate::error::ApiError;

const VERSION_PREFIX: &str = "v1:";
/// Tokens we issue are ~90 characters; anything far longer is not ours.
const MAX_TOKEN_CHARS: usize = 256;

/// Where the next page of a listing starts: the sort key of the last item already returned.
/// Opaque to clients (URL-safe base64), and checked here so a forged or mangled token never
/// reaches DynamoDB as an `ExclusiveStartKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(SortKey);

impl PageToken {
    pub fn after(last: SortKey) -> Self {
        Self(last)
    }

    pub fn position(&self) -> &SortKey {
        &self.0
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{VERSION_PREFIX}{}", self.0.as_str()))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        if raw.len() > MAX_TOKEN_CHARS {
            return Err(ApiError::InvalidToken("it is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| ApiError::InvalidToken("it is not URL-safe base64"))?;
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.strip_prefix(VERSION_PREFIX))
            .and_then(SortKey::parse)
            .map(Self)
            .ok_or(ApiError::InvalidToken("its content is malformed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_forgeries() {
        let key = SortKey::parse("2026-11-24T23:45:24.123Z#6f9619ff-8b86-4011-b42d-00c04fc964ff")
            .unwrap();
        let token = PageToken::after(key.clone());
        assert_eq!(PageToken::decode(&token.encode()).unwrap().position(), &key);
        for forged in [
            "",
            "abc",
            "!!!",
            &URL_SAFE_NO_PAD.encode("v2:x"),
            &"A".repeat(300),
        ] {
            assert!(
                matches!(PageToken::decode(forged), Err(ApiError::InvalidToken(_))),
                "{forged}"
            );
        }
    }
}
