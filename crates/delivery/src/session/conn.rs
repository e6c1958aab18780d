//! The byte side of a session: a read buffer that yields bounded command
//! lines and DATA chunks, and an output buffer flushed only when the session
//! would wait for input (so pipelined commands get their replies in one
//! write, RFC 2920).

use crate::dot::DotUnstuffer;
use crate::reply::Reply;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Size of the read buffer; also the most DATA decoded in one step.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// What waiting for a command line produced.
#[derive(Debug)]
pub(crate) enum LineEvent {
    /// A complete line, LF included.
    Line(Vec<u8>),
    /// A line longer than the limit; it was read and thrown away.
    TooLong,
    /// The client closed the connection (or it broke).
    Closed,
    /// Nothing arrived within the idle timeout.
    Timeout,
    /// The daemon is shutting down.
    Shutdown,
}

/// Why DATA could not be read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataBroken {
    /// The client went away in the middle of the message.
    Closed,
    /// The client stopped sending within the idle timeout.
    Timeout,
}

/// A connection's buffers around its stream.
pub(crate) struct Conn<S> {
    stream: S,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    out: Vec<u8>,
    idle: Duration,
    broken: bool,
}

enum Filled {
    Bytes,
    Closed,
    Timeout,
    Shutdown,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S, idle: Duration) -> Conn<S> {
        Conn {
            stream,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            out: Vec::with_capacity(1024),
            idle,
            broken: false,
        }
    }

    /// The stream, for the TLS handshake. Buffered input is dropped: commands
    /// pipelined after STARTTLS must not survive it (RFC 3207 §6).
    pub(crate) fn into_stream(self) -> S {
        self.stream
    }

    /// Queues a reply.
    pub(crate) fn reply(&mut self, reply: &Reply) {
        reply.write_line(&mut self.out, false);
    }

    /// Queues raw reply bytes (multi-line replies).
    pub(crate) fn reply_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// True after a read or write failed: the client is gone.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Sends the queued replies. A client that stops reading for the idle
    /// timeout counts as gone.
    pub(crate) async fn flush(&mut self) -> bool {
        if self.broken {
            self.out.clear();
            return false;
        }
        if self.out.is_empty() {
            return true;
        }
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        let ok = matches!(tokio::time::timeout(self.idle, write).await, Ok(Ok(())));
        self.out.clear();
        if !ok {
            self.broken = true;
        }
        ok
    }

    /// Reads more input, waiting at most the idle timeout (and, when given,
    /// until `shutdown`). Queued replies are flushed first.
    async fn fill(&mut self, shutdown: Option<&CancellationToken>) -> Filled {
        if !self.flush().await {
            return Filled::Closed;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let idle = self.idle;
        let never = CancellationToken::new();
        let cancelled = shutdown.unwrap_or(&never);
        let outcome = {
            let read = self.stream.read(&mut self.buf[self.end..]);
            tokio::select! {
                r = tokio::time::timeout(idle, read) => Some(r),
                _ = cancelled.cancelled() => None,
            }
        };
        match outcome {
            None => Filled::Shutdown,
            Some(Err(_)) => Filled::Timeout,
            Some(Ok(Ok(0)) | Ok(Err(_))) => {
                self.broken = true;
                Filled::Closed
            }
            Some(Ok(Ok(n))) => {
                self.end += n;
                Filled::Bytes
            }
        }
    }

    /// The next command line, at most `max` bytes with its line end. A longer
    /// line is consumed to its end without being kept.
    pub(crate) async fn next_line(
        &mut self,
        max: usize,
        shutdown: &CancellationToken,
    ) -> LineEvent {
        let max = max.min(READ_BUFFER);
        let mut discarding = false;
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line_end = self.start + pos + 1;
                let too_long = discarding || pos + 1 > max;
                let line = (!too_long).then(|| self.buf[self.start..line_end].to_vec());
                self.start = line_end;
                return match line {
                    Some(l) => LineEvent::Line(l),
                    None => LineEvent::TooLong,
                };
            }
            if discarding || pending.len() >= max {
                discarding = true;
                self.start = self.end;
            }
            // Shutdown only interrupts a session that is between commands.
            let between_commands = !discarding && self.start == self.end;
            match self.fill(between_commands.then_some(shutdown)).await {
                Filled::Bytes => {}
                Filled::Closed => return LineEvent::Closed,
                Filled::Timeout => return LineEvent::Timeout,
                Filled::Shutdown => return LineEvent::Shutdown,
            }
        }
    }

    /// Decodes the next piece of DATA into `decoded` (at most one buffer's
    /// worth). Returns whether the end of the message was reached.
    pub(crate) async fn next_data(
        &mut self,
        decoder: &mut DotUnstuffer,
        decoded: &mut Vec<u8>,
    ) -> Result<bool, DataBroken> {
        loop {
            if self.start < self.end {
                let fed = decoder.feed(&self.buf[self.start..self.end], decoded);
                self.start += fed.consumed;
                return Ok(fed.done);
            }
            match self.fill(None).await {
                Filled::Bytes => {}
                Filled::Closed | Filled::Shutdown => return Err(DataBroken::Closed),
                Filled::Timeout => return Err(DataBroken::Timeout),
            }
        }
    }
}
