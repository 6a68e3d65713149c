//! Requests a client sends straight to S3, signed here: the parts of a direct upload, and
//! downloads.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};

use super::{Objects, PENDING_TAG, key};
use crate::domain::ImageId;
use crate::storage::StorageError;
use imaging::media::MediaType;

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

fn part(number: u64, request: PresignedRequest) -> PresignedPart {
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
    use std::collections::BTreeMap;

    use aws_sdk_s3::Client;

    use super::*;
    use crate::storage::objects::PENDING_TAG;

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
}
