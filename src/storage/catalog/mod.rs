//! Image records and pending uploads in DynamoDB, one item per id: the writes and reads of
//! one item here, listings in `listing.rs`, the items' attributes in `items.rs`.

mod claims;
mod items;
mod listing;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub use claims::{Claim, ClaimState, Hold};
pub use items::schema;
pub use listing::Page;

use super::StorageError;
use crate::domain::{ImageId, ImageRecord, PendingUpload};
use items::{decode_stored, id_value, image_item, pending_item, string};
use schema::{ID, PENDING, STATE};

/// Image records in DynamoDB, keyed by `id`, listed through two indexes sorted by
/// `created_key`.
#[derive(Clone)]
pub struct Catalog {
    client: Client,
    table: String,
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

/// What removing an image record found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    Absent,
    /// The id is a pending upload's, not an image's: nothing was removed.
    Pending,
}

impl Catalog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
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

    /// The image record; `None` if there is none (a pending upload is not an image).
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
        output.item.as_ref().map(decode_stored).transpose()
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

    /// Turns a pending upload into its image record, only if it is still pending: `false`
    /// when it is not (completed by a racing call or an earlier attempt, or aborted).
    pub async fn complete(&self, record: &ImageRecord) -> Result<bool, StorageError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(image_item(record)))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":pending", string(PENDING))
            .send()
            .await;
        applied(result)
    }

    /// Forgets a pending upload, only if it is still pending; `false` when it was not there
    /// (or no longer pending). Idempotent.
    pub async fn remove_pending(&self, id: ImageId) -> Result<bool, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":pending", string(PENDING))
            .send()
            .await;
        applied(result)
    }

    /// Removes an image record; says whether there was one. A pending upload under the id is
    /// left alone (`Removal::Pending`): only `DELETE /uploads/{id}` aborts it.
    pub async fn remove(&self, id: ImageId) -> Result<Removal, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, id_value(id))
            .condition_expression("attribute_not_exists(#state)")
            .expression_attribute_names("#state", STATE)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output)
                if output
                    .attributes
                    .as_ref()
                    .is_some_and(|old| !old.is_empty()) =>
            {
                Ok(Removal::Removed)
            }
            Ok(_) => Ok(Removal::Absent),
            Err(error) if condition_failed(&error) => Ok(Removal::Pending),
            Err(error) => Err(error.into()),
        }
    }

    /// Every record and pending upload (idempotency keys aside), page by page (a strongly
    /// consistent scan): for operators (`reconcile`), not requests.
    pub async fn scan(&self) -> Result<Vec<Stored>, StorageError> {
        let mut records = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page?.items().iter().filter(|item| !claims::is_claim(item)) {
                records.push(decode_stored(item)?);
            }
        }
        Ok(records)
    }
}
