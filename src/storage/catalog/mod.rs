//! Image records and pending uploads in DynamoDB, one item per id: the writes and reads of
//! one item here, listings in `listing.rs`, the items' attributes in `items.rs`.

mod adopt;
mod claims;
mod items;
mod listing;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub use adopt::Adopted;
pub use claims::{Claim, ClaimState, Hold};
pub use items::schema;
pub use listing::Page;

use super::StorageError;
use crate::domain::{ImageId, ImageRecord, Owner, PendingUpload};
use items::{decode_stored, id_value, image_item, is_deleting, pending_item, string};
use schema::{CREATED_KEY, DELETING, ID, OWNER, PENDING, STATE};

/// Image records in DynamoDB, keyed by `id`, listed through two indexes partitioned by owner
/// and sorted by `created_key`.
#[derive(Clone)]
pub struct Catalog {
    client: Client,
    table: String,
    /// Whose the items written before owners are (they have no `owner`).
    legacy_owner: Owner,
}

/// Whether a conditional write was applied: `false` when its condition did not hold.
fn applied<O, E>(result: Result<O, SdkError<E, HttpResponse>>) -> Result<bool, StorageError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if condition_failed(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The one test for a failed condition. Each operation has its own error type, with no trait
/// in common for it, so the code is what is compared.
fn condition_failed<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// What an item of the table is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Image(ImageRecord),
    Pending(PendingUpload),
}

/// The whole table, as `reconcile` reads it.
#[derive(Debug, Default)]
pub struct Contents {
    pub stored: Vec<Stored>,
    /// Images marked for deletion whose delete did not finish.
    pub deleting: BTreeSet<ImageId>,
}

impl Catalog {
    pub fn new(client: Client, table: impl Into<String>, legacy_owner: Owner) -> Self {
        Self {
            client,
            table: table.into(),
            legacy_owner,
        }
    }

    /// The condition that an existing item is `owner`'s (`#owner`, `:owner`): items without
    /// an owner are the legacy owner's.
    fn owned_by(&self, owner: &Owner) -> &'static str {
        if *owner == self.legacy_owner {
            "(#owner = :owner OR attribute_not_exists(#owner))"
        } else {
            "#owner = :owner"
        }
    }

    /// Conditional on the id being new. A `ConditionalCheckFailed` can only come from the
    /// SDK retrying our own write after a lost response (the id is a fresh random UUID), so
    /// it means the first attempt was applied.
    pub async fn insert(&self, record: &ImageRecord) -> Result<(), StorageError> {
        let item = image_item(record);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ID)
            .send()
            .await;
        if !applied(result)? {
            tracing::info!(id = %record.id, "record already written by an earlier attempt");
        }
        Ok(())
    }

    /// The image record, whoever's it is; `None` if there is none (a pending upload is not an
    /// image).
    pub async fn get(&self, id: ImageId) -> Result<Option<ImageRecord>, StorageError> {
        Ok(match self.get_stored(id).await? {
            Some(Stored::Image(record)) => Some(record),
            _ => None,
        })
    }

    /// Whatever is stored under `id`: an image record or a pending upload.
    pub async fn get_stored(&self, id: ImageId) -> Result<Option<Stored>, StorageError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .consistent_read(true)
            .send()
            .await?;
        output
            .item
            .as_ref()
            .filter(|item| !is_deleting(item))
            .map(|item| decode_stored(item, &self.legacy_owner))
            .transpose()
    }

    /// Remembers a planned upload, under an id that is new.
    pub async fn insert_pending(&self, upload: &PendingUpload) -> Result<(), StorageError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(pending_item(upload)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ID)
            .send()
            .await?;
        Ok(())
    }

    /// Turns a pending upload of the record's owner into its image record, only if it is still
    /// pending: `false` when it is not (completed by a racing call or an earlier attempt, or
    /// aborted).
    pub async fn complete(&self, record: &ImageRecord) -> Result<bool, StorageError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(image_item(record)))
            .condition_expression(format!(
                "#state = :pending AND {}",
                self.owned_by(&record.owner)
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":pending", string(PENDING))
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":owner", string(record.owner.as_str()))
            .send()
            .await;
        applied(result)
    }

    /// Forgets a pending upload, only if it is still pending; `false` when it was not there
    /// (or no longer pending). Idempotent.
    pub async fn remove_pending(&self, id: ImageId) -> Result<bool, StorageError> {
        self.remove_in_state(id, PENDING).await
    }

    /// Removes `owner`'s image record, only if it still is one (not a pending upload, not
    /// another owner's, not marked for deletion); says whether it was. For an upload's undo
    /// and `reconcile`'s ghosts: a request's delete goes through `mark_deleting`.
    pub async fn remove_record(&self, id: ImageId, owner: &Owner) -> Result<bool, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .condition_expression(format!(
                "attribute_not_exists(#state) AND {}",
                self.owned_by(owner)
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":owner", string(owner.as_str()))
            .send()
            .await;
        applied(result)
    }

    /// Marks `owner`'s image record for deletion, and takes it out of every listing and
    /// read, if there is one (or a mark already: a delete that stopped half-way). One
    /// conditional write whatever it finds, so a `DELETE` of another owner's id does the
    /// same work as one of an id nobody has; `false` for both, and for a pending upload.
    pub async fn mark_deleting(&self, id: ImageId, owner: &Owner) -> Result<bool, StorageError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .condition_expression(format!(
                "attribute_exists(#id) AND (attribute_not_exists(#state) OR #state = :deleting) \
                 AND {}",
                self.owned_by(owner)
            ))
            .update_expression("SET #state = :deleting REMOVE #created_key")
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#created_key", CREATED_KEY)
            .expression_attribute_values(":deleting", string(DELETING))
            .expression_attribute_values(":owner", string(owner.as_str()))
            .send()
            .await;
        applied(result)
    }

    /// Removes an image marked for deletion, once its objects are gone. Idempotent.
    pub async fn remove_deleting(&self, id: ImageId) -> Result<(), StorageError> {
        self.remove_in_state(id, DELETING).await.map(|_| ())
    }

    /// Deletes the item under `id` only while its `state` is `state`; `false` when it is not.
    async fn remove_in_state(&self, id: ImageId, state: &str) -> Result<bool, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .condition_expression("#state = :state")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":state", string(state))
            .send()
            .await;
        applied(result)
    }

    /// Every record, pending upload and unfinished delete (idempotency keys aside), page by
    /// page (a strongly consistent scan): for operators (`reconcile`), not requests.
    pub async fn scan(&self) -> Result<Contents, StorageError> {
        let mut contents = Contents::default();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page?.items().iter().filter(|item| !claims::is_claim(item)) {
                if is_deleting(item) {
                    contents.deleting.insert(items::decode_id(item)?);
                } else {
                    contents
                        .stored
                        .push(decode_stored(item, &self.legacy_owner)?);
                }
            }
        }
        Ok(contents)
    }
}
