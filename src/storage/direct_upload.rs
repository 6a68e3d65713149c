//! Direct uploads: the client sends the bytes straight to S3 with presigned requests, and the
//! service keeps the rules. The order of operations (see docs/consistency.md):
//! - begin: start the multipart upload (if any), then remember the pending upload;
//! - complete: check the bytes are all there and are an image, drop the object's pending
//!   tag, and only then turn the pending upload into the image record, conditionally, so a
//!   retry or a racing call finds the same record and never makes a second image;
//! - abort: forget the pending upload first (conditionally), then remove its bytes, so an
//!   abort racing a completion can never delete the object of a record.

use std::time::Duration;

use super::{AssembleError, ImageStore, PresignedPart, StorageError, Stored};
use crate::domain::{
    CompletedPart, ImageId, ImageRecord, InputError, NewUpload, Owner, PartPlan, PendingUpload,
    Timestamp,
};
use imaging::dimensions::Dimensions;
use imaging::media::MediaType;

/// The caller's judgement of an upload's first bytes (`HEAD_BYTES` of them): its type and
/// displayed size, or why it is refused.
pub trait Judge:
    FnOnce(&[u8]) -> Result<(MediaType, Dimensions), InputError> + Send + 'static
{
}
impl<F> Judge for F where
    F: FnOnce(&[u8]) -> Result<(MediaType, Dimensions), InputError> + Send + 'static
{
}

/// Enough of the first bytes for the type and the header with the dimensions: camera files put
/// them before the preview images they carry.
const HEAD_BYTES: u64 = 1024 * 1024;

/// A planned upload and the requests that send its bytes.
#[derive(Debug)]
pub struct Ticket {
    pub upload: PendingUpload,
    pub parts: Vec<PresignedPart>,
}

