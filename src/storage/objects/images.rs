//! An image's own object: `images/{id}`.

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use time::OffsetDateTime;

use super::{KEY_PREFIX, Objects, id_of, key, read_whole};
use crate::domain::ImageId;
use crate::storage::StorageError;
use imaging::media::MediaType;

/// What `Objects::list` finds.
#[derive(Debug, Default)]
pub struct Listing {
    /// Each image object, with when it was last written.
    pub objects: Vec<(ImageId, OffsetDateTime)>,
    /// Keys under the prefix that name no image: for an operator to look at.
    pub foreign_keys: Vec<String>,
}

impl Objects {
    pub async fn put(
        &self,
        id: ImageId,
        content_type: MediaType,
        bytes: Bytes,
    ) -> Result<(), StorageError> {
        self.put_object(key(id), content_type, bytes).await
    }

    /// The bytes as S3 sends them, to be passed on as they arrive; `None` if there is no
    /// object.
    pub async fn stream(&self, id: ImageId) -> Result<Option<ByteStream>, StorageError> {
        Ok(self
            .get_object(key(id), None)
            .await?
            .map(|output| output.body))
    }

    /// The bytes, whole in memory; `None` if there is no object.
    pub async fn read(&self, id: ImageId) -> Result<Option<Bytes>, StorageError> {
        match self.get_object(key(id), None).await? {
            Some(output) => Ok(Some(read_whole(output.body).await?)),
            None => Ok(None),
        }
    }

    /// The first `len` bytes (fewer if the object is shorter), enough to judge the type and
    /// the header; `None` if there is no object.
    pub async fn read_head(&self, id: ImageId, len: u64) -> Result<Option<Bytes>, StorageError> {
        let range = format!("bytes=0-{}", len.saturating_sub(1));
        match self.get_object(key(id), Some(range)).await? {
            Some(output) => Ok(Some(read_whole(output.body).await?)),
            None => Ok(None),
        }
    }

    /// The object's size, if it is there.
    pub async fn size(&self, id: ImageId) -> Result<Option<u64>, StorageError> {
        self.size_of(key(id)).await
    }

    pub async fn exists(&self, id: ImageId) -> Result<bool, StorageError> {
        Ok(self.size(id).await?.is_some())
    }

    /// Idempotent: S3 answers success for a key that is already gone.
    pub async fn delete(&self, id: ImageId) -> Result<(), StorageError> {
        self.delete_key(&key(id)).await
    }

    /// Every image object: for operators (`reconcile`), not requests.
    pub async fn list(&self) -> Result<Listing, StorageError> {
        let mut listing = Listing::default();
        for (key, modified) in self.list_prefix(KEY_PREFIX).await? {
            match id_of(&key) {
                Some(id) => listing.objects.push((id, modified)),
                None => listing.foreign_keys.push(key),
            }
        }
        Ok(listing)
    }
}
