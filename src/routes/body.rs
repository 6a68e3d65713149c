//! Reading a bounded request body, in the shape its consumer needs: the JSON parser needs one
//! contiguous buffer, S3 takes the pieces as they came.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::domain::ImageBytes;
use crate::error::ApiError;

/// Where `read_body` puts the pieces of a body as they arrive.
pub trait BodySink: Default {
    /// `declared` is the request's `Content-Length`, already checked against the limit.
    fn accept(&mut self, piece: Bytes, declared: Option<usize>);
    fn len(&self) -> usize;
}

impl BodySink for ImageBytes {
    fn accept(&mut self, piece: Bytes, _declared: Option<usize>) {
        self.push(piece);
    }

    fn len(&self) -> usize {
        ImageBytes::len(self)
    }
}

/// One contiguous buffer. A body that arrives in one piece (always, inside Lambda) is kept as
/// it is; one that arrives in pieces is copied once into a buffer sized from `Content-Length`,
/// each piece dropped as soon as it is copied, so the body is held about once, never twice.
#[derive(Default)]
pub struct Contiguous {
    first: Option<Bytes>,
    joined: Option<BytesMut>,
}

impl Contiguous {
    pub fn into_bytes(self) -> Bytes {
        self.joined
            .map(BytesMut::freeze)
            .or(self.first)
            .unwrap_or_default()
    }
}

impl BodySink for Contiguous {
    fn accept(&mut self, piece: Bytes, declared: Option<usize>) {
        let received = self.len();
        match (self.first.take(), &mut self.joined) {
            (None, None) => self.first = Some(piece),
            (Some(first), None) => {
                let capacity = declared.unwrap_or(0).max(received + piece.len());
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&piece);
                self.joined = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&piece),
        }
    }

    fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.joined.as_ref().map_or(0, BytesMut::len)
    }
}

/// Reads at most `limit` bytes: a declared `Content-Length` over it is refused before any
/// byte is read, and an undeclared one as soon as the stream passes it. `max_image` is the
/// limit the error names (a JSON body may be larger than the image it carries).
pub async fn read_body<S: BodySink>(
    mut body: Body,
    headers: &HeaderMap,
    limit: usize,
    max_image: usize,
) -> Result<S, ApiError> {
    let too_large = || ApiError::PayloadTooLarge { limit: max_image };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let declared = declared.map(|len| len as usize);

    let mut sink = S::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "upload body could not be read");
            ApiError::UnreadableBody
        })?;
        let Ok(piece) = frame.into_data() else {
            continue;
        };
        if sink.len() + piece.len() > limit {
            return Err(too_large());
        }
        sink.accept(piece, declared);
    }
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(pieces: &[&'static [u8]]) -> Body {
        let stream = futures_util::stream::iter(
            pieces
                .iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        );
        Body::from_stream(stream)
    }

    fn declaring(len: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, len.into());
        headers
    }

    #[tokio::test]
    async fn keeps_the_pieces_or_joins_them_once() {
        let pieces: &[&'static [u8]] = &[b"ab", b"", b"cde", b"f"];
        let image: ImageBytes = read_body(body_of(pieces), &HeaderMap::new(), 6, 6)
            .await
            .unwrap();
        assert_eq!(image.pieces().len(), 3);
        assert_eq!(&image.to_bytes()[..], b"abcdef");

        let joined: Contiguous = read_body(body_of(pieces), &declaring(6), 6, 6)
            .await
            .unwrap();
        let bytes = joined.into_bytes();
        assert_eq!(&bytes[..], b"abcdef");

        let single = Bytes::from_static(b"whole");
        let mut one = Contiguous::default();
        one.accept(single.clone(), None);
        assert_eq!(one.into_bytes().as_ptr(), single.as_ptr(), "not copied");
    }

    #[tokio::test]
    async fn refuses_a_body_over_the_limit_declared_or_not() {
        let declared = read_body::<ImageBytes>(body_of(&[b"ab"]), &declaring(7), 6, 5).await;
        assert!(matches!(
            declared,
            Err(ApiError::PayloadTooLarge { limit: 5 })
        ));
        let streamed =
            read_body::<Contiguous>(body_of(&[b"abcd", b"efg"]), &HeaderMap::new(), 6, 5).await;
        assert!(matches!(
            streamed,
            Err(ApiError::PayloadTooLarge { limit: 5 })
        ));
        let exact =
            read_body::<Contiguous>(body_of(&[b"abc", b"def"]), &HeaderMap::new(), 6, 5).await;
        assert_eq!(&exact.unwrap().into_bytes()[..], b"abcdef");
    }
}
