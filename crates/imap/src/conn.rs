//! One client connection's bytes: the stream (plain, TLS, or any stream a
//! test supplies), the output buffer the session writes responses into,
//! and COMPRESS=DEFLATE (RFC 4978) as a layer between the two.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Read buffer of a connection waiting for its client: an idle session
/// (thousands of them in IDLE) should cost kilobytes.
const READ_SMALL: usize = 1024;
/// Largest read buffer: a read that fills the buffer doubles it up to
/// this, so bulk input (APPEND literals) takes few system calls.
const READ_LARGE: usize = 64 * 1024;
/// Output is sent once this much is buffered (and at the end of a command).
pub const FLUSH_THRESHOLD: usize = 64 * 1024;
/// Buffers grown beyond this are released after use.
const KEEP_CAPACITY: usize = 128 * 1024;
/// Output buffer kept while waiting for the client.
const IDLE_CAPACITY: usize = 4 * 1024;

/// A byte stream a session can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A boxed [`Io`] (STARTTLS replaces the stream under a running session).
pub type BoxedIo = Box<dyn Io>;

/// The DEFLATE state of a compressed connection.
struct Deflate {
    compress: Compress,
    decompress: Decompress,
    /// Compressed bytes waiting to be written, or compressed input waiting to be inflated.
    scratch: Vec<u8>,
}

/// A connection: stream, output buffer, optional compression.
pub struct Conn {
    stream: Option<BoxedIo>,
    out: Vec<u8>,
    /// Its length is the read size: between [`READ_SMALL`] and [`READ_LARGE`].
    read_buf: Vec<u8>,
    deflate: Option<Box<Deflate>>,
}

impl Conn {
    /// A connection over `stream`.
    pub fn new(stream: BoxedIo) -> Conn {
        Conn {
            stream: Some(stream),
            out: Vec::new(),
            read_buf: vec![0; READ_SMALL],
            deflate: None,
        }
    }

    fn stream(&mut self) -> io::Result<&mut BoxedIo> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "connection closed"))
    }

    /// The output buffer: responses are appended here and sent by
    /// [`Conn::flush`].
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// True when COMPRESS is active.
    pub fn compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// Reads what the client sent, decompressed, and hands it to `sink`.
    /// Returns 0 at end of stream. Cancel-safe: nothing is lost when the
    /// future is dropped before it completes.
    pub async fn read(&mut self, sink: &mut (dyn FnMut(&[u8]) + Send)) -> io::Result<usize> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "connection closed",
            ));
        };
        // Borrowing (not taking) the buffer keeps this cancel-safe.
        let n = stream.read(&mut self.read_buf).await?;
        if n == 0 {
            return Ok(0);
        }
        match self.deflate.as_mut() {
            None => sink(&self.read_buf[..n]),
            Some(d) => inflate(d, &self.read_buf[..n], sink)?,
        }
        let len = self.read_buf.len();
        if n == len && len < READ_LARGE {
            // The client sends faster than we read: read more at a time.
            self.read_buf = vec![0; len * 2];
        } else if n < len / 4 && len > READ_SMALL {
            // The burst is over (a command line, the end of a literal).
            self.read_buf = vec![0; READ_SMALL];
        }
        Ok(n)
    }

    /// Sends the output buffer (compressed when COMPRESS is active).
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let result = self.send(&out).await;
        self.out = out;
        self.out.clear();
        if self.out.capacity() > KEEP_CAPACITY {
            self.out = Vec::new();
        }
        result
    }

    /// Gives back output memory while the session waits for its client
    /// (an idle connection should cost kilobytes, not its largest answer).
    pub fn release_buffers(&mut self) {
        if self.out.is_empty() && self.out.capacity() > IDLE_CAPACITY {
            self.out = Vec::new();
        }
        if let Some(d) = self.deflate.as_mut()
            && d.scratch.capacity() > IDLE_CAPACITY
        {
            d.scratch = Vec::new();
        }
    }

    /// Flushes when enough output is buffered.
    pub async fn flush_if_full(&mut self) -> io::Result<()> {
        if self.out.len() >= FLUSH_THRESHOLD {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Sends `bytes` after what is buffered (streamed message data);
    /// large pieces go out without another copy.
    pub async fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.out.len() + bytes.len() < FLUSH_THRESHOLD {
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        self.flush().await?;
        self.send(bytes).await
    }

    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.deflate.as_mut() {
            None => {
                let stream = self.stream()?;
                stream.write_all(bytes).await?;
                stream.flush().await
            }
            Some(d) => {
                deflate(d, bytes)?;
                let compressed = std::mem::take(&mut d.scratch);
                let stream = self.stream()?;
                let result = async {
                    stream.write_all(&compressed).await?;
                    stream.flush().await
                }
                .await;
                if let Some(d) = self.deflate.as_mut() {
                    d.scratch = compressed;
                    d.scratch.clear();
                    if d.scratch.capacity() > KEEP_CAPACITY {
                        d.scratch = Vec::new();
                    }
                }
                result
            }
        }
    }

    /// Starts DEFLATE in both directions; `pending` is input that arrived
    /// after the COMPRESS command (already compressed) and goes to `sink`.
    pub fn start_compression(
        &mut self,
        pending: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()> {
        let mut d = Box::new(Deflate {
            // Raw DEFLATE without zlib header, as RFC 4978 requires.
            compress: Compress::new(Compression::fast(), false),
            decompress: Decompress::new(false),
            scratch: Vec::new(),
        });
        if !pending.is_empty() {
            inflate(&mut d, pending, sink)?;
        }
        self.deflate = Some(d);
        Ok(())
    }

    /// Takes the stream out (STARTTLS wraps it); the connection must get
    /// it back through [`Conn::set_stream`] before further I/O.
    pub fn take_stream(&mut self) -> Option<BoxedIo> {
        self.stream.take()
    }

    /// Puts a (new) stream in.
    pub fn set_stream(&mut self, stream: BoxedIo) {
        self.stream = Some(stream);
    }

    /// Closes the write side (after BYE).
    pub async fn shutdown(&mut self) {
        if let Ok(stream) = self.stream() {
            let _ = stream.shutdown().await;
        }
    }
}

/// Inflates `input` into `sink`, in bounded pieces.
fn inflate(d: &mut Deflate, mut input: &[u8], sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let before_in = d.decompress.total_in();
        let before_out = d.decompress.total_out();
        let status = d
            .decompress
            .decompress(input, &mut chunk, FlushDecompress::Sync)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let used = (d.decompress.total_in() - before_in) as usize;
        let produced = (d.decompress.total_out() - before_out) as usize;
        input = &input[used.min(input.len())..];
        if produced > 0 {
            sink(&chunk[..produced]);
        }
        if status == Status::StreamEnd {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "compressed stream ended",
            ));
        }
        // Done when the input is used up and the output buffer was not filled.
        if input.is_empty() && produced < chunk.len() {
            return Ok(());
        }
        if used == 0 && produced == 0 {
            return Ok(());
        }
    }
}

