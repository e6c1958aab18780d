//! The end of a request: one structured access-log line (method, path
//! without query — queries carry tokens and device ids —, status, bytes
//! sent, duration, user, client, module) and the request's metrics,
//! written when the response body has been sent or dropped.

use crate::metrics::Metrics;
use bytes::Bytes;
use groxide_http_core::RequestNote;
use http::{Method, Version};
use http_body::{Frame, SizeHint};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

/// Longest path written to the log (the rest is cut, with `…`).
const MAX_LOGGED_PATH: usize = 256;

/// What one connection is doing: requests in flight and when it last
/// started or finished one (for the idle timeout).
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }
}

impl Activity {
    fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// A request started.
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    fn ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.touch();
    }

    /// Since when the connection has had no request in flight; `None` while one is.
    pub fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        Some(*self.last.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Everything the log line and metrics of one request need.
#[derive(Debug)]
pub struct Completion {
    /// When the request head was complete.
    pub started: Instant,
    /// The method.
    pub method: Method,
    /// The path, query removed and length bounded.
    pub path: String,
    /// The HTTP version.
    pub version: Version,
    /// The client (behind trusted proxies).
    pub client: IpAddr,
    /// The request's note (module, user).
    pub note: Arc<RequestNote>,
    /// The server's metrics.
    pub metrics: Arc<Metrics>,
    /// The connection's activity.
    pub activity: Arc<Activity>,
    /// The response status (set when the response is known).
    pub status: u16,
    /// Body bytes sent so far.
    pub bytes: u64,
    /// Whether the body was sent to its end.
    pub complete: bool,
}

impl Completion {
    /// `path` as logged: without query, at most [`MAX_LOGGED_PATH`] bytes.
    pub fn loggable_path(path: &str) -> String {
        if path.len() <= MAX_LOGGED_PATH {
            return path.to_string();
        }
        let mut end = MAX_LOGGED_PATH;
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &path[..end])
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let duration = self.started.elapsed();
        let protocol = self.note.module().unwrap_or("none");
        self.metrics.request_done(protocol, self.status, duration);
        self.metrics.request_ended();
        self.activity.ended();
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "groxide_http::access",
                    $level,
                    method = %self.method,
                    path = %self.path,
                    status = self.status,
                    bytes = self.bytes,
                    duration_ms = duration.as_secs_f64() * 1000.0,
                    user = %self.note.user().unwrap_or("-"),
                    client = %self.client,
                    protocol = %protocol,
                    version = ?self.version,
                    complete = self.complete,
                    "request"
                )
            };
        }
        // Load balancers ask for /health every few seconds: not worth a line each.
        if protocol == "health" && self.status == 200 {
            line!(tracing::Level::DEBUG);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// A response body that counts what it sends and completes the request
/// when it ends or is dropped.
pub struct LoggedBody<B: http_body::Body> {
    inner: Pin<Box<B>>,
    done: Completion,
}

impl<B: http_body::Body> Drop for LoggedBody<B> {
    fn drop(&mut self) {
        // A body with nothing to send may never be polled.
        if self.inner.is_end_stream() {
            self.done.complete = true;
        }
    }
}

impl<B: http_body::Body> LoggedBody<B> {
    /// Wraps `inner`; `done` is written when the body ends.
    pub fn new(inner: B, done: Completion) -> LoggedBody<B> {
        LoggedBody {
            inner: Box::pin(inner),
            done,
        }
    }
}

impl<B> http_body::Body for LoggedBody<B>
where
    B: http_body::Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.done.bytes += data.len() as u64;
                }
                // hyper stops polling a body that says it has ended.
                if this.inner.is_end_stream() {
                    this.done.complete = true;
                }
            }
            Poll::Ready(None) => this.done.complete = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_are_cut_on_a_character_boundary() {
        assert_eq!(Completion::loggable_path("/dav/a"), "/dav/a");
        let long = format!("/{}", "ä".repeat(200));
        let cut = Completion::loggable_path(&long);
        assert!(cut.len() <= MAX_LOGGED_PATH + "…".len());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_connection_is_idle_only_without_requests_in_flight() {
        let a = Activity::default();
        assert!(a.idle_since().is_some());
        a.started();
        assert!(a.idle_since().is_none());
        a.ended();
        assert!(a.idle_since().is_some());
    }
}
