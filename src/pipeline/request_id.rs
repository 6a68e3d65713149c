//! The request's id: the client's or API Gateway's `x-request-id` if it is sane, else
//! Lambda's invocation id, else a fresh UUID. It names the request's span (so every log line
//! carries it), is echoed in `x-request-id` and is put in problem documents.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::lambda;
use crate::telemetry;

pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id longer than this is replaced rather than echoed.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A client's id is echoed only if it is 1 to 128 visible ASCII characters: a space, tab or
/// anything else could forge extra fields in a text log line.
fn sane_request_id(raw: &[u8]) -> Option<String> {
    let visible = (1..=MAX_REQUEST_ID_LEN).contains(&raw.len())
        && raw.iter().all(|byte| (0x21..=0x7e).contains(byte));
    visible.then(|| String::from_utf8_lossy(raw).into_owned())
}

/// One span per request, named by its id, and one log line per request with its status and
/// latency.
pub async fn layer(request: Request, next: Next) -> Response {
    let invocation = lambda::invocation_id(&request).map(str::to_owned);
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| sane_request_id(v.as_bytes()))
        .or_else(|| invocation.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        lambda_request_id = invocation.as_deref(),
        method = %request.method(),
        path = %request.uri().path(),
    );
    let scoped_id = request_id.clone();
    async move {
        let started = Instant::now();
        let mut response = telemetry::with_request_id(scoped_id, next.run(request)).await;
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response
                .headers_mut()
                .insert(REQUEST_ID_HEADER.clone(), value);
        }
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visible_ascii_ids_are_echoed() {
        assert_eq!(
            sane_request_id(b"abc-123_~!").as_deref(),
            Some("abc-123_~!")
        );
        assert!(sane_request_id(&[b'a'; 128]).is_some());
        for bad in [
            &b""[..],
            &[b'a'; 129],
            b"a b",
            b"a\tb",
            b"id status=200",
            b"caf\xc3\xa9",
            b"a\x7f",
        ] {
            assert_eq!(
                sane_request_id(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
