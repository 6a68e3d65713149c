//! Reads each request head before hyper does. hyper answers a head it cannot parse with a bare
//! status, no problem document and no request id, and offers no hook to change that. The
//! guard reads the head first, with the same parser (`httparse`, same settings) and the same
//! rules for the body's length; a head that hyper would refuse (or that is past the stated
//! bounds) is not passed on: hyper gets a stand-in request instead, and the pipeline answers
//! it with the problem document (`pipeline::HeadRefusal`), its request id and its log line.
//!
//! Everything else reaches hyper byte for byte. Between heads the guard follows each body's
//! framing (`Content-Length` or chunked) to find the next head; where it is unsure (an
//! upgrade, a chunked body it cannot follow), it stops looking and hands hyper the rest of the
//! connection untouched, as without the guard.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::pipeline::{HeadRefusal, MAX_HEADER_BYTES, MAX_HEADER_FIELDS, MAX_URI_BYTES};

/// The longest head that can still be within the bounds: a request line whose URI is at its
/// bound, then `MAX_HEADER_FIELDS` lines whose names and values add up to theirs.
const MAX_HEAD_BYTES: usize = MAX_REQUEST_LINE_BYTES + MAX_HEADER_BYTES + 4 * MAX_HEADER_FIELDS;
/// A request line with a URI at its bound, a long method and the version.
const MAX_REQUEST_LINE_BYTES: usize = MAX_URI_BYTES + 64;
/// What hyper reads in place of a refused head. `connection: close`: nothing after it is read.
const STAND_IN: &[u8] = b"GET / HTTP/1.1\r\nhost: refused\r\nconnection: close\r\n\r\n";
const READ_CHUNK: usize = 16 * 1024;
/// What a refused connection reads and discards before it closes, so that the client gets the
/// answer rather than a reset for the bytes it had already sent.
const DRAIN_LIMIT: usize = 1024 * 1024;
/// Most header fields read when a head has at most this many (the rest retry with more room).
const USUAL_HEADER_FIELDS: usize = 64;

/// Shared by the guard of one connection and the service hyper calls for its requests: which
/// request, counted in order, stands in for a refused head.
#[derive(Debug, Default)]
pub struct Refusals {
    refused: Mutex<Option<(u64, HeadRefusal)>>,
    requests: AtomicU64,
    /// Whether the guard stopped following the connection's framing (see `Framing::Opaque`).
    stopped_looking: AtomicBool,
}

impl Refusals {
    /// Called once for each request hyper hands the service, in order: the refusal it stands
    /// in for, if it is the stand-in. (hyper may read ahead of the service, so the guard's
    /// refusal is tied to a request's rank, not to "the next request".)
    pub fn next_request(&self) -> Option<HeadRefusal> {
        let rank = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut refused = self.refused.lock().expect("never held across a panic");
        refused
            .take_if(|(refused_rank, _)| *refused_rank == rank)
            .map(|(_, refusal)| refusal)
    }
}

/// Where the guard is in the stream of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Reading a head; nothing of it is passed on until it is whole and judged.
    Head,
    /// Passing on this many bytes of a body.
    Length(u64),
    Chunked(Chunk),
    /// No longer looking: everything passes on.
    Opaque,
    /// A refused head was replaced by the stand-in; nothing more is read.
    Refused,
}