/// Deflates `input` into `d.scratch` and ends with a sync flush, so the
/// client can decode everything sent so far.
fn deflate(d: &mut Deflate, mut input: &[u8]) -> io::Result<()> {
    loop {
        if d.scratch.capacity() - d.scratch.len() < 1024 {
            d.scratch.reserve(input.len() / 2 + 4096);
        }
        let before_in = d.compress.total_in();
        d.compress
            .compress_vec(input, &mut d.scratch, FlushCompress::Sync)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let used = (d.compress.total_in() - before_in) as usize;
        input = &input[used.min(input.len())..];
        // The flush is complete when input is consumed and space was left over.
        if input.is_empty() && d.scratch.capacity() > d.scratch.len() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bulk input is read in large pieces, and a connection that goes back
    /// to waiting (IDLE) holds a small buffer again.
    #[tokio::test]
    async fn read_buffer_grows_for_bulk_input_and_shrinks_when_waiting() {
        let (mut client, server) = tokio::io::duplex(256 * 1024);
        let mut conn = Conn::new(Box::new(server));
        assert_eq!(conn.read_buf.len(), READ_SMALL);
        let literal = vec![b'x'; 200 * 1024];
        client.write_all(&literal).await.unwrap();
        let (mut got, mut reads, mut largest) = (Vec::new(), 0, 0);
        while got.len() < literal.len() {
            conn.read(&mut |b| got.extend_from_slice(b)).await.unwrap();
            reads += 1;
            largest = largest.max(conn.read_buf.len());
        }
        assert_eq!(got, literal);
        assert_eq!(largest, READ_LARGE, "bulk input reads 64 KiB at a time");
        assert!(reads < 12, "200 KiB took {reads} reads");
        client.write_all(b"a1 IDLE\r\n").await.unwrap();
        let mut line = Vec::new();
        conn.read(&mut |b| line.extend_from_slice(b)).await.unwrap();
        assert_eq!(line, b"a1 IDLE\r\n");
        assert_eq!(
            conn.read_buf.len(),
            READ_SMALL,
            "a waiting connection holds 1 KiB"
        );
    }

    #[test]
    fn deflated_output_inflates_back_across_many_writes() {
        let mut d = Deflate {
            compress: Compress::new(Compression::fast(), false),
            decompress: Decompress::new(false),
            scratch: Vec::new(),
        };
        let mut back = Deflate {
            compress: Compress::new(Compression::fast(), false),
            decompress: Decompress::new(false),
            scratch: Vec::new(),
        };
        let mut received = Vec::new();
        let mut expected = Vec::new();
        for i in 0..50 {
            let text = format!("* {i} FETCH (FLAGS (\\Seen))\r\n").repeat(i * 40 + 1);
            expected.extend_from_slice(text.as_bytes());
            deflate(&mut d, text.as_bytes()).unwrap();
            let compressed = std::mem::take(&mut d.scratch);
            // Feed in odd-sized pieces, as a socket would.
            for piece in compressed.chunks(777) {
                inflate(&mut back, piece, &mut |b| received.extend_from_slice(b)).unwrap();
            }
            assert_eq!(received, expected, "after write {i}");
        }
    }
}
