//! Records and pending uploads written before owners had none: `adopt` gives them one, so
//! that the owner's listings find them (an item is in an owner's index only with `owner`).

use super::items::{owner_file_name, string};
use super::schema::{FILE_NAME, ID, OWNER, OWNER_FILE_NAME, STATE};
use super::{Catalog, StorageError, applied, claims};
use crate::domain::{FileName, Owner};

/// The attribute that put every record in one partition before owners; `adopt` removes it.
const OLD_SHARD: &str = "shard";

/// What `adopt` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Adopted {
    pub images: usize,
    pub uploads: usize,
}

impl Catalog {
    /// Makes every item without an owner `owner`'s, page by page. Each write is conditional on
    /// the item still having no owner, so running it twice, or beside the service, is safe.
    pub async fn adopt(&self, owner: &Owner) -> Result<Adopted, StorageError> {
        let mut adopted = Adopted::default();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("attribute_not_exists(#owner)")
            .expression_attribute_names("#owner", OWNER)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page?.items().iter().filter(|item| !claims::is_claim(item)) {
                let id = item
                    .get(ID)
                    .cloned()
                    .ok_or_else(|| StorageError::internal("stored item has no id"))?;
                let pending = item.contains_key(STATE);
                let update = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key(ID, id)
                    .condition_expression("attribute_exists(#id) AND attribute_not_exists(#owner)")
                    .expression_attribute_names("#id", ID)
                    .expression_attribute_names("#owner", OWNER)
                    .expression_attribute_values(":owner", string(owner.as_str()));
                let update = if pending {
                    update.update_expression("SET #owner = :owner")
                } else {
                    let file_name = item
                        .get(FILE_NAME)
                        .and_then(|v| v.as_s().ok())
                        .and_then(|name| FileName::parse(name.clone()).ok())
                        .ok_or_else(|| {
                            StorageError::internal("stored record has a malformed file name")
                        })?;
                    update
                        .update_expression("SET #owner = :owner, #by_name = :by_name REMOVE #shard")
                        .expression_attribute_names("#by_name", OWNER_FILE_NAME)
                        .expression_attribute_names("#shard", OLD_SHARD)
                        .expression_attribute_values(
                            ":by_name",
                            string(owner_file_name(owner, &file_name)),
                        )
                };
                if applied(update.send().await)? {
                    if pending {
                        adopted.uploads += 1;
                    } else {
                        adopted.images += 1;
                    }
                }
            }
        }
        Ok(adopted)
    }
}
