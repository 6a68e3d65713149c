//! S3 holds the bytes, DynamoDB the records. This module owns the order of operations between
//! the two, which is what keeps them consistent (see docs/consistency.md):
//! - upload: object first, then record; a record is never visible without its object;
//! - delete: record first, then object, and the object delete runs even when no record was
//!   found, so repeating a half-done delete finishes it.

mod catalog;
mod errors;
mod objects;

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

pub use catalog::{Catalog, Page, schema};
pub use errors::StorageError;
pub use objects::Objects;

use crate::domain::{ImageId, ImageRecord, ListQuery};

#[derive(Clone)]
pub struct ImageStore {
    objects: Objects,
    catalog: Catalog,
}

impl ImageStore {
    pub fn new(objects: Objects, catalog: Catalog) -> Self {
        Self { objects, catalog }
    }

    pub async fn create(&self, record: &ImageRecord, bytes: Bytes) -> Result<(), StorageError> {
        self.objects
            .put(record.id, &record.content_type, bytes)
            .await?;
        let Err(error) = self.catalog.insert(record).await else {
            return Ok(());
        };
        self.undo_create(record.id).await;
        Err(error)
    }

    /// The failed PutItem may still have been applied (a lost response), so the record is
    /// removed before the object; if even that fails, the object stays: an orphan object is
    /// invisible and can be swept, a record pointing at nothing would be served.
    async fn undo_create(&self, id: ImageId) {
        if let Err(error) = self.catalog.remove(id).await {
            tracing::error!(%id, %error, "upload failed and its record state is unknown; object kept for reconciliation");
            return;
        }
        if let Err(error) = self.objects.delete(id).await {
            tracing::error!(%id, %error, "upload failed and its object could not be removed; orphan object left");
        }
    }

    pub async fn record(&self, id: ImageId) -> Result<Option<ImageRecord>, StorageError> {
        self.catalog.get(id).await
    }

    /// The record and the bytes; `None` if either is missing.
    pub async fn fetch(&self, id: ImageId) -> Result<Option<(ImageRecord, Bytes)>, StorageError> {
        let Some(record) = self.catalog.get(id).await? else {
            return Ok(None);
        };
        Ok(self.objects.get(id).await?.map(|bytes| (record, bytes)))
    }

    /// The object's byte stream, for records already looked up.
    pub async fn content(&self, id: ImageId) -> Result<Option<ByteStream>, StorageError> {
        self.objects.stream(id).await
    }

    /// Returns whether a record existed. The object is deleted either way: after a delete
    /// that removed the record but failed on the object, the repeat must still remove it.
    pub async fn delete(&self, id: ImageId) -> Result<bool, StorageError> {
        let existed = self.catalog.remove(id).await?;
        self.objects.delete(id).await?;
        Ok(existed)
    }

    pub async fn list(&self, query: &ListQuery) -> Result<Page, StorageError> {
        self.catalog.list(query).await
    }
}
