//! Streaming answers of the exmdb service: listings gathered into chunks
//! of [`LIST_BATCH`] items, content copied out in chunks of
//! [`READ_CHUNK`] bytes.

use crate::service::READ_CHUNK;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store::StoreError;
use tokio::sync::mpsc;
use tonic::Status;

pub(crate) fn send<T>(tx: &mpsc::Sender<Result<T, Status>>, item: T) -> bool {
    tx.blocking_send(Ok(item)).is_ok()
}

/// Items of a listing per stream message: one message per item cost a
/// thread wake-up, an HTTP/2 frame and a decode each.
pub(crate) const LIST_BATCH: usize = 256;

/// Gathers a listing's items into chunks of [`LIST_BATCH`] for the stream.
pub(crate) struct Batcher<'a, T, C> {
    tx: &'a mpsc::Sender<Result<C, Status>>,
    items: Vec<T>,
    wrap: fn(Vec<T>) -> C,
}

impl<'a, T, C> Batcher<'a, T, C> {
    pub(crate) fn new(tx: &'a mpsc::Sender<Result<C, Status>>, wrap: fn(Vec<T>) -> C) -> Self {
        Batcher {
            tx,
            items: Vec::new(),
            wrap,
        }
    }

    /// Adds one item; false once the receiver has gone.
    pub(crate) fn push(&mut self, item: T) -> bool {
        self.items.push(item);
        self.items.len() < LIST_BATCH || self.flush()
    }

    /// Sends what is gathered (nothing when empty); false once the receiver has gone.
    pub(crate) fn flush(&mut self) -> bool {
        if self.items.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.items, Vec::with_capacity(LIST_BATCH));
        send(self.tx, (self.wrap)(chunk))
    }

    /// The items not sent yet, for a last chunk the caller completes.
    pub(crate) fn into_rest(self) -> Vec<T> {
        self.items
    }
}

pub(crate) fn copy_chunks(
    mut r: impl std::io::Read,
    total: u64,
    tx: &mpsc::Sender<Result<pb::ContentChunk, Status>>,
) -> Result<(), StoreError> {
    let mut first = true;
    loop {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut n = 0;
        while n < READ_CHUNK {
            match r.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(StoreError::Io {
                        op: "read",
                        path: "content".into(),
                        source: e,
                    });
                }
            }
        }
        if n == 0 && !first {
            return Ok(());
        }
        buf.truncate(n);
        let chunk = pb::ContentChunk {
            data: buf,
            total_size: if first { total } else { 0 },
        };
        first = false;
        if !send(tx, chunk) || n < READ_CHUNK {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_go_out_in_full_chunks_in_order_and_the_rest_at_the_end() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut out = Batcher::new(&tx, |v: Vec<u32>| v);
        for i in 0..600u32 {
            assert!(out.push(i));
        }
        assert!(out.flush());
        assert!(out.flush(), "an empty flush sends nothing");
        drop(tx);
        let mut chunks = Vec::new();
        while let Ok(c) = rx.try_recv() {
            chunks.push(c.unwrap());
        }
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![LIST_BATCH, LIST_BATCH, 600 - 2 * LIST_BATCH]);
        assert_eq!(chunks.concat(), (0..600).collect::<Vec<_>>());
    }

    #[test]
    fn a_listing_stops_once_its_reader_is_gone() {
        let (tx, rx) = mpsc::channel(16);
        drop(rx);
        let mut out = Batcher::new(&tx, |v: Vec<u32>| v);
        let accepted = (0..LIST_BATCH as u32).take_while(|i| out.push(*i)).count();
        assert_eq!(
            accepted,
            LIST_BATCH - 1,
            "the first full chunk finds no reader"
        );
    }
}
