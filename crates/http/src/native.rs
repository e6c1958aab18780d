//! The native HTTP/1 path of ActiveSync: every request of an ActiveSync
//! connection, long polls (Ping, Sync with `Wait`/`HeartbeatInterval`)
//! included, without hyper.
//!
//! A Ping or a waiting Sync holds its connection for up to an hour.
//! Served by hyper, it holds hyper's read buffer (the request's header
//! values and URI are slices of it, and the keep-alive read reserves a
//! second one), its write buffer and its in-flight future: 16 + 8 +
//! 1.5 KiB per device (heaptrack). A phone sends all its commands on one
//! kept-alive connection (OkHttp's pool, iOS, pyactivesync), so the path
//! must take every request of such a connection, or the connection falls
//! to hyper at its first Sync and its next Ping waits there.
//!
//! This path reads each HTTP/1 request head of a connection itself, into
//! a buffer that grows only as needed, and takes a request when it can
//! serve it whole: `POST` or `OPTIONS` to the ActiveSync mount (any
//! command, plain or base64 query), HTTP/1.1 or 1.0, a body declared by
//! one `Content-Length` of at most `http_rqbody_max_size`, no
//! `Transfer-Encoding`, `Expect` or `Upgrade`. The request is rebuilt
//! from copied bytes and the head buffer is dropped before
//! [`Front::handle`] runs it through the same pipeline as every request
//! (limits, authentication, module, access log, metrics). A body of up to
//! `http_rqbody_prefetch_size` (the front reads such a body whole before
//! authenticating anyway) is read whole first; a larger one is streamed
//! to the handler in pieces of at most [`BODY_PIECE`] bytes, one piece
//! ahead (so an anonymous client cannot make this path hold more than
//! hyper's would; a request answered before its body was read, a 401 or
//! 413, closes the connection after the answer, as the front asks).
//! While the handler runs the socket is watched: end of stream drops the
//! handler (as hyper does); bytes that arrive early (a pipelined request)
//! are kept for the next head. The answer is written with hyper's framing
//! (`Content-Length`, chunked, or until close for HTTP/1.0; none for 204
//! and 304), `Connection` and `Date` rules, frame by frame as the body
//! yields them: what is ready at once is gathered into writes of up to
//! [`ONE_WRITE`] bytes, and nothing more is asked of the body until the
//! socket took the last write, so a slow reader holds back a streamed
//! answer instead of having it gathered in memory.
//!
//! Anything else (the HTTP/2 preface, another method or path, a chunked
//! or `Expect: 100-continue` body, a declared body over
//! `http_rqbody_max_size`, a head that does not parse or is too large)
//! goes to hyper with the bytes read so far replayed first, so hyper
//! answers it as it always did (its own 400, 413 and 431 included) and
//! serves the rest of the connection. No EAS client seen sends `Expect`:
//! pyactivesync (requests) never does, curl only above 1 MiB.
//!
//! Invariant: nothing of a request's head outlives its parsing; while a
//! request waits, the connection holds its own few hundred bytes and the
//! handler's future, no buffer.

use crate::connection::{Io, idle};
use crate::front::{ConnectionFacts, Front, FrontBody};
use crate::settings::ServerSettings;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, EXPECT, TRANSFER_ENCODING, UPGRADE};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version,
};
use http_body::{Body, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// First size of the head buffer (a phone's request head is 300–800
/// bytes).
const FIRST_READ: usize = 1024;

/// Most header fields of a head taken here (hyper's own limit; a head
/// with more goes to hyper, which answers 431).
const MAX_HEADERS: usize = 100;

/// Largest answer gathered into one write.
pub const ONE_WRITE: usize = 64 * 1024;

/// Largest piece of a streamed request body handed to the handler at
/// once (one piece is read ahead of the handler).
pub const BODY_PIECE: usize = 16 * 1024;

/// How the native path left the connection.
#[derive(Debug)]
pub enum Outcome {
    /// Closed: by the client, a timeout, shutdown, or after an answer
    /// that ends the connection.
    Closed,
    /// The next request is not one this path takes: hyper serves the rest
    /// of the connection, these bytes (already read from it) first.
    Hyper(Vec<u8>),
}

/// An ActiveSync request's head, parsed.
#[derive(Debug)]
struct OurHead {
    /// The request without its body, built from copied bytes.
    request: Request<()>,
    /// The head's length in the buffer.
    len: usize,
    /// The declared body length.
    body: u64,
    /// Whether the client keeps the connection after the answer.
    keep_alive: bool,
}

/// What the bytes read so far are.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per head and taken apart at once"
)]
enum Head {
    /// The start of a head that may be ours.
    Partial,
    /// Not a request this path takes (or not a request at all).
    NotOurs,
    /// An ActiveSync request this path serves.
    Ours(OurHead),
}

