use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_sdk_s3::types::ChecksumAlgorithm;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::StorageError;
use crate::domain::{ImageBytes, ImageId};

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
        content: ImageBytes,
    ) -> Result<(), StorageError> {
        // The body's integrity is checked end to end by a CRC32 that S3 verifies. It is
        // computed here, over the pieces, because the SDK only computes one itself for a
        // contiguous body; for a streamed one it would switch to `aws-chunked` encoding
        // with a trailer. Signing the payload as well would hash every byte with SHA-256
        // a second time, the largest CPU cost of an upload (TLS protects it in transit).
        let checksum = crc32(&content);
        let len = content.len() as i64;
        let body = SdkBody::retryable(move || SdkBody::from_body_1_x(Pieces::new(&content)));
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(id.object_key())
            .content_type(content_type)
            .content_length(len)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .checksum_crc32(checksum)
            .body(ByteStream::new(body))
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

/// Base64 of the big-endian CRC32, as the `x-amz-checksum-crc32` header carries it.
fn crc32(content: &ImageBytes) -> String {
    let mut crc = aws_smithy_checksums::ChecksumAlgorithm::Crc32.into_impl();
    content.pieces().iter().for_each(|piece| crc.update(piece));
    crc.header_value()
        .to_str()
        .expect("base64 is ASCII")
        .to_owned()
}

/// An upload's pieces as an HTTP body of known length, without joining them.
struct Pieces {
    pieces: std::vec::IntoIter<Bytes>,
    remaining: u64,
}

impl Pieces {
    fn new(content: &ImageBytes) -> Self {
        Self {
            pieces: content.pieces().to_vec().into_iter(),
            remaining: content.len() as u64,
        }
    }
}

impl Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let piece = self.pieces.next();
        if let Some(piece) = &piece {
            self.remaining -= piece.len() as u64;
        }
        Poll::Ready(piece.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn pieces_stream_as_one_body_of_exact_length() {
        let content: ImageBytes = [&b"ab"[..], b"cde", b"f"]
            .into_iter()
            .map(Bytes::from_static)
            .collect();
        let body = Pieces::new(&content);
        assert_eq!(body.size_hint().exact(), Some(6));
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"abcdef");
        // The same checksum the SDK would send for the joined bytes.
        let mut joined = aws_smithy_checksums::ChecksumAlgorithm::Crc32.into_impl();
        joined.update(b"abcdef");
        assert_eq!(crc32(&content), joined.header_value().to_str().unwrap());
    }
}
