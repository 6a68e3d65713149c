use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::InputError;
use super::SortKey;

const VERSION_PREFIX: &str = "v2:";
/// Tokens we issue are ~90 characters; anything far longer is not ours.
const MAX_TOKEN_CHARS: usize = 256;

/// Where the next page of a listing starts (the sort key of the last item already returned),
/// and which filters it was issued for (a checksum of them: `ListQuery::filters`). Opaque to
/// clients (URL-safe base64), and checked here so a forged or mangled token never reaches
/// DynamoDB as an `ExclusiveStartKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    position: SortKey,
    filters: u32,
}

impl PageToken {
    pub fn after(last: SortKey, filters: u32) -> Self {
        Self {
            position: last,
            filters,
        }
    }

    pub fn position(&self) -> &SortKey {
        &self.position
    }

    pub fn filters(&self) -> u32 {
        self.filters
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{VERSION_PREFIX}{:08x}:{}",
            self.filters, self.position
        ))
    }

    pub fn decode(raw: &str) -> Result<Self, InputError> {
        if raw.len() > MAX_TOKEN_CHARS {
            return Err(InputError::InvalidToken("it is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| InputError::InvalidToken("it is not URL-safe base64"))?;
        let (filters, position) = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.strip_prefix(VERSION_PREFIX))
            .and_then(|text| text.split_once(':'))
            .ok_or(InputError::InvalidToken("its content is malformed"))?;
        let filters = (filters.len() == 8
            && filters
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| u32::from_str_radix(filters, 16).ok())
        .flatten();
        match (filters, SortKey::parse(position)) {
            (Some(filters), Some(position)) => Ok(Self { position, filters }),
            _ => Err(InputError::InvalidToken("its content is malformed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_forgeries() {
        let key = SortKey::parse("2026-11-24T23:45:24.123Z#6f9619ff-8b86-4011-b42d-00c04fc964ff")
            .unwrap();
        let token = PageToken::after(key, 0x0bad_cafe);
        let decoded = PageToken::decode(&token.encode()).unwrap();
        assert_eq!(decoded.position(), &key);
        assert_eq!(decoded.filters(), 0x0bad_cafe);
        for forged in [
            "",
            "abc",
            "!!!",
            &URL_SAFE_NO_PAD.encode("v2:x"),
            &URL_SAFE_NO_PAD.encode(format!("v1:{key}")),
            &URL_SAFE_NO_PAD.encode(format!("v2:+0badcaf:{key}")),
            &URL_SAFE_NO_PAD.encode(format!("v2:0BADCAFE:{key}")),
            &"A".repeat(300),
        ] {
            assert!(
                matches!(PageToken::decode(forged), Err(InputError::InvalidToken(_))),
                "{forged}"
            );
        }
    }
}
