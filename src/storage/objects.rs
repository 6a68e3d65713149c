use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use time::OffsetDateTime;

use super::StorageError;
use crate::domain::{CompletedPart, ImageId};
use crate::media::MediaType;

/// Every image's object key starts with this; nothing else of the bucket is ours.
pub const KEY_PREFIX: &str = "images/";

/// The key of an image's bytes. Only the id goes into keys: file names never do.
pub fn key(id: ImageId) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// Thumbnails live apart from images, under `thumbnails/{id}/{size}`.
pub const THUMBNAIL_PREFIX: &str = "thumbnails/";

pub fn thumbnail_key(id: ImageId, size: u32) -> String {
    format!("{THUMBNAIL_PREFIX}{id}/{size}")
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
        self.put_at(key(id), content_type, bytes).await
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
        let Some(mut stream) = self.stream(id).await? else {
            return Ok(None);
        };
        // Straight into one buffer of the object's size: collecting the chunks and joining
        // them at the end would hold a 64 MiB original twice, beside a thumbnail's decode.
        let (_, length) = stream.size_hint();
        let mut whole = Vec::with_capacity(length.unwrap_or(0).min(u64::from(u32::MAX)) as usize);
        while let Some(chunk) = stream.next().await {
            whole.extend_from_slice(&chunk.map_err(|e| StorageError::Unavailable(Box::new(e)))?);
        }
        Ok(Some(Bytes::from(whole)))
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
        for (key, modified) in self.list_prefix(KEY_PREFIX).await? {
            match id_of(&key) {
                Some(id) => listing.objects.push((id, modified)),
                None => listing.foreign_keys.push(key),
            }
        }
        Ok(listing)
    }

    /// Every key under `prefix` with when it was last written.
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

impl Objects {
    /// A stored thumbnail and its type, if it has been made.
    pub async fn thumbnail(
        &self,
        id: ImageId,
        size: u32,
    ) -> Result<Option<(Bytes, MediaType)>, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(thumbnail_key(id, size))
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        let Some(media) = output
            .content_type
            .as_deref()
            .and_then(MediaType::from_mime)
        else {
            // Not one we wrote: make it again.
            return Ok(None);
        };
        let data = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Unavailable(Box::new(e)))?;
        Ok(Some((data.into_bytes(), media)))
    }

    pub async fn put_thumbnail(
        &self,
        id: ImageId,
        size: u32,
        bytes: Bytes,
        media: MediaType,
    ) -> Result<(), StorageError> {
        self.put_at(thumbnail_key(id, size), media, bytes).await
    }

    async fn put_at(
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

    /// Removes every size's thumbnail (idempotent: missing ones are fine).
    pub async fn delete_thumbnails(&self, id: ImageId, sizes: &[u32]) -> Result<(), StorageError> {
        let keys = sizes
            .iter()
            .map(|&size| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(thumbnail_key(id, size))
                    .build()
                    .map_err(|e| StorageError::Internal(Box::new(e)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(
                aws_sdk_s3::types::Delete::builder()
                    .set_objects(Some(keys))
                    .quiet(true)
                    .build()
                    .map_err(|e| StorageError::Internal(Box::new(e)))?,
            )
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

    /// Every stored thumbnail's image id and key, with when it was written: for `reconcile`.
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

    pub async fn delete_key(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await?;
        Ok(())
    }
}

/// The tag that marks the object of an upload not yet completed: the bucket's lifecycle rule
/// expires tagged objects, so an upload nobody completes leaves nothing behind.
pub const PENDING_TAG: &str = "pending=true";

/// A request a client sends straight to S3: presigned for one key, one method and a short
/// time, with the headers it must carry (they are part of the signature).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PresignedPart {
    /// From 1; the order of the bytes.
    pub number: u64,
    #[schema(example = "PUT")]
    pub method: String,
    pub url: String,
    /// Send exactly these, and keep the `ETag` of the answer.
    pub headers: BTreeMap<String, String>,
}

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
    /// A presigned `PutObject` of exactly `size` bytes, tagged pending, that only creates:
    /// `If-None-Match: *` is signed in, so once the object exists (and `complete` has
    /// validated it) the URL can no longer replace it or tag it pending again.
    pub async fn presign_put(
        &self,
        id: ImageId,
        size: u64,
        ttl: Duration,
    ) -> Result<PresignedPart, StorageError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key(id))
            .content_length(size as i64)
            .tagging(PENDING_TAG)
            .if_none_match("*")
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| StorageError::Internal(Box::new(e)))?;
        Ok(part(1, request))
    }

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

    /// A presigned `UploadPart` of exactly `length` bytes.
    pub async fn presign_part(
        &self,
        id: ImageId,
        multipart_id: &str,
        number: u64,
        length: u64,
        ttl: Duration,
    ) -> Result<PresignedPart, StorageError> {
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key(id))
            .upload_id(multipart_id)
            .part_number(number as i32)
            .content_length(length as i64)
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| StorageError::Internal(Box::new(e)))?;
        Ok(part(number, request))
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
                aws_sdk_s3::types::CompletedPart::builder()
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
                aws_sdk_s3::types::CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        let Err(error) = result else {
            return Ok(());
        };
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

    /// The object's size, if it is there.
    pub async fn size(&self, id: ImageId) -> Result<Option<u64>, StorageError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key(id))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.content_length.unwrap_or_default().max(0) as u64)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The first `len` bytes (fewer if the object is shorter): enough to sniff the type.
    pub async fn head_bytes(&self, id: ImageId, len: u64) -> Result<Bytes, StorageError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key(id))
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .send()
            .await?;
        let data = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Unavailable(Box::new(e)))?;
        Ok(data.into_bytes())
    }

    /// Drops the pending tag, so the lifecycle rule no longer expires the object.
    pub async fn keep(&self, id: ImageId) -> Result<(), StorageError> {
        self.client
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key(id))
            .send()
            .await?;
        Ok(())
    }

    /// A presigned `GetObject` whose answer carries the service's type and disposition,
    /// whatever the uploader sent.
    pub async fn presign_get(
        &self,
        id: ImageId,
        content_type: MediaType,
        content_disposition: &str,
        ttl: Duration,
    ) -> Result<String, StorageError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key(id))
            .response_content_type(content_type.as_str())
            .response_content_disposition(content_disposition)
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| StorageError::Internal(Box::new(e)))?;
        Ok(request.uri().to_owned())
    }
}

