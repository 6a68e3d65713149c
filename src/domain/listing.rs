use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::InputError;
#[cfg(test)]
use super::SortKey;
use super::{FileName, Owner, PageToken, Timestamp, excerpt};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;

/// The parameters of `GET /images`, exactly as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListQuery {
    pub file_name: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub limit: Option<String>,
    pub next_token: Option<String>,
}

/// A listing request, valid by construction: the date filters are an inclusive window of
/// stored timestamps, and a page token is known to lie inside it and to be its owner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Whose images: a listing never reaches past one owner's partition.
    pub owner: Owner,
    pub file_name: Option<FileName>,
    /// Inclusive bounds on `created_at`; `None` when the filters admit nothing.
    pub range: Option<(Timestamp, Timestamp)>,
    pub limit: usize,
    pub start_after: Option<PageToken>,
}

impl ListQuery {
    pub fn parse(raw: RawListQuery, owner: Owner) -> Result<Self, InputError> {
        let file_name = raw
            .file_name
            .map(FileName::parse)
            .transpose()
            .map_err(|e| InputError::InvalidQuery(e.to_string()))?;
        let after = raw
            .created_after
            .as_deref()
            .map(|v| instant("created_after", v))
            .transpose()?;
        let before = raw
            .created_before
            .as_deref()
            .map(|v| instant("created_before", v))
            .transpose()?;
        let limit = match raw.limit.as_deref() {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    InputError::InvalidQuery(format!(
                        "`limit` must be a whole number from 1 to {MAX_PAGE_SIZE}, got {:?}",
                        excerpt(text)
                    ))
                })?,
        };

        let lower = after.map_or_else(Timestamp::min, Timestamp::first_after);
        let upper = before.map_or_else(Timestamp::max, Timestamp::last_before);
        let range = (lower <= upper).then_some((lower, upper));

        let start_after = raw
            .next_token
            .as_deref()
            .map(PageToken::decode)
            .transpose()?;
        let query = Self {
            owner,
            file_name,
            range,
            limit,
            start_after,
        };
        if let Some(token) = &query.start_after {
            let inside = query.range.as_ref().is_some_and(|(lower, upper)| {
                (lower..=upper).contains(&&token.position().created_at())
            });
            if token.filters() != query.filters() || !inside {
                return Err(InputError::InvalidToken(
                    "it belongs to a query with other filters, or another user's",
                ));
            }
        }
        Ok(query)
    }

    /// A checksum of the owner and the filters (not the page size), carried by this query's
    /// page tokens so that a token used with other filters, or by someone else, is refused
    /// rather than answered with a page that makes no sense. A consistency check, not a
    /// protection: anyone can compute a CRC32, and need not, since a listing reads only the
    /// caller's own partition whatever the token says. Names hold no control characters, and
    /// owners and timestamps no newline, so the text it sums is unambiguous.
    pub fn filters(&self) -> u32 {
        let name = self
            .file_name
            .as_ref()
            .map_or(String::new(), |name| format!("={}", name.as_str()));
        let range = self
            .range
            .as_ref()
            .map_or(String::new(), |(lower, upper)| format!("{lower}\n{upper}"));
        crc32fast::hash(format!("{}\n{name}\n{range}", self.owner).as_bytes())
    }
}