/// A chunked body's framing, following hyper's decoder (`proto/h1/decode.rs`) state by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Start,
    Size(u64),
    SizeLws(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

pub struct HeadGuard<IO> {
    io: IO,
    framing: Framing,
    /// Read from the client, not yet judged.
    held: BytesMut,
    /// Judged, not yet handed to hyper.
    ready: BytesMut,
    /// How much of `held` was there when its head was last found unfinished.
    judged_len: usize,
    heads: u64,
    drained: usize,
    refusals: Arc<Refusals>,
}

impl<IO> HeadGuard<IO> {
    pub fn new(io: IO, refusals: Arc<Refusals>) -> Self {
        Self {
            io,
            framing: Framing::Head,
            held: BytesMut::new(),
            ready: BytesMut::new(),
            judged_len: 0,
            heads: 0,
            drained: 0,
            refusals,
        }
    }

    /// Moves what can be judged from `held` to `ready`; false if more must be read first.
    fn judge_held(&mut self) -> bool {
        if self.held.is_empty() {
            if let Framing::Length(0) = self.framing {
                self.framing = Framing::Head;
            }
            return false;
        }
        match self.framing {
            Framing::Head => self.judge_head(),
            Framing::Length(left) => {
                let take =
                    usize::try_from(left).map_or(self.held.len(), |left| left.min(self.held.len()));
                self.pass(take);
                self.framing = next_after_body(left - take as u64);
                true
            }
            Framing::Chunked(chunk) => {
                let (used, next) = follow_chunks(chunk, &self.held);
                self.pass(used);
                self.framing = next;
                if next == Framing::Opaque {
                    self.stop_looking("a chunked body it cannot follow");
                }
                true
            }
            Framing::Opaque => {
                self.pass(self.held.len());
                true
            }
            Framing::Refused => {
                self.held.clear();
                false
            }
        }
    }

    fn pass(&mut self, count: usize) {
        let passed = self.held.split_to(count);
        self.ready.unsplit(passed);
    }

    /// Judges the head at the front of `held` once it is whole, or as soon as it is wrong:
    /// httparse reads it from the start on each arrival of bytes, as hyper does.
    fn judge_head(&mut self) -> bool {
        if self.held.len() == self.judged_len {
            return false;
        }
        self.judged_len = self.held.len();
        let verdict = match judge(&self.held) {
            Some(verdict) => verdict,
            None => match self.unfinished_past_bounds() {
                Some(refusal) => Err(refusal),
                None => return false,
            },
        };
        self.judged_len = 0;
        match verdict {
            Ok((end, framing)) => {
                self.pass(end);
                self.heads += 1;
                self.framing = framing;
                if framing == Framing::Opaque {
                    self.stop_looking("an upgrade or CONNECT");
                }
            }
            Err(refusal) => self.refuse(refusal),
        }
        true
    }

    /// Whether an unfinished head is already past a bound: its request line past its own, or
    /// the whole past the longest that could be within the bounds.
    fn unfinished_past_bounds(&self) -> Option<HeadRefusal> {
        let start = self
            .held
            .iter()
            .position(|byte| !matches!(byte, b'\r' | b'\n'))
            .unwrap_or(self.held.len());
        let line = self.held[start..]
            .iter()
            .position(|&byte| byte == b'\n')
            .unwrap_or(self.held.len() - start);
        if line > MAX_REQUEST_LINE_BYTES {
            Some(HeadRefusal::UriTooLong)
        } else if self.held.len() > MAX_HEAD_BYTES {
            Some(HeadRefusal::HeadersTooLarge)
        } else {
            None
        }
    }

    fn stop_looking(&mut self, why: &'static str) {
        tracing::debug!(
            why,
            "the request head guard stops following this connection"
        );
        self.framing = Framing::Opaque;
        self.refusals.stopped_looking.store(true, Ordering::Relaxed);
    }

    fn refuse(&mut self, refusal: HeadRefusal) {
        tracing::debug!(?refusal, "request head refused before hyper reads it");
        *self
            .refusals
            .refused
            .lock()
            .expect("never held across a panic") = Some((self.heads, refusal));
        self.heads += 1;
        self.held.clear();
        self.ready.extend_from_slice(STAND_IN);
        self.framing = Framing::Refused;
    }
}

impl<IO: AsyncRead + Unpin> HeadGuard<IO> {
    /// Reads and discards what the client of a refused head still sends, up to a bound.
    fn drain(&mut self, cx: &mut Context<'_>) {
        let mut scratch = [0u8; 4096];
        while self.drained < DRAIN_LIMIT {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    self.drained += buf.filled().len();
                }
                _ => break,
            }
        }
    }
}

/// After a body with `left` bytes still to come.
fn next_after_body(left: u64) -> Framing {
    if left == 0 {
        Framing::Head
    } else {
        Framing::Length(left)
    }
}

