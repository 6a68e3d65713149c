//! Query strings, read strictly: each parameter known, given once, and valid UTF-8 once
//! percent-decoded (a lossy decode would store a name the client never sent).

use std::collections::BTreeMap;

use percent_encoding::percent_decode;

use crate::domain::InputError;
use crate::domain::excerpt;

/// The parameters of `query` (`None`: no query string), each one of `allowed`.
pub fn parameters(
    query: Option<&str>,
    allowed: &[&'static str],
) -> Result<BTreeMap<&'static str, String>, InputError> {
    let mut found = BTreeMap::new();
    for pair in query.unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key, "a parameter name")?;
        let Some(&name) = allowed.iter().find(|&&name| name == key) else {
            if allowed.is_empty() {
                return Err(InputError::InvalidQuery(format!(
                    "unknown query parameter `{}`; this request takes none",
                    excerpt(&key)
                )));
            }
            return Err(InputError::InvalidQuery(format!(
                "unknown query parameter `{}`; expected {}",
                excerpt(&key),
                allowed
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let value = decode(value, name)?;
        if found.insert(name, value).is_some() {
            return Err(InputError::InvalidQuery(format!(
                "the query parameter `{name}` is given more than once"
            )));
        }
    }
    Ok(found)
}

/// Form encoding: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
fn decode(raw: &str, what: &str) -> Result<String, InputError> {
    let spaced = raw.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| {
            InputError::InvalidQuery(format!(
                "{what} in the query string is not valid UTF-8 once percent-decoded"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["file_name", "limit"];

    #[test]
    fn decodes_known_parameters() {
        let found = parameters(Some("file_name=caf%C3%A9+1.png&&limit=5&"), ALLOWED).unwrap();
        assert_eq!(found["file_name"], "café 1.png");
        assert_eq!(found["limit"], "5");
        assert!(parameters(None, ALLOWED).unwrap().is_empty());
        assert_eq!(parameters(Some("limit"), ALLOWED).unwrap()["limit"], "");
        // An encoded `&` or `=` is data, not syntax.
        assert_eq!(
            parameters(Some("file_name=a%26b%3Dc"), ALLOWED).unwrap()["file_name"],
            "a&b=c"
        );
    }

    #[test]
    fn refuses_unknown_repeated_and_non_utf8_parameters() {
        for query in [
            "file_name=a%ff.png",
            "file_name=%C3",
            "fi%ffle=a",
            "other=1",
            "file_name=a&file_name=b",
            "limit=1&limit=1",
        ] {
            assert!(
                matches!(
                    parameters(Some(query), ALLOWED),
                    Err(InputError::InvalidQuery(_))
                ),
                "{query}"
            );
        }
    }
}
