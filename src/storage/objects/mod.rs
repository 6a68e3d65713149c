//! Bytes in S3, by job: the images (`images.rs`), their thumbnails (`thumbnails.rs`),
//! multipart uploads (`multipart.rs`) and presigned requests (`presign.rs`). This module holds
//! the client, the keys, and the few S3 calls each of them is written in terms of.

mod images;
mod multipart;
mod presign;
mod thumbnails;

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use time::OffsetDateTime;

pub use images::Listing;
pub use multipart::{AssembleError, PENDING_TAG};
pub use presign::PresignedPart;

use super::StorageError;
use crate::domain::ImageId;
use imaging::media::MediaType;
use imaging::thumbnail::Format;

/// Every image's object key starts with this; nothing else of the bucket is ours.
pub const KEY_PREFIX: &str = "images/";

/// The key of an image's bytes. Only the id goes into keys: file names never do.
pub fn key(id: ImageId) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// Thumbnails live apart from images, under `thumbnails/{id}/`: `{size}` for the encoding
/// chosen for the image (JPEG or PNG), `{size}.{format}` for one a client asked for.
pub const THUMBNAIL_PREFIX: &str = "thumbnails/";

pub fn thumbnail_key(thumbnail: &ThumbnailOf) -> String {
    let ThumbnailOf { id, size, format } = thumbnail;
    match format {
        None => format!("{THUMBNAIL_PREFIX}{id}/{size}"),
        Some(format) => format!("{THUMBNAIL_PREFIX}{id}/{size}.{}", format.name()),
    }
}

/// One thumbnail of an image: its size, and the format asked for (`None`: the one chosen for
/// the image, JPEG when opaque, PNG with transparency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbnailOf {
    pub id: ImageId,
    pub size: u32,
    pub format: Option<Format>,
}

/// The id a key names, if it is one of ours.
pub fn id_of(key: &str) -> Option<ImageId> {
    key.strip_prefix(KEY_PREFIX)?.parse().ok()
}

/// Image bytes in S3, one object per image under `images/{id}`, its thumbnails under
/// `thumbnails/{id}/`.
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

    /// `GetObject` of `key` (of its first bytes, with `range`), or `None` if there is no such
    /// key.
    async fn get_object(
        &self,
        key: String,
        range: Option<String>,
    ) -> Result<Option<GetObjectOutput>, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The object's size (a `HeadObject`), or `None` if there is no such key.
    async fn size_of(&self, key: String) -> Result<Option<u64>, StorageError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.content_length.unwrap_or_default().max(0) as u64)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn put_object(
        &self,
        key: String,
        content_type: MediaType,
        bytes: Bytes,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
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

    /// Idempotent: S3 answers success for a key that is already gone.
    pub async fn delete_key(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await?;
        Ok(())
    }

    /// Every key under `prefix` with when it was last written, page by page.
    async fn list_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, OffsetDateTime)>, StorageError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page?.contents() {
                let modified = object
                    .last_modified()
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
                    .unwrap_or_else(OffsetDateTime::now_utc);
                found.push((object.key().unwrap_or_default().to_owned(), modified));
            }
        }
        Ok(found)
    }
}

/// A body read whole into one buffer of its announced size: collecting the chunks and joining
/// them at the end would hold a 64 MiB original twice, beside a thumbnail's decode.
async fn read_whole(mut body: ByteStream) -> Result<Bytes, StorageError> {
    let (_, length) = body.size_hint();
    let mut whole = Vec::with_capacity(length.unwrap_or(0).min(u64::from(u32::MAX)) as usize);
    while let Some(chunk) = body.next().await {
        whole.extend_from_slice(&chunk.map_err(|e| StorageError::Unavailable(Box::new(e)))?);
    }
    Ok(Bytes::from(whole))
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