/// Where the head at the front of `held` ends and what it means for the bytes after it, or
/// why it is refused (`None`: not whole yet): httparse, then the checks hyper makes after it
/// (`proto/h1/role.rs`, `Server::parse`), then the bounds.
fn judge(held: &[u8]) -> Option<Result<(usize, Framing), HeadRefusal>> {
    let mut usual = [httparse::EMPTY_HEADER; USUAL_HEADER_FIELDS];
    let mut request = httparse::Request::new(&mut usual);
    match request.parse(held) {
        Err(httparse::Error::TooManyHeaders) => {
            let mut many = vec![httparse::EMPTY_HEADER; MAX_HEADER_FIELDS];
            let mut request = httparse::Request::new(&mut many);
            match request.parse(held) {
                Ok(httparse::Status::Complete(end)) => {
                    Some(judge_parsed(&request).map(|framing| (end, framing)))
                }
                Ok(httparse::Status::Partial) => None,
                Err(error) => Some(Err(refusal_for(error))),
            }
        }
        Ok(httparse::Status::Complete(end)) => {
            Some(judge_parsed(&request).map(|framing| (end, framing)))
        }
        Ok(httparse::Status::Partial) => None,
        Err(error) => Some(Err(refusal_for(error))),
    }
}

fn refusal_for(error: httparse::Error) -> HeadRefusal {
    use httparse::Error::*;
    HeadRefusal::Malformed(match error {
        TooManyHeaders => return HeadRefusal::TooManyHeaders,
        Token => "the method or the request target has a character HTTP does not allow there",
        HeaderName => "a header name has a character HTTP does not allow there",
        HeaderValue => "a header value has a control character",
        NewLine => "a line of the request head does not end with CRLF",
        Version => "the request line does not end with HTTP/1.1 or HTTP/1.0",
        Status => "the request head is not HTTP/1.1",
    })
}

fn judge_parsed(request: &httparse::Request<'_, '_>) -> Result<Framing, HeadRefusal> {
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(HeadRefusal::Malformed("the request line is incomplete"));
    };
    let uri = axum::http::Uri::try_from(target)
        .map_err(|_| HeadRefusal::Malformed("the request target is not a valid URI"))?;
    if uri.path_and_query().map_or(0, |pq| pq.as_str().len()) > MAX_URI_BYTES
        || target.len() > usize::from(u16::MAX - 1)
    {
        return Err(HeadRefusal::UriTooLong);
    }
    let method = axum::http::Method::from_bytes(method.as_bytes())
        .map_err(|_| HeadRefusal::Malformed("the method is not a valid HTTP method"))?;
    let header_bytes: usize = request
        .headers
        .iter()
        .map(|header| header.name.len() + header.value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(HeadRefusal::HeadersTooLarge);
    }

    let mut length = None;
    let (mut transfer_encoding, mut chunked, mut upgrade) = (false, false, false);
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if version == 0 {
                return Err(HeadRefusal::Malformed(
                    "Transfer-Encoding is not allowed in HTTP/1.0",
                ));
            }
            transfer_encoding = true;
            length = None;
            chunked = ends_with_chunked(header.value);
        } else if header.name.eq_ignore_ascii_case("content-length") {
            if transfer_encoding {
                continue;
            }
            let value = decimal(header.value).ok_or(HeadRefusal::Malformed(
                "Content-Length is not a number of bytes",
            ))?;
            if length.is_some_and(|previous| previous != value) {
                return Err(HeadRefusal::Malformed(
                    "two Content-Length headers disagree",
                ));
            }
            length = Some(value);
        } else if header.name.eq_ignore_ascii_case("upgrade") {
            upgrade = version == 1;
        }
    }
    if transfer_encoding && !chunked {
        return Err(HeadRefusal::Malformed(
            "Transfer-Encoding must end with chunked",
        ));
    }
    Ok(if method == axum::http::Method::CONNECT || upgrade {
        Framing::Opaque
    } else if chunked {
        Framing::Chunked(Chunk::Start)
    } else {
        next_after_body(length.unwrap_or(0))
    })
}

/// hyper's `is_chunked_`: the value's last coding is `chunked`.
fn ends_with_chunked(value: &[u8]) -> bool {
    let Ok(value) = axum::http::HeaderValue::from_bytes(value) else {
        return false;
    };
    value.to_str().is_ok_and(|text| {
        text.rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    })
}

