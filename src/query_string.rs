//! Query strings, read strictly, then by serde: each parameter valid UTF-8 once
//! percent-decoded (a lossy decode would store a name the client never sent), given once, and
//! one the target type knows (it is `deny_unknown_fields`).

use std::collections::BTreeSet;

use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;

use crate::domain::InputError;
use crate::domain::excerpt;

/// Longer than any parameter name a route takes, so never one; refused without echoing it whole.
const LONGEST_NAME: usize = 64;

/// `query` (`None`: no query string) as a `T`.
pub fn parse<T: DeserializeOwned>(query: Option<&str>) -> Result<T, InputError> {
    let query = query.unwrap_or_default();
    let mut names = BTreeSet::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name, "a parameter name")?;
        if name.len() > LONGEST_NAME {
            return Err(InputError::InvalidQuery(format!(
                "unknown query parameter `{}`",
                excerpt(&name)
            )));
        }
        decode(value, &format!("`{name}`"))?;
        if names.contains(&name) {
            return Err(InputError::InvalidQuery(format!(
                "the query parameter `{name}` is given more than once"
            )));
        }
        names.insert(name);
    }
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        InputError::InvalidQuery(match unknown_parameter(&inner) {
            Some(detail) => detail,
            None if path == "." => inner,
            None => format!("`{path}`: {inner}"),
        })
    })
}

/// serde's "unknown field" in the words of a query string; its message already names the
/// parameter, so no path goes before it.
fn unknown_parameter(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field ")?;
    Some(match rest.split_once(", there are no fields") {
        Some((name, _)) => format!("unknown query parameter {name}; this request takes none"),
        None => format!(
            "unknown query parameter {}",
            rest.replacen(", expected", "; expected", 1)
        ),
    })
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
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Query {
        file_name: Option<String>,
        limit: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoParameters {}

    fn query(text: &str) -> Result<Query, InputError> {
        parse(Some(text))
    }

    #[test]
    fn decodes_known_parameters() {
        let found = query("file_name=caf%C3%A9+1.png&&limit=5&").unwrap();
        assert_eq!(found.file_name.as_deref(), Some("café 1.png"));
        assert_eq!(found.limit, Some(5));
        assert_eq!(parse::<Query>(None).unwrap(), query("").unwrap());
        assert_eq!(query("file_name").unwrap().file_name.as_deref(), Some(""));
        // An encoded `&` or `=` is data, not syntax.
        assert_eq!(
            query("file_name=a%26b%3Dc").unwrap().file_name.as_deref(),
            Some("a&b=c")
        );
        assert!(parse::<NoParameters>(Some("&")).is_ok());
    }

    #[test]
    fn refuses_unknown_repeated_mistyped_and_non_utf8_parameters() {
        for (text, says) in [
            ("file_name=a%ff.png", "UTF-8"),
            ("file_name=%C3", "UTF-8"),
            ("fi%ffle=a", "UTF-8"),
            ("other=1", "other"),
            ("file_name=a&file_name=b", "more than once"),
            ("limit=1&limit=1", "more than once"),
            ("limit=1&li%6dit=1", "more than once"),
            ("limit=many", "`limit`"),
            ("limit=300", "`limit`"),
        ] {
            match query(text) {
                Err(InputError::InvalidQuery(detail)) => {
                    assert!(detail.contains(says), "{text}: {detail}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let long = format!("{}=1", "n".repeat(5000));
        let Err(InputError::InvalidQuery(detail)) = query(&long) else {
            panic!("a long name is refused")
        };
        assert!(detail.len() < 200, "{detail}");
        let Err(InputError::InvalidQuery(detail)) = parse::<NoParameters>(Some("file_name=a"))
        else {
            panic!("a request that takes no parameter refuses one")
        };
        assert_eq!(
            detail,
            "unknown query parameter `file_name`; this request takes none"
        );
        let Err(InputError::InvalidQuery(detail)) = query("size=1") else {
            panic!("an unknown parameter is refused")
        };
        assert_eq!(
            detail,
            "unknown query parameter `size`; expected `file_name` or `limit`"
        );
    }
}
