//! Thumbnails kept for the next request, under `thumbnails/{id}/` (`thumbnail_key`).

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;
use time::OffsetDateTime;

use super::{Objects, THUMBNAIL_PREFIX, ThumbnailOf, read_whole, thumbnail_key};
use crate::domain::ImageId;
use crate::storage::StorageError;
use imaging::media::MediaType;

impl Objects {
    /// A kept thumbnail and its type, if one was made and kept.
    pub async fn thumbnail(
        &self,
        thumbnail: &ThumbnailOf,
    ) -> Result<Option<(Bytes, MediaType)>, StorageError> {
        let Some(output) = self.get_object(thumbnail_key(thumbnail), None).await? else {
            return Ok(None);
        };
        let Some(media) = output
            .content_type
            .as_deref()
            .and_then(MediaType::from_mime)
        else {
            // Not one we wrote: make it again.
            return Ok(None);
        };
        Ok(Some((read_whole(output.body).await?, media)))
    }

    pub async fn put_thumbnail(
        &self,
        thumbnail: &ThumbnailOf,
        bytes: Bytes,
        media: MediaType,
    ) -> Result<(), StorageError> {
        self.put_object(thumbnail_key(thumbnail), media, bytes)
            .await
    }

    /// Removes every thumbnail of the image, whatever its size: those of sizes a later
    /// release no longer offers too. One listing of the image's prefix, then one batch
    /// delete if it found any.
    pub async fn delete_thumbnails(&self, id: ImageId) -> Result<(), StorageError> {
        let found = self
            .list_prefix(&format!("{THUMBNAIL_PREFIX}{id}/"))
            .await?;
        if found.is_empty() {
            return Ok(());
        }
        let keys = found
            .into_iter()
            .map(|(key, _)| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::Internal(Box::new(e)))?;
        let batch = Delete::builder()
            .set_objects(Some(keys))
            .quiet(true)
            .build()
            .map_err(|e| StorageError::Internal(Box::new(e)))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(batch)
            .send()
            .await?;
        if let Some(error) = output.errors().first() {
            return Err(StorageError::internal(format!(
                "a thumbnail of {id} could not be deleted: {}",
                error.message().unwrap_or("no reason given")
            )));
        }
        Ok(())
    }

    /// Every kept thumbnail's image id and key, with when it was written: for `reconcile`.
    pub async fn list_thumbnails(
        &self,
    ) -> Result<Vec<(ImageId, String, OffsetDateTime)>, StorageError> {
        let found = self.list_prefix(THUMBNAIL_PREFIX).await?;
        Ok(found
            .into_iter()
            .filter_map(|(key, modified)| {
                let id = key
                    .strip_prefix(THUMBNAIL_PREFIX)?
                    .split('/')
                    .next()?
                    .parse()
                    .ok()?;
                Some((id, key, modified))
            })
            .collect())
    }
}