/// hyper's `from_digits`: ASCII digits only, no sign, no overflow.
fn decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |value, &byte| {
        let digit = char::from(byte).to_digit(10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Follows a chunked body over `bytes`: how many belong to it, and the framing after them.
/// Anything hyper's decoder would refuse makes the guard stop looking (`Opaque`): hyper then
/// reads it and ends the request with its own error.
fn follow_chunks(mut chunk: Chunk, bytes: &[u8]) -> (usize, Framing) {
    let mut used = 0;
    while used < bytes.len() {
        if let Chunk::Data(left) = chunk {
            let take = usize::try_from(left)
                .map_or(bytes.len() - used, |left| left.min(bytes.len() - used));
            used += take;
            let left = left - take as u64;
            chunk = if left == 0 {
                Chunk::DataCr
            } else {
                Chunk::Data(left)
            };
            continue;
        }
        let byte = bytes[used];
        used += 1;
        let next = match (chunk, byte) {
            (Chunk::Start, _) => hex_digit(byte).map(|digit| Chunk::Size(u64::from(digit))),
            (Chunk::Size(size), b'\t' | b' ') => Some(Chunk::SizeLws(size)),
            (Chunk::Size(size) | Chunk::SizeLws(size), b';') => Some(Chunk::Extension(size)),
            (Chunk::Size(size) | Chunk::SizeLws(size) | Chunk::Extension(size), b'\r') => {
                Some(Chunk::SizeLf(size))
            }
            (Chunk::Size(size), _) => hex_digit(byte).and_then(|digit| {
                size.checked_mul(16)?
                    .checked_add(u64::from(digit))
                    .map(Chunk::Size)
            }),
            (Chunk::SizeLws(size), b'\t' | b' ') => Some(Chunk::SizeLws(size)),
            (Chunk::Extension(_), b'\n') => None,
            (Chunk::Extension(size), _) => Some(Chunk::Extension(size)),
            (Chunk::SizeLf(0), b'\n') => Some(Chunk::EndCr),
            (Chunk::SizeLf(size), b'\n') => Some(Chunk::Data(size)),
            (Chunk::DataCr, b'\r') => Some(Chunk::DataLf),
            (Chunk::DataLf, b'\n') => Some(Chunk::Start),
            (Chunk::Trailer, b'\r') => Some(Chunk::TrailerLf),
            (Chunk::Trailer, _) => Some(Chunk::Trailer),
            (Chunk::TrailerLf, b'\n') => Some(Chunk::EndCr),
            (Chunk::EndCr, b'\r') => Some(Chunk::EndLf),
            (Chunk::EndCr, _) => Some(Chunk::Trailer),
            (Chunk::EndLf, b'\n') => return (used, Framing::Head),
            _ => None,
        };
        match next {
            Some(next) => chunk = next,
            None => return (bytes.len(), Framing::Opaque),
        }
    }
    (used, Framing::Chunked(chunk))
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadGuard<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let count = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready.split_to(count));
                return Poll::Ready(Ok(()));
            }
            if this.judge_held() {
                continue;
            }
            match this.framing {
                // hyper reads nothing after the stand-in; this connection is answered and closed.
                Framing::Refused => {
                    this.drain(cx);
                    return Poll::Pending;
                }
                Framing::Opaque => return Pin::new(&mut this.io).poll_read(cx, buf),
                // A body's bytes go straight to hyper, as many as belong to it.
                Framing::Length(left) | Framing::Chunked(Chunk::Data(left)) => {
                    let room = usize::try_from(left)
                        .map_or(buf.remaining(), |left| left.min(buf.remaining()));
                    let mut part = buf.take(room);
                    ready!(Pin::new(&mut this.io).poll_read(cx, &mut part))?;
                    let count = part.filled().len();
                    // SAFETY: `part` was filled by the read above, within `buf`'s unfilled part.
                    unsafe { buf.assume_init(count) };
                    buf.advance(count);
                    let left = left - count as u64;
                    this.framing = match this.framing {
                        Framing::Length(_) => next_after_body(left),
                        _ if left == 0 => Framing::Chunked(Chunk::DataCr),
                        _ => Framing::Chunked(Chunk::Data(left)),
                    };
                    return Poll::Ready(Ok(()));
                }
                Framing::Head | Framing::Chunked(_) => {}
            }
            this.held.reserve(READ_CHUNK);
            let spare = this.held.spare_capacity_mut();
            let room = READ_CHUNK.min(spare.len());
            let mut part = ReadBuf::uninit(&mut spare[..room]);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut part))?;
            let count = part.filled().len();
            if count == 0 {
                if this.held.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                // The client is done: hyper sees whatever it sent, and the end.
                this.stop_looking("the client ended mid-head");
                continue;
            }
            // SAFETY: the read above initialised `count` bytes of the spare capacity.
            unsafe { this.held.set_len(this.held.len() + count) };
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for HeadGuard<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.framing == Framing::Refused {
            self.drain(cx);
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.framing == Framing::Refused {
            self.drain(cx);
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.framing == Framing::Refused {
            self.drain(cx);
        }
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    //! The guard against hyper alone, on the same streams of pipelined requests: identical
    //! answers, except that where hyper answers a head with a bare status the guard's
    //! stand-in answers with the same status and nothing after it.

    use std::convert::Infallible;

    use axum::body::Body;
    use axum::http::{Request, Response, StatusCode};
    use http_body_util::BodyExt;
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use proptest::prelude::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[derive(Debug, Clone)]
    enum Payload {
        None,
        Length(Vec<u8>),
        /// The pieces, an extension on each chunk or not, and trailers.
        Chunked(Vec<Vec<u8>>, bool, Vec<(String, String)>),
    }

    #[derive(Debug, Clone)]
    struct Message {
        method: &'static str,
        path: String,
        headers: Vec<(String, String)>,
        payload: Payload,
    }

    fn serialize(messages: &[Message]) -> Vec<u8> {
        let mut out = Vec::new();
        for message in messages {
            out.extend_from_slice(
                format!("{} {} HTTP/1.1\r\n", message.method, message.path).as_bytes(),
            );
            for (name, value) in &message.headers {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            match &message.payload {
                Payload::None => out.extend_from_slice(b"\r\n"),
                Payload::Length(body) => {
                    out.extend_from_slice(
                        format!("content-length: {}\r\n\r\n", body.len()).as_bytes(),
                    );
                    out.extend_from_slice(body);
                }
                Payload::Chunked(pieces, extension, trailers) => {
                    out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
                    for piece in pieces.iter().filter(|piece| !piece.is_empty()) {
                        let extension = if *extension { ";a=b" } else { "" };
                        out.extend_from_slice(
                            format!("{:X}{extension}\r\n", piece.len()).as_bytes(),
                        );
                        out.extend_from_slice(piece);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n");
                    for (name, value) in trailers {
                        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        out
    }

    fn message() -> impl Strategy<Value = Message> {
        let token = "[a-z][a-z0-9-]{0,8}";
        let body = proptest::collection::vec(any::<u8>(), 0..3000);
        let payload = prop_oneof![
            Just(Payload::None),
            body.clone().prop_map(Payload::Length),
            (
                proptest::collection::vec(body, 0..4),
                any::<bool>(),
                proptest::collection::vec((token, "[ -~]{0,10}"), 0..2),
            )
                .prop_map(|(pieces, extension, trailers)| {
                    Payload::Chunked(pieces, extension, trailers)
                }),
        ];
        (
            prop_oneof![Just("GET"), Just("POST"), Just("PUT")],
            "/[a-z0-9/]{0,12}(\\?[a-z]=[a-z0-9%]{0,6})?",
            proptest::collection::vec(("x-[a-z]{1,8}", "[ -~]{0,20}"), 0..4),
            payload,
        )
            .prop_map(|(method, path, headers, payload)| Message {
                method,
                path,
                headers: headers
                    .into_iter()
                    .map(|(name, value)| (name, value.trim().to_owned()))
                    .collect(),
                payload,
            })
    }

    /// A byte put in, replaced or taken out at a fraction of the stream's length.
    #[derive(Debug, Clone)]
    enum Fault {
        Replace(f64, u8),
        Insert(f64, u8),
        Delete(f64),
    }

    fn fault() -> impl Strategy<Value = Fault> {
        let byte = prop_oneof![
            Just(b'\r'),
            Just(b'\n'),
            Just(b' '),
            Just(b':'),
            Just(b'0'),
            Just(b'z'),
            Just(0u8),
            Just(0xffu8),
            Just(b';'),
        ];
        prop_oneof![
            (0.0..1.0f64, byte.clone()).prop_map(|(at, byte)| Fault::Replace(at, byte)),
            (0.0..1.0f64, byte).prop_map(|(at, byte)| Fault::Insert(at, byte)),
            (0.0..1.0f64).prop_map(Fault::Delete),
        ]
    }

    fn apply(stream: &mut Vec<u8>, fault: &Fault) {
        let at = |fraction: f64, len: usize| {
            ((fraction * len as f64) as usize).min(len.saturating_sub(1))
        };
        match *fault {
            Fault::Replace(fraction, byte) => {
                let at = at(fraction, stream.len());
                stream[at] = byte;
            }
            Fault::Insert(fraction, byte) => {
                let at = at(fraction, stream.len());
                stream.insert(at, byte);
            }
            Fault::Delete(fraction) => {
                let at = at(fraction, stream.len());
                stream.remove(at);
            }
        }
    }

    fn refusal_status(refusal: &HeadRefusal) -> StatusCode {
        match refusal {
            HeadRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
            HeadRefusal::TooManyHeaders | HeadRefusal::HeadersTooLarge => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            HeadRefusal::UriTooLong => StatusCode::URI_TOO_LONG,
        }
    }

    /// Serves one connection that receives `stream` in `pieces`; returns each answer's status
    /// and body.
    /// The answers, and whether the guard stopped following the framing.
    async fn serve(stream: &[u8], cuts: &[usize], guarded: bool) -> (Vec<(u16, Vec<u8>)>, bool) {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let refusals = Arc::new(Refusals::default());
        let service_refusals = Arc::clone(&refusals);
        let shared = Arc::clone(&refusals);
        let service = service_fn(move |request: Request<Incoming>| {
            let refusal = guarded.then(|| service_refusals.next_request()).flatten();
            async move {
                if let Some(refusal) = refusal {
                    let mut response = Response::new(Body::from("refused"));
                    *response.status_mut() = refusal_status(&refusal);
                    return Ok::<_, Infallible>(response);
                }
                let label = format!("{} {}", request.method(), request.uri());
                Ok(match request.into_body().collect().await {
                    Ok(body) => {
                        let body = body.to_bytes();
                        let digest = crc32fast::hash(&body);
                        Response::new(Body::from(format!("{label} {} {digest:08x}", body.len())))
                    }
                    Err(_) => {
                        let mut response = Response::new(Body::from("body error"));
                        *response.status_mut() = StatusCode::BAD_REQUEST;
                        response
                    }
                })
            }
        });
        let mut http = http1::Builder::new();
        http.half_close(true).max_headers(MAX_HEADER_FIELDS);
        let server = tokio::spawn(async move {
            let served = if guarded {
                http.serve_connection(TokioIo::new(HeadGuard::new(server, refusals)), service)
                    .await
            } else {
                http.serve_connection(TokioIo::new(server), service).await
            };
            drop(served);
        });
        let (mut reader, mut writer) = tokio::io::split(&mut client);
        let write = async {
            let mut from = 0;
            for &cut in cuts.iter().chain([&stream.len()]) {
                let cut = cut.clamp(from, stream.len());
                if writer.write_all(&stream[from..cut]).await.is_err() {
                    return;
                }
                from = cut;
                tokio::task::yield_now().await;
            }
            let _ = writer.shutdown().await;
        };
        let mut received = Vec::new();
        let read = reader.read_to_end(&mut received);
        let (_, read) = tokio::join!(write, read);
        read.unwrap();
        server.await.unwrap();
        let stopped = shared.stopped_looking.load(Ordering::Relaxed);
        (parse_answers(&received), stopped)
    }

    fn parse_answers(mut bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut answers = Vec::new();
        while !bytes.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head) = response.parse(bytes).unwrap() else {
                panic!("an unfinished answer: {:?}", String::from_utf8_lossy(bytes));
            };
            let length: usize = response
                .headers
                .iter()
                .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                .map(|header| std::str::from_utf8(header.value).unwrap().parse().unwrap())
                .expect("answers here have a length");
            answers.push((response.code.unwrap(), bytes[head..head + length].to_vec()));
            bytes = &bytes[head + length..];
        }
        answers
    }

    fn check(stream: &[u8], cuts: &[usize], whole: bool) -> Result<(), TestCaseError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let within = |served| async {
            tokio::time::timeout(std::time::Duration::from_secs(5), served).await
        };
        let (alone, _) = runtime
            .block_on(within(serve(stream, cuts, false)))
            .expect("hyper alone answers");
        let (guarded, stopped_looking) = runtime
            .block_on(within(serve(stream, cuts, true)))
            .map_err(|_| TestCaseError::fail("the guarded connection hangs"))?;
        if whole {
            prop_assert!(alone.iter().all(|(status, _)| *status == 200), "{alone:?}");
            prop_assert!(
                !stopped_looking,
                "the guard lost the framing of a valid stream"
            );
        }
        let same = alone
            .iter()
            .zip(&guarded)
            .take_while(|(a, g)| a == g)
            .count();
        if same == alone.len() && same == guarded.len() {
            return Ok(());
        }
        // The one difference allowed: the last answer, hyper's bare refusal of a head, is the
        // stand-in's answer with the same status.
        prop_assert_eq!(
            same + 1,
            alone.len(),
            "hyper alone {:?}, guarded {:?}",
            alone,
            guarded
        );
        prop_assert_eq!(
            same + 1,
            guarded.len(),
            "hyper alone {:?}, guarded {:?}",
            alone,
            guarded
        );
        let (bare, refused) = (&alone[same], &guarded[same]);
        prop_assert!(bare.1.is_empty() && bare.0 >= 400, "{:?}", bare);
        prop_assert_eq!(refused, &(bare.0, b"refused".to_vec()));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn valid_streams_pass_whole_in_any_pieces(
            messages in proptest::collection::vec(message(), 1..6),
            cuts in proptest::collection::vec(0..20_000usize, 0..12),
        ) {
            let stream = serialize(&messages);
            let mut cuts = cuts;
            cuts.sort_unstable();
            check(&stream, &cuts, true)?;
        }

        #[test]
        fn faulty_streams_differ_only_by_a_problem_in_place_of_a_bare_refusal(
            messages in proptest::collection::vec(message(), 1..5),
            faults in proptest::collection::vec(fault(), 1..3),
            cuts in proptest::collection::vec(0..20_000usize, 0..8),
        ) {
            let mut stream = serialize(&messages);
            for fault in &faults {
                apply(&mut stream, fault);
            }
            let mut cuts = cuts;
            cuts.sort_unstable();
            check(&stream, &cuts, false)?;
        }
    }

    #[test]
    fn judges_heads_as_hyper_does() {
        let framing = |head: &str| judge(head.as_bytes()).map(|verdict| verdict.map(|(_, f)| f));
        assert_eq!(framing("GET / HTTP/1.1\r\n"), None);
        assert_eq!(framing("GET / HTTP/1.1\r\n\r\n"), Some(Ok(Framing::Head)));
        assert_eq!(
            framing("\r\nGET / HTTP/1.1\nA: b\n\n"),
            Some(Ok(Framing::Head))
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\ncontent-length: 7\r\ncontent-length: 7\r\n\r\n"),
            Some(Ok(Framing::Length(7)))
        );
        assert_eq!(
            framing(
                "POST / HTTP/1.1\r\ncontent-length: 7\r\ntransfer-encoding: gzip, chunked\r\n\r\n"
            ),
            Some(Ok(Framing::Chunked(Chunk::Start)))
        );
        assert_eq!(
            framing("GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n"),
            Some(Ok(Framing::Opaque))
        );
        assert!(matches!(
            framing("POST / HTTP/1.1\r\ncontent-length: 7, 7\r\n\r\n"),
            Some(Err(HeadRefusal::Malformed(_)))
        ));
        assert!(matches!(
            framing("POST / HTTP/1.1\r\ncontent-length: 99999999999999999999\r\n\r\n"),
            Some(Err(HeadRefusal::Malformed(_)))
        ));
    }
}
