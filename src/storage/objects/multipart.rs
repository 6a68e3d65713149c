//! The objects of direct uploads: multipart uploads, and the pending tag that marks an
//! upload's object until it is completed.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart as S3Part};

use super::{Objects, key};
use crate::domain::{CompletedPart, ImageId};
use crate::storage::StorageError;

/// The tag that marks the object of an upload not yet completed: the bucket's lifecycle rule
/// expires tagged objects, so an upload nobody completes leaves nothing behind.
pub const PENDING_TAG: &str = "pending=true";

/// Why S3 refused to assemble a multipart upload.
#[derive(Debug)]
pub enum AssembleError {
    /// A part is missing, too small, or its `ETag` is not the one S3 gave: says which.
    Rejected(String),
    /// No such multipart upload: already assembled (an earlier attempt whose answer was lost)
    /// or aborted.
    Gone,
    Storage(StorageError),
}

impl Objects {
    /// Starts a multipart upload whose object will carry the pending tag; returns its id.
    pub async fn start_multipart(&self, id: ImageId) -> Result<String, StorageError> {
        let output = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key(id))
            .tagging(PENDING_TAG)
            .send()
            .await?;
        output
            .upload_id
            .ok_or_else(|| StorageError::internal("S3 started a multipart upload without an id"))
    }

    pub async fn assemble(
        &self,
        id: ImageId,
        multipart_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), AssembleError> {
        let parts = parts
            .iter()
            .map(|p| {
                S3Part::builder()
                    .part_number(p.number as i32)
                    .e_tag(&p.etag)
                    .build()
            })
            .collect();
        let result = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key(id))
            .upload_id(multipart_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        let Err(error) = result else {
            return Ok(());
        };
        // S3's model declares no errors for this operation: its codes are all there is.
        let code = error
            .as_service_error()
            .and_then(|e| e.code())
            .map(str::to_owned);
        match code.as_deref() {
            Some("NoSuchUpload") => Err(AssembleError::Gone),
            Some("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "MalformedXML") => {
                let message = error
                    .as_service_error()
                    .and_then(|e| e.message())
                    .unwrap_or("a part is missing or its ETag does not match");
                Err(AssembleError::Rejected(format!(
                    "{}: {message}",
                    code.unwrap_or_default()
                )))
            }
            _ => Err(AssembleError::Storage(error.into())),
        }
    }

    /// Idempotent: an upload already aborted or assembled is fine.
    pub async fn abort_multipart(
        &self,
        id: ImageId,
        multipart_id: &str,
    ) -> Result<(), StorageError> {
        let result = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key(id))
            .upload_id(multipart_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_upload()) =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Drops the pending tag, so the lifecycle rule no longer expires the object.
    pub async fn drop_pending_tag(&self, id: ImageId) -> Result<(), StorageError> {
        self.client
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key(id))
            .send()
            .await?;
        Ok(())
    }
}
