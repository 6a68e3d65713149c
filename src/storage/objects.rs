use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::StorageError;
use crate::domain::ImageId;

/// Image bytes in S3, one object per image under `images/{id}`.
#[derive(Clone)]
pub struct Objects {
    client: Client,
    bucket: String,
}

impl Objects {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub async fn put(
        &self,
        id: ImageId,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(id.object_key())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            // The body's integrity is still checked end to end: the SDK sends a CRC32 of it
            // that S3 verifies (and TLS protects it in transit). Signing it as well would hash
            // every byte with SHA-256 a second time, the largest CPU cost of an upload.
            .customize()
            .disable_payload_signing()
            .send()
            .await?;
        Ok(())
    }

    pub async fn stream(&self, id: ImageId) -> Result<Option<ByteStream>, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(id.object_key())
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.body)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn get(&self, id: ImageId) -> Result<Option<Bytes>, StorageError> {
        let Some(stream) = self.stream(id).await? else {
            return Ok(None);
        };
        let data = stream
            .collect()
            .await
            .map_err(|e| StorageError::Unavailable(Box::new(e)))?;
        Ok(Some(data.into_bytes()))
    }

    /// Idempotent: S3 answers success for a key that is already gone.
    pub async fn delete(&self, id: ImageId) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(id.object_key())
            .send()
            .await?;
        Ok(())
    }
}
