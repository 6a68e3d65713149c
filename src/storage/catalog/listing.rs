//! Listings: newest first, through the index of the filter, one page at a time.

use std::collections::HashMap;

use super::items::{decode, id_value, owner_file_name, string};
use super::schema::*;
use super::{Catalog, StorageError};
use crate::domain::{ImageRecord, ListQuery, PageToken, Timestamp};

/// One page of a listing.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<ImageRecord>,
    pub next: Option<PageToken>,
}

impl Catalog {
    /// Newest first. Asks for one item more than the page holds, so `next` is set exactly
    /// when more items follow, on AWS and on emulators alike (they differ on whether a
    /// `Limit` that exhausts the items returns a `LastEvaluatedKey`).
    pub async fn list(&self, query: &ListQuery) -> Result<Page, StorageError> {
        let Some((lower, upper)) = &query.range else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let (index, partition_attr, partition) = match &query.file_name {
            Some(name) => (
                BY_OWNER_FILE_NAME_INDEX,
                OWNER_FILE_NAME,
                owner_file_name(&query.owner, name),
            ),
            None => (BY_OWNER_INDEX, OWNER, query.owner.to_string()),
        };
        let start_key = query.start_after.as_ref().map(|token| {
            let position = token.position();
            HashMap::from([
                (ID.to_owned(), id_value(position.id())),
                (partition_attr.to_owned(), string(partition.clone())),
                (CREATED_KEY.to_owned(), string(position.to_string())),
            ])
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lower AND :upper")
            .expression_attribute_names("#pk", partition_attr)
            .expression_attribute_names("#sk", CREATED_KEY)
            .expression_attribute_values(":pk", string(partition))
            .expression_attribute_values(":lower", string(lowest_key_at(*lower)))
            .expression_attribute_values(":upper", string(highest_key_at(*upper)))
            .scan_index_forward(false)
            .limit(i32::try_from(query.limit + 1).expect("page sizes are small"))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;

        let more = output.last_evaluated_key.is_some();
        let mut items = output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| decode(item, &self.legacy_owner))
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .map(|item| PageToken::after(item.sort_key(), query.filters()))
        } else if more {
            // A short page with more to come (DynamoDB's 1 MB page cap).
            items
                .last()
                .map(|item| PageToken::after(item.sort_key(), query.filters()))
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

/// Below every stored `{created_at}#{id}` at `at`: `#` ends the timestamp.
fn lowest_key_at(at: Timestamp) -> String {
    format!("{at}#")
}

/// Above every stored key at `at`: `~` sorts above every character of an id.
fn highest_key_at(at: Timestamp) -> String {
    format!("{at}#~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SortKey;

    #[test]
    fn the_bounds_at_an_instant_hold_every_key_at_it_and_no_other() {
        let at = Timestamp::parse_stored("2026-11-24T23:45:24.123Z").unwrap();
        let next = Timestamp::parse_stored("2026-11-24T23:45:24.124Z").unwrap();
        for id in [
            "00000000-0000-4000-8000-000000000000",
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
        ] {
            let key = SortKey::new(at, id.parse().unwrap()).to_string();
            assert!(lowest_key_at(at) < key && key < highest_key_at(at), "{key}");
            let later = SortKey::new(next, id.parse().unwrap()).to_string();
            assert!(
                highest_key_at(at) < later && later > lowest_key_at(next),
                "{later}"
            );
            assert!(lowest_key_at(next) < later);
        }
    }
}