impl Objects {
    /// Where presigned URLs point (`scheme://host[:port]`), for a browser page's
    /// Content-Security-Policy: signed locally for a key that does not exist, never sent.
    pub async fn presigned_origin(&self) -> Result<String, StorageError> {
        let url = self
            .presign_get(
                ImageId::new(),
                MediaType::Jpeg,
                "inline",
                Duration::from_secs(60),
            )
            .await?;
        let uri: axum::http::Uri = url
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| StorageError::Internal(Box::new(e)))?;
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => Ok(format!("{scheme}://{authority}")),
            _ => Err(StorageError::Internal(
                format!("a presigned URL without an origin: {url}").into(),
            )),
        }
    }
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, StorageError> {
    PresigningConfig::expires_in(ttl).map_err(|e| StorageError::Internal(Box::new(e)))
}

fn part(number: u64, request: aws_sdk_s3::presigning::PresignedRequest) -> PresignedPart {
    PresignedPart {
        number,
        method: request.method().to_owned(),
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that signs with fixed credentials and never sends anything.
    fn objects() -> Objects {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .build();
        Objects::new(Client::from_conf(config), "bucket")
    }

    fn query(url: &str) -> BTreeMap<String, String> {
        let (_, query) = url.split_once('?').unwrap();
        query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decode = |t: &str| {
                    percent_encoding::percent_decode_str(t)
                        .decode_utf8()
                        .unwrap()
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect()
    }

    fn id() -> ImageId {
        "6f9619ff-8b86-4011-b42d-00c04fc964ff".parse().unwrap()
    }

    #[tokio::test]
    async fn a_single_put_signs_its_length_its_tag_and_its_expiry() {
        let part = objects()
            .presign_put(id(), 1234, Duration::from_secs(900))
            .await
            .unwrap();
        assert_eq!(part.method, "PUT");
        assert!(
            part.url
                .contains("/images/6f9619ff-8b86-4011-b42d-00c04fc964ff?"),
            "{}",
            part.url
        );
        let query = query(&part.url);
        let signed: Vec<&str> = query["X-Amz-SignedHeaders"].split(';').collect();
        for header in ["content-length", "host", "if-none-match", "x-amz-tagging"] {
            assert!(signed.contains(&header), "{header} not signed: {signed:?}");
        }
        assert_eq!(query["X-Amz-Expires"], "900");
        assert!(query["X-Amz-Credential"].starts_with("AKIDEXAMPLE/"));
        assert_eq!(part.headers["content-length"], "1234");
        assert_eq!(part.headers["x-amz-tagging"], PENDING_TAG);
        assert_eq!(part.headers["if-none-match"], "*");
    }

    #[tokio::test]
    async fn a_part_is_signed_for_its_upload_number_and_length() {
        let part = objects()
            .presign_part(id(), "mp-1", 3, 5 << 20, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!((part.method.as_str(), part.number), ("PUT", 3));
        let query = query(&part.url);
        assert_eq!(query["partNumber"], "3");
        assert_eq!(query["uploadId"], "mp-1");
        assert_eq!(query["X-Amz-Expires"], "60");
        assert!(
            query["X-Amz-SignedHeaders"]
                .split(';')
                .any(|h| h == "content-length")
        );
        assert_eq!(part.headers["content-length"], (5u64 << 20).to_string());
    }

    #[tokio::test]
    async fn a_download_url_carries_the_services_headers() {
        let url = objects()
            .presign_get(
                id(),
                MediaType::Jpeg,
                "inline; filename=\"a.jpg\"",
                Duration::from_secs(300),
            )
            .await
            .unwrap();
        let query = query(&url);
        assert_eq!(query["response-content-type"], "image/jpeg");
        assert_eq!(
            query["response-content-disposition"],
            "inline; filename=\"a.jpg\""
        );
        assert_eq!(query["X-Amz-Expires"], "300");
    }

    #[test]
    fn keys_hold_the_id_and_nothing_else() {
        let id: ImageId = "6f9619ff-8b86-4011-b42d-00c04fc964ff".parse().unwrap();
        assert_eq!(key(id), "images/6f9619ff-8b86-4011-b42d-00c04fc964ff");
        assert_eq!(id_of(&key(id)), Some(id));
        assert_eq!(id_of("images/not-an-id"), None);
        assert_eq!(id_of("other/6f9619ff-8b86-4011-b42d-00c04fc964ff"), None);
    }
}