/// How a completion ended well.
#[derive(Debug)]
pub enum Completion {
    Created(ImageRecord),
    /// Completed before (an earlier call whose answer was lost, or a racing one).
    Already(ImageRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no upload with this id: never planned, expired or aborted")]
    NotFound,
    /// Not all of the bytes are there, or not the declared number of them: says which.
    #[error("{0}")]
    Incomplete(String),
    /// The bytes are not a supported image, or one too large to process; they have been
    /// deleted.
    #[error(transparent)]
    Refused(InputError),
    #[error("the upload is completed: delete the image instead")]
    Completed,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<AssembleError> for UploadError {
    fn from(error: AssembleError) -> Self {
        match error {
            AssembleError::Rejected(why) => Self::Incomplete(format!(
                "S3 could not assemble the parts ({why}); send every part and complete again"
            )),
            AssembleError::Gone => Self::NotFound,
            AssembleError::Storage(error) => Self::Storage(error),
        }
    }
}

impl ImageStore {
    /// Plans an upload: one presigned `PutObject`, or a multipart upload with one presigned
    /// `UploadPart` per part, all valid for `ttl`.
    pub async fn begin_upload(
        &self,
        owner: Owner,
        new: NewUpload,
        part_bytes: u64,
        ttl: Duration,
    ) -> Result<Ticket, StorageError> {
        self.begin_upload_as(ImageId::new(), owner, new, part_bytes, ttl)
            .await
    }

    /// `begin_upload` under an id chosen before (an idempotent request's).
    pub(super) async fn begin_upload_as(
        &self,
        id: ImageId,
        owner: Owner,
        new: NewUpload,
        part_bytes: u64,
        ttl: Duration,
    ) -> Result<Ticket, StorageError> {
        let plan = PartPlan::new(new.size, part_bytes);
        let created_at = Timestamp::now();
        let expires_at = created_at.plus(ttl);
        let multipart_id = if plan.is_multipart() {
            Some(self.objects.start_multipart(id).await?)
        } else {
            None
        };
        let upload = PendingUpload {
            id,
            owner,
            file_name: new.file_name,
            size: new.size,
            metadata: new.metadata,
            plan,
            multipart_id,
            created_at,
            expires_at,
        };
        if let Err(error) = self.catalog.insert_pending(&upload).await {
            if let Some(multipart_id) = &upload.multipart_id
                && let Err(abort) = self.objects.abort_multipart(id, multipart_id).await
            {
                // S3's lifecycle rule aborts it after a day.
                tracing::warn!(%id, error = %abort, "could not abort the multipart upload of a failed plan");
            }
            return Err(error);
        }
        let parts = self.presign(&upload, ttl).await?;
        Ok(Ticket { upload, parts })
    }

    pub(super) async fn presign(
        &self,
        upload: &PendingUpload,
        ttl: Duration,
    ) -> Result<Vec<PresignedPart>, StorageError> {
        let Some(multipart_id) = &upload.multipart_id else {
            return Ok(vec![
                self.objects
                    .presign_put(upload.id, upload.size, ttl)
                    .await?,
            ]);
        };
        let mut parts = Vec::with_capacity(upload.plan.count as usize);
        for number in 1..=upload.plan.count {
            let length = upload.plan.length_of(number, upload.size);
            parts.push(
                self.objects
                    .presign_part(upload.id, multipart_id, number, length, ttl)
                    .await?,
            );
        }
        Ok(parts)
    }

    /// Makes the image of `owner`'s finished upload whose first bytes `judge` accepts (else
    /// they are deleted). Runs to its end even if the caller goes away.
    pub async fn complete_upload(
        &self,
        owner: &Owner,
        id: ImageId,
        parts: Vec<CompletedPart>,
        judge: impl Judge,
    ) -> Result<Completion, UploadError> {
        let (store, owner) = (self.clone(), owner.clone());
        self.run_to_end("upload completion", id, async move {
            match store.owned(&owner, id).await? {
                None => Err(UploadError::NotFound),
                Some(Stored::Image(record)) => Ok(Completion::Already(record)),
                Some(Stored::Pending(upload)) if upload.is_expired(Timestamp::now()) => {
                    Err(UploadError::NotFound)
                }
                Some(Stored::Pending(upload)) => store.make_image(upload, parts, judge).await,
            }
        })
        .await
    }

    /// What is stored under `id` if it is `owner`'s: another owner's upload or image is as
    /// absent as one never planned.
    async fn owned(&self, owner: &Owner, id: ImageId) -> Result<Option<Stored>, StorageError> {
        Ok(self
            .catalog
            .get_stored(id)
            .await?
            .filter(|stored| match stored {
                Stored::Image(record) => record.owner == *owner,
                Stored::Pending(upload) => upload.owner == *owner,
            }))
    }

    /// The image of the live pending `upload`: its parts assembled, its bytes checked.
    async fn make_image(
        &self,
        upload: PendingUpload,
        parts: Vec<CompletedPart>,
        judge: impl Judge,
    ) -> Result<Completion, UploadError> {
        let (id, owner) = (upload.id, upload.owner.clone());
        if let Some(multipart_id) = &upload.multipart_id {
            check_parts(&upload, &parts)?;
            match self.objects.assemble(id, multipart_id, &parts).await {
                Ok(()) => {}
                Err(AssembleError::Rejected(why)) => {
                    return Err(AssembleError::Rejected(why).into());
                }
                // Assembled by an earlier attempt whose answer was lost (`Gone`), or assembled
                // with an answer that could not be read: the object tells.
                Err(error) => {
                    if self.objects.size(id).await?.is_none() {
                        return Err(error.into());
                    }
                }
            }
        }

        let Some(size) = self.objects.size(id).await? else {
            return Err(UploadError::Incomplete(
                "no bytes have been sent: PUT the part to its URL, then complete".into(),
            ));
        };
        if size != upload.size {
            // Nothing can be appended to an object: this upload cannot be completed.
            self.discard(&upload).await?;
            return Err(UploadError::Incomplete(format!(
                "{size} bytes arrived, {} were declared; the upload is discarded",
                upload.size
            )));
        }
        // Gone since `size` saw it: only a racing abort deletes it, and that forgot the upload.
        let Some(head) = self.objects.read_head(id, HEAD_BYTES).await? else {
            return Err(UploadError::NotFound);
        };
        let (media, dimensions) = match judge(&head) {
            Ok(found) => found,
            Err(refused) => {
                self.discard(&upload).await?;
                return Err(UploadError::Refused(refused));
            }
        };

        self.objects.drop_pending_tag(id).await?;
        let record = ImageRecord {
            id,
            owner: upload.owner,
            file_name: upload.file_name,
            content_type: media,
            size,
            created_at: Timestamp::now(),
            metadata: upload.metadata,
            width: Some(dimensions.width),
            height: Some(dimensions.height),
        };
        if self.catalog.complete(&record).await? {
            return Ok(Completion::Created(record));
        }
        match self.owned(&owner, id).await? {
            Some(Stored::Image(record)) => Ok(Completion::Already(record)),
            _ => Err(UploadError::NotFound),
        }
    }

    /// Aborts `owner`'s upload not completed; repeating it is harmless, and so is aborting
    /// another owner's id (nothing happens).
    pub async fn abort_upload(&self, owner: &Owner, id: ImageId) -> Result<(), UploadError> {
        let (store, owner) = (self.clone(), owner.clone());
        self.run_to_end("upload abort", id, async move {
            match store.owned(&owner, id).await? {
                None => Ok(()),
                Some(Stored::Image(_)) => Err(UploadError::Completed),
                Some(Stored::Pending(upload)) => Ok(store.discard(&upload).await?),
            }
        })
        .await
    }

    /// Forgets the upload, then removes its bytes. If the pending record is already gone (a
    /// completion won the race), the bytes are the image's and stay.
    async fn discard(&self, upload: &PendingUpload) -> Result<(), StorageError> {
        if !self.catalog.remove_pending(upload.id).await?
            && matches!(
                self.catalog.get_stored(upload.id).await?,
                Some(Stored::Image(_))
            )
        {
            return Ok(());
        }
        if let Some(multipart_id) = &upload.multipart_id {
            self.objects
                .abort_multipart(upload.id, multipart_id)
                .await?;
        }
        self.objects.delete(upload.id).await
    }
}

/// Every part of the plan, each once: the numbers are checked here so the problem can say
/// which are missing; S3 checks the `ETag`s.
fn check_parts(upload: &PendingUpload, parts: &[CompletedPart]) -> Result<(), UploadError> {
    let expected = upload.plan.count;
    let missing: Vec<u64> = (1..=expected)
        .filter(|n| !parts.iter().any(|p| u64::from(p.number) == *n))
        .collect();
    let extra: Vec<u32> = parts
        .iter()
        .map(|p| p.number)
        .filter(|&n| u64::from(n) > expected)
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let list = |numbers: Vec<String>| {
        let shown: Vec<String> = numbers.iter().take(20).cloned().collect();
        let more = numbers.len().saturating_sub(shown.len());
        let mut text = shown.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    };
    let mut why = format!("the upload has {expected} parts");
    if !missing.is_empty() {
        why.push_str(&format!(
            "; missing: {}",
            list(missing.iter().map(u64::to_string).collect())
        ));
    }
    if !extra.is_empty() {
        why.push_str(&format!(
            "; not in the plan: {}",
            list(extra.iter().map(u32::to_string).collect())
        ));
    }
    Err(UploadError::Incomplete(why))
}
