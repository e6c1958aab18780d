//! Request bodies with the server's limits: at most `http_rqbody_max_size`
//! bytes, received within `http_rqbody_timeout` of the request head. The
//! server wraps every request body in a [`LimitedBody`]; handlers read it
//! with [`RequestBody`] (or [`read_body`]) and get a precise status when a
//! limit is hit: 413 too large, 408 too slow, 400 cut off.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The limits on one request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Most bytes (`http_rqbody_max_size`).
    pub max_size: u64,
    /// Time allowed from the end of the request head (`http_rqbody_timeout`).
    pub timeout: Duration,
}

/// Why a request body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// More bytes than the limit.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not received within the time limit.
    #[error("request body not received within {0:?}")]
    TimedOut(Duration),
    /// The client broke off or sent a malformed body.
    #[error("request body broken off: {0}")]
    Broken(String),
}

impl BodyError {
    /// The status that tells the client: 413, 408 or 400.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Broken(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for BodyError {
    /// The status with the reason as text. (The server closes an HTTP/1
    /// connection after 408 and 413: the rest of the body is not read.)
    fn into_response(self) -> Response {
        (self.status(), format!("{self}\n")).into_response()
    }
}

/// A request body that enforces [`BodyLimits`] while it is read.
pub struct LimitedBody {
    inner: Body,
    limits: BodyLimits,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl LimitedBody {
    /// Wraps `inner`; the time limit starts now. Needs a tokio runtime.
    pub fn new(inner: Body, limits: BodyLimits) -> LimitedBody {
        LimitedBody {
            inner,
            limits,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + limits.timeout)),
        }
    }
}

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    if this.received > this.limits.max_size {
                        return Poll::Ready(Some(Err(BodyError::TooLarge {
                            limit: this.limits.max_size,
                        })));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::Broken(e.to_string())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::TimedOut(this.limits.timeout)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The [`BodyError`] inside an error of a body read through axum (which
/// boxes the body's error), or `Broken` for any other error.
pub fn body_error(error: axum::Error) -> BodyError {
    let inner = error.into_inner();
    match inner.downcast::<BodyError>() {
        Ok(e) => *e,
        Err(other) => {
            // hyper reports the client going away as its own error type.
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(other.as_ref());
            while let Some(e) = source {
                if let Some(found) = e.downcast_ref::<BodyError>() {
                    return found.clone();
                }
                source = e.source();
            }
            BodyError::Broken(other.to_string())
        }
    }
}

/// Reads a whole request body within the server's limits.
pub async fn read_body(body: Body) -> Result<Bytes, BodyError> {
    body.collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(body_error)
}

/// The whole request body, read within the server's limits; a limit hit
/// answers 413, 408 or 400 instead of reaching the handler.
#[derive(Debug, Clone)]
pub struct RequestBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RequestBody {
    type Rejection = BodyError;

    async fn from_request(req: Request, _: &S) -> Result<Self, BodyError> {
        read_body(req.into_body()).await.map(RequestBody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::convert::Infallible;

    fn limits(max_size: u64, timeout: Duration) -> BodyLimits {
        BodyLimits { max_size, timeout }
    }

    #[tokio::test]
    async fn a_body_within_the_limits_arrives_whole() {
        let body = Body::new(LimitedBody::new(
            Body::from("hello world"),
            limits(11, Duration::from_secs(5)),
        ));
        assert_eq!(read_body(body).await, Ok(Bytes::from("hello world")));
    }

    #[tokio::test]
    async fn one_byte_over_the_limit_is_too_large() {
        let body = Body::new(LimitedBody::new(
            Body::from("hello world!"),
            limits(11, Duration::from_secs(5)),
        ));
        let err = read_body(body).await.unwrap_err();
        assert_eq!(err, BodyError::TooLarge { limit: 11 });
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    /// A body whose frames come from a channel, so a test can stall it.
    struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

    impl http_body::Body for ChannelBody {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.get_mut()
                .0
                .poll_recv(cx)
                .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_times_out_with_408() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.send(Bytes::from("part")).await.unwrap();
        let body = Body::new(LimitedBody::new(
            Body::new(ChannelBody(rx)),
            limits(1000, Duration::from_secs(3)),
        ));
        let err = read_body(body).await.unwrap_err();
        assert_eq!(err, BodyError::TimedOut(Duration::from_secs(3)));
        assert_eq!(err.status(), StatusCode::REQUEST_TIMEOUT);
        drop(tx);
    }
}
