//! Reading a request body whole, within a bound and without waiting on a stalled client.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::domain::InputError;
use crate::error::ApiError;

/// Reads at most `limit` bytes: a declared `Content-Length` over it is refused before any
/// byte is read, and an undeclared one as soon as the stream passes it. A client that pauses
/// longer than `pause` is dropped (it would hold a connection and its buffers forever). A body that arrives in
/// one piece (always, inside Lambda) is passed on as is; one that arrives in pieces is copied
/// once into a buffer sized from `Content-Length`, so only one copy of it is ever held.
pub async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    limit: usize,
    max_image: usize,
    pause: std::time::Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || InputError::PayloadTooLarge { limit: max_image }.into();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }

    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let timed_out = || ApiError::BodyTimeout {
        secs: pause.as_secs(),
    };
    while let Some(frame) = tokio::time::timeout(pause, body.frame())
        .await
        .map_err(|_| timed_out())?
    {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "upload body could not be read");
            ApiError::UnreadableBody
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        let received =
            first.as_ref().map_or(0, Bytes::len) + joined.as_ref().map_or(0, BytesMut::len);
        if received + chunk.len() > limit {
            return Err(too_large());
        }
        match (&mut first, &mut joined) {
            (None, None) => first = Some(chunk),
            (Some(_), None) => {
                let capacity = declared
                    .map_or(0, |n| n as usize)
                    .max(received + chunk.len());
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&first.take().expect("checked above"));
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    Ok(joined.map(BytesMut::freeze).or(first).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::upload_bodies::{envelope, faulted_text, outcome, seams};
    use crate::domain::{NewImage, json_body_limit};

    /// Cuts anywhere in a body, and near the seams of the text it carries.
    fn cuts(text_len: usize) -> impl Strategy<Value = Vec<usize>> {
        let offset = envelope(b"").len() - 2;
        let near_seams: Vec<usize> = seams(text_len).into_iter().map(|at| at + offset).collect();
        prop::collection::vec(
            prop_oneof![prop::sample::select(near_seams), 0..text_len + offset + 2],
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// A body that arrives in pieces (over HTTP, whatever the client's writes) is read
        /// and judged exactly as the same body in one piece.
        #[test]
        fn a_body_in_pieces_is_judged_as_the_whole(
            (text, mut cuts) in faulted_text().prop_flat_map(|text| {
                let cuts = cuts(text.len());
                (Just(text), cuts)
            }),
            declared in any::<bool>(),
        ) {
            let body = envelope(&text);
            cuts.push(body.len());
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts {
                let cut = cut.min(body.len());
                pieces.push(Ok::<_, Infallible>(Bytes::copy_from_slice(&body[start..cut])));
                start = cut;
            }
            let mut headers = HeaderMap::new();
            if declared {
                headers.insert(header::CONTENT_LENGTH, body.len().into());
            }
            let stream = Body::from_stream(futures_util::stream::iter(pieces));
            let max = 1 << 20;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let read = runtime
                .block_on(read_body(
                    stream,
                    &headers,
                    json_body_limit(max),
                    max,
                    std::time::Duration::from_secs(30),
                ))
                .unwrap();
            prop_assert_eq!(&read[..], &body[..]);
            prop_assert_eq!(
                outcome(NewImage::from_json(&read, max, u64::MAX)),
                outcome(NewImage::from_json(&body, max, u64::MAX))
            );
        }
    }
}
