use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use time::OffsetDateTime;

use super::StorageError;
use crate::domain::ImageId;
use crate::media::MediaType;

/// Every image's object key starts with this; nothing else of the bucket is ours.
pub const KEY_PREFIX: &str = "images/";

/// The key of an image's bytes. Only the id goes into keys: file names never do.
pub fn key(id: ImageId) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// The id a key names, if it is one of ours.
pub fn id_of(key: &str) -> Option<ImageId> {
    key.strip_prefix(KEY_PREFIX)?.parse().ok()
}

/// What `Objects::list` finds.
#[derive(Debug, Default)]
pub struct Listing {
    /// Each image object, with when it was last written.
    pub objects: Vec<(ImageId, OffsetDateTime)>,
    /// Keys under the prefix that name no image: for an operator to look at.
    pub foreign_keys: Vec<String>,
}

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
        content_type: MediaType,
        bytes: Bytes,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key(id))
            .content_type(content_type.as_str())
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
            .key(key(id))
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

    /// Whether the image's object is there (a `HeadObject`).
    pub async fn exists(&self, id: ImageId) -> Result<bool, StorageError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key(id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Every object under the prefix, page by page: for operators (`reconcile`), not requests.
    pub async fn list(&self) -> Result<Listing, StorageError> {
        let mut listing = Listing::default();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(KEY_PREFIX)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page?.contents() {
                let key = object.key().unwrap_or_default();
                match id_of(key) {
                    Some(id) => {
                        let modified = object
                            .last_modified()
                            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
                            .unwrap_or_else(OffsetDateTime::now_utc);
                        listing.objects.push((id, modified));
                    }
                    None => listing.foreign_keys.push(key.to_owned()),
                }
            }
        }
        Ok(listing)
    }

    /// Idempotent: S3 answers success for a key that is already gone.
    pub async fn delete(&self, id: ImageId) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key(id))
            .send()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_the_id_and_nothing_else() {
        let id: ImageId = "6f9619ff-8b86-4011-b42d-00c04fc964ff".parse().unwrap();
        assert_eq!(key(id), "images/6f9619ff-8b86-4011-b42d-00c04fc964ff");
        assert_eq!(id_of(&key(id)), Some(id));
        assert_eq!(id_of("images/not-an-id"), None);
        assert_eq!(id_of("other/6f9619ff-8b86-4011-b42d-00c04fc964ff"), None);
    }
}