/// A request body as this path hands it to the handler: read whole, or
/// streamed from the connection (see [`Feed`]).
#[derive(Debug)]
pub struct NativeBody {
    /// Bytes read before the handler ran.
    first: Option<Bytes>,
    /// Pieces still to come, while some are declared.
    rest: Option<mpsc::Receiver<Bytes>>,
    /// Declared bytes not yet handed out.
    remaining: u64,
}

impl Body for NativeBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            this.remaining = this.remaining.saturating_sub(first.len() as u64);
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        match rest.poll_recv(cx) {
            Poll::Ready(Some(piece)) => {
                this.remaining = this.remaining.saturating_sub(piece.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            // The connection ended within the body; the handler is being dropped.
            Poll::Ready(None) => Poll::Ready(Some(Err(io::ErrorKind::UnexpectedEof.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        let first = self.first.as_ref().map_or(0, |b| b.len() as u64);
        SizeHint::with_exact(first.max(self.remaining))
    }
}

/// The sending side of a streamed request body: the declared bytes not
/// yet read from the connection.
#[derive(Debug)]
struct Feed {
    sender: mpsc::Sender<Bytes>,
    left: u64,
}

/// Serves the requests of `io` natively until one is not ours (then
/// hands over to hyper) or the connection ends.
pub async fn serve(
    front: &Front,
    facts: &ConnectionFacts,
    io: &mut Box<dyn Io>,
    settings: &ServerSettings,
    shutdown: &CancellationToken,
) -> Outcome {
    // The future is as large as its largest step, and a step's locals stay
    // in it to the end of their scope: the reading and writing steps are
    // boxed and the request is bound only where the handler is made, so
    // what waits is the handler (boxed) and a few hundred bytes.
    let mut pending = Vec::new();
    loop {
        let (mut handler, feed, version, keep_alive) =
            match Box::pin(next_request(io, &mut pending, facts, settings, shutdown)).await {
                Next::Ours(request, feed, keep_alive) => {
                    front.metrics().native_request();
                    let version = request.version();
                    (
                        Box::pin(front.handle(facts, request)),
                        feed,
                        version,
                        keep_alive,
                    )
                }
                Next::Hyper => return Outcome::Hyper(pending),
                Next::Closed => return Outcome::Closed,
            };
        let watch_limit = settings.max_header_size;
        let written = match wait(
            handler.as_mut(),
            io,
            &mut pending,
            feed,
            watch_limit,
            shutdown,
        )
        .await
        {
            Some((response, keep)) => {
                Box::pin(write_response(io, response, version, keep_alive && keep))
            }
            None => {
                tracing::debug!(peer = %facts.peer, "client left while its request was handled");
                return Outcome::Closed;
            }
        };
        drop(handler);
        match written.await {
            Ok(true) => {}
            Ok(false) => {
                let _ = tokio::time::timeout(settings.header_timeout, io.shutdown()).await;
                return Outcome::Closed;
            }
            Err(e) => {
                tracing::debug!(peer = %facts.peer, error = %e, "answer not sent");
                return Outcome::Closed;
            }
        }
    }
}

/// The next request of a connection, as far as this path is concerned.
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per request and taken apart at once"
)]
enum Next {
    /// Ours: the request, the feed of its body when streamed, and whether
    /// the client keeps the connection.
    Ours(Request<NativeBody>, Option<Feed>, bool),
    /// Not ours: hyper's.
    Hyper,
    /// The connection is to be closed.
    Closed,
}

/// Reads the next request's head and, up to `http_rqbody_prefetch_size`,
/// its body.
async fn next_request(
    io: &mut Box<dyn Io>,
    pending: &mut Vec<u8>,
    facts: &ConnectionFacts,
    settings: &ServerSettings,
    shutdown: &CancellationToken,
) -> Next {
    let head = match read_head(io, pending, facts, settings, shutdown).await {
        Ok(Some(head)) => head,
        Ok(None) => return Next::Hyper,
        Err(()) => return Next::Closed,
    };
    if head.body > settings.prefetch_size {
        // Streamed: what followed the head is the body's start (and
        // perhaps more), sent on by `wait`.
        pending.drain(..head.len);
        let (sender, receiver) = mpsc::channel(1);
        let body = NativeBody {
            first: None,
            rest: Some(receiver),
            remaining: head.body,
        };
        let feed = Feed {
            sender,
            left: head.body,
        };
        return Next::Ours(head.request.map(|()| body), Some(feed), head.keep_alive);
    }
    let Ok(len) = usize::try_from(head.body) else {
        return Next::Closed;
    };
    match read_body(io, pending, head.len, len, settings).await {
        Some(bytes) => {
            let body = NativeBody {
                remaining: bytes.len() as u64,
                first: (!bytes.is_empty()).then(|| Bytes::from(bytes)),
                rest: None,
            };
            Next::Ours(head.request.map(|()| body), None, head.keep_alive)
        }
        None => {
            tracing::debug!(peer = %facts.peer, "connection closed: request body incomplete");
            Next::Closed
        }
    }
}

/// Reads into `buf` (which may hold bytes already read) until it holds a
/// whole head of ours (`Some`) or shows not to be one (`None`); `Err`
/// when the connection is to be closed: end of stream,
/// `http_header_timeout`, idle timeout or shutdown.
async fn read_head(
    io: &mut Box<dyn Io>,
    buf: &mut Vec<u8>,
    facts: &ConnectionFacts,
    settings: &ServerSettings,
    shutdown: &CancellationToken,
) -> Result<Option<OurHead>, ()> {
    // hyper's header timeout also runs while a kept-alive connection waits.
    let deadline = Instant::now() + settings.header_timeout;
    loop {
        if !buf.is_empty() {
            match parse_head(buf, settings.body.max_size) {
                Head::Ours(head) => return Ok(Some(head)),
                Head::NotOurs => return Ok(None),
                // hyper reads on and answers 431.
                Head::Partial if buf.len() >= settings.max_header_size => return Ok(None),
                Head::Partial => {}
            }
        }
        if buf.len() == buf.capacity() {
            let room = settings.max_header_size.saturating_sub(buf.len()).max(1);
            buf.reserve_exact(buf.capacity().max(FIRST_READ).min(room));
        }
        let read = tokio::select! {
            read = io.read_buf(buf) => read,
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(peer = %facts.peer, "connection closed: no request head in time");
                return Err(());
            }
            () = shutdown.cancelled() => return Err(()),
            () = idle(&facts.activity, settings.conn_timeout) => {
                tracing::debug!(peer = %facts.peer, "idle connection closed");
                return Err(());
            }
        };
        match read {
            Ok(0) | Err(_) => return Err(()),
            Ok(_) => {}
        }
    }
}

/// Whether `buf` can still be the start of a `POST` or `OPTIONS` request
/// line.
fn could_be_ours(buf: &[u8]) -> bool {
    [&b"POST "[..], &b"OPTIONS "[..]].iter().any(|method| {
        let n = buf.len().min(method.len());
        buf[..n] == method[..n]
    })
}

/// Whether `path` is the ActiveSync endpoint (as its module answers it).
fn is_active_sync(path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    path.eq_ignore_ascii_case(groxide_eas::ENDPOINT)
}

/// A `Content-Length` value: digits only.
fn content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// What the head at the start of `buf` is; a body of ours may be at most
/// `max_body` bytes (`http_rqbody_max_size`).
fn parse_head(buf: &[u8], max_body: u64) -> Head {
    if !could_be_ours(buf) {
        return Head::NotOurs;
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::NotOurs,
    };
    let version = match parsed.version {
        Some(1) => Version::HTTP_11,
        Some(0) => Version::HTTP_10,
        _ => return Head::NotOurs,
    };
    let method = match parsed.method {
        Some("POST") => Method::POST,
        Some("OPTIONS") => Method::OPTIONS,
        _ => return Head::NotOurs,
    };
    let Some(target) = parsed.path.filter(|t| t.starts_with('/')) else {
        return Head::NotOurs;
    };
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if !is_active_sync(path) {
        return Head::NotOurs;
    }
    let Ok(uri) = Uri::try_from(target) else {
        return Head::NotOurs;
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    let mut length = None;
    let (mut close, mut keep) = (false, false);
    for field in parsed.headers.iter() {
        // Copies: the map must not share the read buffer.
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) else {
            return Head::NotOurs;
        };
        if name == TRANSFER_ENCODING || name == EXPECT || name == UPGRADE {
            return Head::NotOurs;
        }
        if name == CONTENT_LENGTH {
            match (length, content_length(field.value)) {
                (None, Some(n)) => length = Some(n),
                // Repeated or malformed: hyper's to judge.
                _ => return Head::NotOurs,
            }
        }
        if name == CONNECTION {
            for token in value.to_str().unwrap_or("").split(',').map(str::trim) {
                close |= token.eq_ignore_ascii_case("close");
                keep |= token.eq_ignore_ascii_case("keep-alive");
            }
        }
        headers.append(name, value);
    }
    let body = length.unwrap_or(0);
    // Over the limit: hyper's path answers 413 and closes.
    if body > max_body {
        return Head::NotOurs;
    }
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Head::Ours(OurHead {
        request,
        len,
        body,
        keep_alive: !close && (version == Version::HTTP_11 || keep),
    })
}

/// The body of the head at the start of `buf` (`head` bytes long): what
/// `buf` holds of it, then the rest from `io` within
/// `http_rqbody_timeout`, in memory that grows as bytes arrive (not by
/// the declared length). `buf` is left holding only what followed the
/// body (its big allocation freed); `None` when the body did not come
/// whole.
async fn read_body(
    io: &mut Box<dyn Io>,
    buf: &mut Vec<u8>,
    head: usize,
    len: usize,
    settings: &ServerSettings,
) -> Option<Vec<u8>> {
    let have = buf.len().saturating_sub(head).min(len);
    let mut body = Vec::with_capacity(have);
    body.extend_from_slice(&buf[head..head + have]);
    *buf = buf[head + have..].to_vec();
    let deadline = Instant::now() + settings.body.timeout;
    while body.len() < len {
        let left = len - body.len();
        body.reserve_exact(left.min(body.len().max(FIRST_READ)));
        let mut limited = (&mut **io).take(left as u64);
        match tokio::time::timeout_at(deadline, limited.read_buf(&mut body)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
    Some(body)
}

/// Runs `handler` (the front's answer to a request) while watching `io`:
/// `None` when the client leaves first (the caller drops the handler).
/// A streamed body (`feed`) is read from `io` one piece ahead of the
/// handler; bytes that arrive beyond it are added to `pending`, up to
/// `watch_limit`. The flag says whether the connection may carry another
/// request: not when shutdown began meanwhile, nor when the handler
/// answered before the whole body was read.
async fn wait<F>(
    mut handler: Pin<&mut F>,
    io: &mut Box<dyn Io>,
    pending: &mut Vec<u8>,
    mut feed: Option<Feed>,
    watch_limit: usize,
    shutdown: &CancellationToken,
) -> Option<(Response<FrontBody>, bool)>
where
    F: Future<Output = Response<FrontBody>>,
{
    let mut closing = shutdown.is_cancelled();
    let mut permit = None;
    // The handler dropped a body not read whole: its rest stays unread.
    let mut cut = false;
    loop {
        // Send what `pending` holds of the body while the handler takes it.
        if permit.is_some()
            && !pending.is_empty()
            && let (Some(f), Some(p)) = (feed.as_mut(), permit.take())
        {
            let left = usize::try_from(f.left).unwrap_or(usize::MAX);
            let n = pending.len().min(BODY_PIECE).min(left);
            let piece = Bytes::copy_from_slice(&pending[..n]);
            pending.drain(..n);
            mpsc::OwnedPermit::send(p, piece);
            f.left -= n as u64;
        }
        if feed.as_ref().is_some_and(|f| f.left == 0) {
            feed = None;
            permit = None;
            // Only what followed the body is kept, in a buffer of its size.
            pending.shrink_to_fit();
        }
        let reading = !cut
            && match &feed {
                Some(_) => permit.is_some() && pending.is_empty(),
                None => pending.len() < watch_limit,
            };
        // While the request waits, `read_buf` reserves only a few bytes.
        if reading && feed.is_some() && pending.capacity() == pending.len() {
            pending.reserve_exact(BODY_PIECE);
        }
        let want_permit = feed.is_some() && permit.is_none();
        let sender = feed.as_ref().map(|f| f.sender.clone());
        let limit = feed.as_ref().map(|f| f.left);
        tokio::select! {
            biased;
            response = handler.as_mut() => {
                return Some((response, feed.is_none() && !cut && !closing));
            }
            granted = async { sender?.reserve_owned().await.ok() }, if want_permit => match granted {
                Some(p) => permit = Some(p),
                // The connection closes after the answer.
                None => {
                    feed = None;
                    cut = true;
                }
            },
            read = read_more(io, pending, limit), if reading => match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
            () = shutdown.cancelled(), if !closing => closing = true,
        }
    }
}

/// Reads once from `io` into `pending`: at most `limit` bytes when given.
async fn read_more(
    io: &mut Box<dyn Io>,
    pending: &mut Vec<u8>,
    limit: Option<u64>,
) -> io::Result<usize> {
    match limit {
        Some(limit) => (&mut **io).take(limit).read_buf(pending).await,
        None => io.read_buf(pending).await,
    }
}
/// Whether a `Connection` header of `headers` has the token `token`.
fn has_connection_token(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body may follow (1xx, 204, 304).
    Bodiless,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1).
    Chunked,
    /// Until the connection closes (HTTP/1.0 without a known length).
    UntilClose,
}

/// The status line and header block of `parts` as hyper writes them for
/// a client of `version`, with `framing` and `keep_alive` applied.
fn response_head(
    parts: &http::response::Parts,
    version: Version,
    framing: Framing,
    keep_alive: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(parts.status.as_str().as_bytes());
    out.push(b' ');
    // hyper writes a reason always: many parsers expect one.
    let reason = parts.status.canonical_reason().unwrap_or("<none>");
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION {
            continue;
        }
        header_line(&mut out, name.as_str(), value.as_bytes());
    }
    let mut connection: Vec<&[u8]> = parts
        .headers
        .get_all(CONNECTION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if version == Version::HTTP_11 && !keep_alive && !has_connection_token(&parts.headers, "close")
    {
        connection.push(b"close");
    }
    if version == Version::HTTP_10
        && keep_alive
        && !has_connection_token(&parts.headers, "keep-alive")
    {
        connection.push(b"keep-alive");
    }
    if !connection.is_empty() {
        header_line(&mut out, "connection", &connection.join(&b", "[..]));
    }
    match framing {
        Framing::Length(n) => header_line(&mut out, "content-length", n.to_string().as_bytes()),
        Framing::Chunked => header_line(&mut out, "transfer-encoding", b"chunked"),
        Framing::Bodiless | Framing::UntilClose => {}
    }
    if !parts.headers.contains_key(DATE) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        header_line(&mut out, "date", date.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn header_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The next frame of `body`: `Ok(None)` at its end, `Err(())` when
/// `now` and none is ready yet.
async fn next_frame(
    body: &mut FrontBody,
    now: bool,
) -> Result<Option<Result<Frame<Bytes>, io::Error>>, ()> {
    std::future::poll_fn(|cx| match Pin::new(&mut *body).poll_frame(cx) {
        Poll::Ready(frame) => {
            Poll::Ready(Ok(frame.map(|f| {
                f.map_err(|_| io::Error::other("the response body failed"))
            })))
        }
        Poll::Pending if now => Poll::Ready(Err(())),
        Poll::Pending => Poll::Pending,
    })
    .await
}

/// Writes `response` to a client of `version`; `Ok(true)` when the
/// connection stays open for another request. The body is sent whole
/// (never cut): by its length, chunked, or until close; frames ready at
/// once are gathered into writes of up to [`ONE_WRITE`] bytes, and the
/// body is asked for more only when the last write was taken.
async fn write_response(
    io: &mut Box<dyn Io>,
    response: Response<FrontBody>,
    version: Version,
    keep_alive: bool,
) -> io::Result<bool> {
    let (parts, mut body) = response.into_parts();
    let status = parts.status;
    let mut keep_alive = keep_alive && !has_connection_token(&parts.headers, "close");
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| content_length(v.as_bytes()));
    let framing = if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::Bodiless
    } else if let Some(n) = body.size_hint().exact().or(declared) {
        Framing::Length(n)
    } else if version == Version::HTTP_11 {
        Framing::Chunked
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    let mut out = response_head(&parts, version, framing, keep_alive);
    if framing == Framing::Bodiless {
        io.write_all(&out).await?;
        io.flush().await?;
        return Ok(keep_alive);
    }
    let mut sent: u64 = 0;
    loop {
        // Waiting for the body: what is gathered goes out first.
        let frame = match next_frame(&mut body, !out.is_empty()).await {
            Ok(frame) => frame,
            Err(()) => {
                io.write_all(&out).await?;
                io.flush().await?;
                out.clear();
                continue;
            }
        };
        let Some(frame) = frame else { break };
        let Ok(mut data) = frame?.into_data() else {
            continue; // trailers: hyper sends them only to clients that ask (TE: trailers)
        };
        if data.is_empty() {
            continue;
        }
        sent += data.len() as u64;
        if let Framing::Length(n) = framing
            && sent > n
        {
            return Err(io::Error::other(
                "the response body is longer than announced",
            ));
        }
        if framing == Framing::Chunked {
            out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        }
        if out.len() + data.len() <= ONE_WRITE {
            out.extend_from_slice(&data);
        } else {
            // A large frame is written from where it is, not copied.
            io.write_all(&out).await?;
            out.clear();
            io.write_all_buf(&mut data).await?;
        }
        if framing == Framing::Chunked {
            out.extend_from_slice(b"\r\n");
        }
        if out.len() >= ONE_WRITE {
            io.write_all(&out).await?;
            out.clear();
        }
    }
    match framing {
        Framing::Length(n) if sent != n => {
            return Err(io::Error::other(
                "the response body is shorter than announced",
            ));
        }
        Framing::Chunked => out.extend_from_slice(b"0\r\n\r\n"),
        _ => {}
    }
    io.write_all(&out).await?;
    io.flush().await?;
    // The access-log line is written now: the answer is out.
    drop(body);
    Ok(keep_alive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const PING: &str = "/Microsoft-Server-ActiveSync?Cmd=Ping&User=u&DeviceId=d1&DeviceType=t";
    /// `http_rqbody_max_size` in these tests.
    const MAX_BODY: u64 = 64 * 1024;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes(), MAX_BODY)
    }

    fn taken(text: &str) -> Option<(usize, u64, bool)> {
        match head(text) {
            Head::Ours(h) => Some((h.len, h.body, h.keep_alive)),
            _ => None,
        }
    }

    #[test]
    fn whole_active_sync_heads_are_taken() {
        let ping = format!("POST {PING} HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(taken(&ping), Some((ping.len(), 12, true)));
        let lower = ping.replace(
            "Microsoft-Server-ActiveSync",
            "microsoft-server-activesync/",
        );
        assert!(taken(&lower).is_some(), "the path is matched ignoring case");
        let http10 = format!("POST {PING} HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(taken(&http10).map(|t| t.2), Some(false));
        let kept = format!("POST {PING} HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert_eq!(taken(&kept).map(|t| (t.1, t.2)), Some((0, true)));
        // Every command and OPTIONS; the module judges the parameters.
        for other in [
            format!(
                "POST {} HTTP/1.1\r\nContent-Length: 65536\r\n\r\n",
                PING.replace("Ping", "Sync")
            ),
            "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n\r\n".into(),
            "POST /Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\n\r\n".into(),
            format!("POST {PING} HTTP/1.1\r\nMS-ASProtocolVersion: 99.0\r\n\r\n"),
        ] {
            assert!(taken(&other).is_some(), "{other:?}");
        }
        let closing = format!("POST {PING} HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_eq!(taken(&closing).map(|t| t.2), Some(false));
        // The base64 query form: version 14.1, command 18 (Ping), device "d1".
        let raw = [141u8, 18, 0, 0, 2, b'd', b'1', 0, 0];
        let q = base64::engine::general_purpose::STANDARD
            .encode(raw)
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let b64 = format!("POST /Microsoft-Server-ActiveSync?{q} HTTP/1.1\r\n\r\n");
        assert!(taken(&b64).is_some(), "{b64}");
    }

    #[test]
    fn everything_else_goes_to_hyper() {
        let not_ours = [
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_string(),
            format!("GET {PING} HTTP/1.1\r\n\r\n"),
            "OPTIONS * HTTP/1.1\r\n\r\n".into(),
            "OPTIONS /page HTTP/1.1\r\n\r\n".into(),
            format!("PUT {PING} HTTP/1.1\r\n\r\n"),
            format!("HEAD {PING} HTTP/1.1\r\n\r\n"),
            format!(
                "POST {} HTTP/1.1\r\n\r\n",
                PING.replace("ActiveSync", "ActiveSyncX")
            ),
            format!("POST http://x{PING} HTTP/1.1\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nContent-Length: 65537\r\n\r\n"),
            format!("POST {PING} HTTP/1.1\r\nBad Header: x\r\n\r\n"),
            "POST  HTTP/1.1\r\n\r\n".into(),
            "POSTX / HTTP/1.1\r\n\r\n".into(),
        ];
        for text in not_ours {
            assert!(matches!(head(&text), Head::NotOurs), "{text:?}");
        }
        let too_many = format!("POST {PING} HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(101));
        assert!(matches!(head(&too_many), Head::NotOurs));
        for partial in ["P", "POST", &format!("POST {PING} HTTP/1.1\r\nHost: x")] {
            assert!(matches!(head(partial), Head::Partial), "{partial:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_judged_without_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
        ) {
            let _ = parse_head(&bytes, MAX_BODY);
            let mut ping = format!("POST {PING} HTTP/1.1\r\n").into_bytes();
            ping.extend_from_slice(&bytes);
            let _ = parse_head(&ping, MAX_BODY);
        }

        /// A head of ours arriving in pieces is never handed to hyper early.
        #[test]
        fn every_prefix_of_a_ping_head_waits_for_more(
            agent in "[ -~]{0,80}",
            cut in 0usize..1000,
        ) {
            let text = format!(
                "POST {PING} HTTP/1.1\r\nUser-Agent: {agent}\r\nContent-Length: 5\r\n\r\n"
            );
            let whole = text.len();
            let cut = 1 + cut % (whole - 1);
            proptest::prop_assert!(
                matches!(head(&text[..cut]), Head::Partial),
                "{:?}",
                &text[..cut]
            );
            proptest::prop_assert!(matches!(head(&text), Head::Ours(_)));
        }
    }

    #[test]
    fn the_parsed_request_owns_its_bytes() {
        let text = format!("POST {PING} HTTP/1.1\r\nX-MS-PolicyKey: 7\r\n\r\n");
        let Head::Ours(h) = head(&text) else {
            panic!("not taken");
        };
        assert_eq!(h.request.uri().to_string(), PING);
        assert_eq!(h.request.headers()["x-ms-policykey"], "7");
    }

    #[test]
    fn answers_are_framed_as_hyper_frames_them() {
        let parts = |status: u16, headers: &[(&'static str, &'static str)]| {
            let mut r = Response::new(());
            *r.status_mut() = StatusCode::from_u16(status).unwrap();
            for (n, v) in headers {
                r.headers_mut().insert(*n, HeaderValue::from_static(v));
            }
            r.into_parts().0
        };
        let text = |p, v, f, k| String::from_utf8(response_head(&p, v, f, k)).unwrap();
        let ok = text(
            parts(200, &[("content-type", "a/b"), ("date", "D")]),
            Version::HTTP_11,
            Framing::Length(3),
            true,
        );
        assert_eq!(
            ok,
            "HTTP/1.1 200 OK\r\ncontent-type: a/b\r\ndate: D\r\ncontent-length: 3\r\n\r\n"
        );
        let closing = text(parts(449, &[]), Version::HTTP_11, Framing::Chunked, false);
        assert!(closing.starts_with(
            "HTTP/1.1 449 <none>\r\nconnection: close\r\ntransfer-encoding: chunked\r\ndate: "
        ));
        let old = text(parts(401, &[]), Version::HTTP_10, Framing::Length(0), true);
        assert!(old.starts_with(
            "HTTP/1.0 401 Unauthorized\r\nconnection: keep-alive\r\ncontent-length: 0\r\n"
        ));
        let told = text(
            parts(413, &[("connection", "close")]),
            Version::HTTP_11,
            Framing::Length(0),
            false,
        );
        assert_eq!(told.matches("close").count(), 1, "{told}");
    }
}
