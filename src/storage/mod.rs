//! S3 holds the bytes, DynamoDB the records. This module owns the order of operations between
//! the two, which is what keeps them consistent (see docs/consistency.md):
//! - upload: object first, then record; a record is never visible without its object;
//! - delete: record first, then object, and the object delete runs even when no record was
//!   found, so repeating a half-done delete finishes it.
//!
//! Each sequence runs to its end once started, even when the request that started it is
//! dropped (an HTTP client that goes away cancels its handler).

mod catalog;
mod direct_upload;
mod errors;
mod objects;
mod once;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use catalog::{Adopted, Catalog, Claim, ClaimState, Hold, Page, Stored, schema};
pub use direct_upload::{Completion, Judge, Ticket, UploadError};
pub use errors::{BoxError, StorageError};
pub use objects::{AssembleError, Listing, Objects, PresignedPart, ThumbnailOf};
pub use once::{KEY_LIFETIME, OnceError};

use crate::domain::{ImageId, ImageRecord, ListQuery, Owner};
use imaging::media::MediaType;

#[derive(Clone)]
pub struct ImageStore {
    objects: Objects,
    catalog: Catalog,
    /// Sequences under way, so that a server shutting down waits for them.
    pending: TaskTracker,
}

impl ImageStore {
    pub fn new(objects: Objects, catalog: Catalog) -> Self {
        Self {
            objects,
            catalog,
            pending: TaskTracker::new(),
        }
    }

    /// The bytes' side, for operators' tools (`reconcile`).
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// The records' side, for operators' tools (`reconcile`).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Waits for every sequence under way, those whose requests were dropped included.
    pub async fn finish_pending(&self) {
        self.pending.close();
        self.pending.wait().await;
    }

    pub async fn create(&self, record: &ImageRecord, bytes: Bytes) -> Result<(), StorageError> {
        let (store, owned) = (self.clone(), record.clone());
        self.run_to_end("upload", record.id, async move {
            store.create_now(&owned, bytes).await
        })
        .await
    }

    async fn create_now(&self, record: &ImageRecord, bytes: Bytes) -> Result<(), StorageError> {
        self.objects
            .put(record.id, record.content_type, bytes)
            .await?;
        let Err(error) = self.catalog.insert(record).await else {
            return Ok(());
        };
        self.undo_create(record).await;
        Err(error)
    }

    /// The failed PutItem may still have been applied (a lost response), so the record is
    /// removed before the object; if even that fails, the object stays: an orphan object is
    /// invisible and can be swept, a record pointing at nothing would be served.
    async fn undo_create(&self, record: &ImageRecord) {
        let id = record.id;
        if let Err(error) = self.catalog.remove_record(id, &record.owner).await {
            tracing::error!(%id, %error, "upload failed and its record state is unknown; object kept for reconciliation");
            return;
        }
        if let Err(error) = self.objects.delete(id).await {
            tracing::error!(%id, %error, "upload failed and its object could not be removed; orphan object left");
        }
    }

    /// `owner`'s image record under `id`. Another owner's is `None`, exactly as a missing one:
    /// nobody learns whether an id they do not own exists.
    pub async fn record(
        &self,
        owner: &Owner,
        id: ImageId,
    ) -> Result<Option<ImageRecord>, StorageError> {
        Ok(self
            .catalog
            .get(id)
            .await?
            .filter(|record| record.owner == *owner))
    }

    /// The kept `thumbnail` and its type, if it was made before.
    pub async fn thumbnail(
        &self,
        thumbnail: &ThumbnailOf,
    ) -> Result<Option<(Bytes, MediaType)>, StorageError> {
        self.objects.thumbnail(thumbnail).await
    }

    /// Keeps a thumbnail for the next request. The image's delete removes it.
    pub async fn save_thumbnail(
        &self,
        thumbnail: &ThumbnailOf,
        bytes: Bytes,
        media: MediaType,
    ) -> Result<(), StorageError> {
        self.objects.put_thumbnail(thumbnail, bytes, media).await
    }

    /// The bytes, whole in memory; `None` if there is no object.
    pub async fn read(&self, id: ImageId) -> Result<Option<Bytes>, StorageError> {
        self.objects.read(id).await
    }

    /// A presigned URL of an image's bytes, answered with its type and `disposition`.
    pub async fn download_url(
        &self,
        record: &ImageRecord,
        disposition: &str,
        ttl: std::time::Duration,
    ) -> Result<String, StorageError> {
        self.objects
            .presign_get(record.id, record.content_type, disposition, ttl)
            .await
    }

    /// Where presigned URLs point (`scheme://host[:port]`), for the page's
    /// Content-Security-Policy.
    pub async fn presigned_origin(&self) -> Result<String, StorageError> {
        self.objects.presigned_origin().await
    }

    /// The bytes as they arrive from S3, for records already looked up.
    pub async fn stream(&self, id: ImageId) -> Result<Option<ByteStream>, StorageError> {
        self.objects.stream(id).await
    }

    /// Returns whether `owner` had a record under `id` (or a delete of theirs that stopped
    /// half-way, which this one finishes). Another owner's id, a pending upload's and an
    /// unknown one are all one failed conditional write, and no object is touched.
    pub async fn delete(&self, owner: &Owner, id: ImageId) -> Result<bool, StorageError> {
        let (store, owner) = (self.clone(), owner.clone());
        self.run_to_end("delete", id, async move {
            // Marked first, so that a failure part-way leaves neither a record without its
            // object (the mark is no record to any read) nor an object nobody can delete
            // (a repeat finds the mark). Without an own record, no object is touched.
            if !store.catalog.mark_deleting(id, &owner).await? {
                return Ok(false);
            }
            store.finish_delete(id).await?;
            Ok(true)
        })
        .await
    }

    /// The rest of a delete once the record is marked: the objects, then the mark.
    pub async fn finish_delete(&self, id: ImageId) -> Result<(), StorageError> {
        self.objects.delete(id).await?;
        self.objects.delete_thumbnails(id).await?;
        self.catalog.remove_deleting(id).await
    }

    /// Runs `steps` as a task of its own, so that dropping the caller does not stop it between
    /// two calls; a sequence that outlives its caller is logged with its outcome. A panic in
    /// it is the caller's panic.
    async fn run_to_end<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
        &self,
        what: &'static str,
        id: ImageId,
        steps: impl Future<Output = Result<T, E>> + Send + 'static,
    ) -> Result<T, E> {
        let abandoned = Arc::new(AtomicBool::new(false));
        let mut watch = Abandoned {
            flag: Arc::clone(&abandoned),
            what,
            id,
            finished: false,
        };
        let task = self.pending.spawn(
            async move {
                let outcome = steps.await;
                if abandoned.load(Ordering::Acquire) {
                    match &outcome {
                        Ok(_) => tracing::info!(%id, "{what} finished after its client left"),
                        Err(error) => {
                            tracing::warn!(%id, %error, "{what} failed after its client left")
                        }
                    }
                }
                outcome
            }
            .in_current_span(),
        );
        let outcome = task.await;
        watch.finished = true;
        outcome.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
    }

    pub async fn list(&self, query: &ListQuery) -> Result<Page, StorageError> {
        self.catalog.list(query).await
    }
}

/// Marks a sequence as abandoned, and says so, when its caller is dropped before it ends.
struct Abandoned {
    flag: Arc<AtomicBool>,
    what: &'static str,
    id: ImageId,
    finished: bool,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.flag.store(true, Ordering::Release);
        tracing::warn!(id = %self.id, "client left during its {}; finishing it anyway", self.what);
    }
}