fn instant(name: &str, value: &str) -> Result<OffsetDateTime, InputError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        InputError::InvalidQuery(format!(
            "`{name}` must be an RFC 3339 date-time such as 2026-11-24T23:45:24Z, got {:?}",
            excerpt(value)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: impl FnOnce(&mut RawListQuery)) -> Result<ListQuery, InputError> {
        let mut raw = RawListQuery::default();
        f(&mut raw);
        ListQuery::parse(raw, Owner::parse("someone").unwrap())
    }

    #[test]
    fn defaults_to_everything_fifty_at_a_time() {
        let query = parse(|_| {}).unwrap();
        assert_eq!(query.limit, DEFAULT_PAGE_SIZE);
        let (lower, upper) = query.range.unwrap();
        assert_eq!(lower.to_string(), "0000-01-01T00:00:00.000Z");
        assert_eq!(upper.to_string(), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn rejects_bad_limits_and_dates() {
        for limit in ["0", "101", "-1", "ten", ""] {
            assert!(
                matches!(
                    parse(|q| q.limit = Some(limit.into())),
                    Err(InputError::InvalidQuery(_))
                ),
                "{limit}"
            );
        }
        for date in ["yesterday", "2026-11-24", "2026-13-01T00:00:00Z"] {
            assert!(
                matches!(
                    parse(|q| q.created_after = Some(date.into())),
                    Err(InputError::InvalidQuery(_))
                ),
                "{date}"
            );
        }
    }

    #[test]
    fn an_empty_date_window_queries_nothing() {
        let query = parse(|q| {
            q.created_after = Some("2026-01-01T00:00:00Z".into());
            q.created_before = Some("2026-01-01T00:00:00.001Z".into());
        })
        .unwrap();
        assert_eq!(query.range, None);
    }

    #[test]
    fn a_token_outside_the_window_is_refused() {
        let key = SortKey::parse("2020-01-01T00:00:00.000Z#6f9619ff-8b86-4011-b42d-00c04fc964ff")
            .unwrap();
        let token = PageToken::after(key, parse(|_| {}).unwrap().filters()).encode();
        let result = parse(|q| {
            q.created_after = Some("2025-01-01T00:00:00Z".into());
            q.next_token = Some(token.clone());
        });
        assert!(matches!(result, Err(InputError::InvalidToken(_))));
        assert!(parse(|q| q.next_token = Some(token)).is_ok());
    }

    #[test]
    fn a_token_is_refused_to_anyone_but_its_owner() {
        let key = SortKey::parse("2026-01-01T00:00:00.000Z#6f9619ff-8b86-4011-b42d-00c04fc964ff")
            .unwrap();
        let as_owner = |owner: &str, token: Option<String>| {
            let raw = RawListQuery {
                next_token: token,
                ..RawListQuery::default()
            };
            ListQuery::parse(raw, Owner::parse(owner).unwrap())
        };
        let token = PageToken::after(key, as_owner("alice", None).unwrap().filters()).encode();
        assert!(as_owner("alice", Some(token.clone())).is_ok());
        assert!(matches!(
            as_owner("bob", Some(token)),
            Err(InputError::InvalidToken(_))
        ));
    }

    #[test]
    fn a_token_is_refused_with_other_filters() {
        let key = SortKey::parse("2026-01-01T00:00:00.000Z#6f9619ff-8b86-4011-b42d-00c04fc964ff")
            .unwrap();
        let for_a = parse(|q| q.file_name = Some("a.png".into())).unwrap();
        let token = PageToken::after(key, for_a.filters()).encode();
        let with = |f: fn(&mut RawListQuery)| {
            parse(|q| {
                f(q);
                q.next_token = Some(token.clone());
            })
        };
        assert!(with(|q| q.file_name = Some("a.png".into())).is_ok());
        // The page size may change between pages.
        assert!(
            with(|q| {
                q.file_name = Some("a.png".into());
                q.limit = Some("7".into());
            })
            .is_ok()
        );
        for other in [
            with(|q| q.file_name = Some("b.png".into())),
            with(|_| {}),
            with(|q| {
                q.file_name = Some("a.png".into());
                q.created_before = Some("2027-01-01T00:00:00Z".into());
            }),
        ] {
            assert!(
                matches!(other, Err(InputError::InvalidToken(_))),
                "{other:?}"
            );
        }
        // The same instant spelled with another offset is the same filter.
        let window = |after: &'static str| {
            parse(move |q| q.created_after = Some(after.into()))
                .unwrap()
                .filters()
        };
        assert_eq!(
            window("2025-01-01T01:00:00+01:00"),
            window("2025-01-01T00:00:00Z")
        );
    }
}
