//! The content streams of the exmdb service: the InsertMessage stream in
//! (chunks staged, fsynced, then inserted), ReadContent and ReadAttachment out.

use super::{ExmdbService, MAX_CHUNK, STREAM_BUFFER, Stream2, blocking};
use crate::convert;
use crate::errors::to_status;
use crate::streaming::copy_chunks;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store::{self as st, StoreError};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// What the insert stream hands the blocking writer.
enum Feed {
    Chunk(Vec<u8>),
    End,
}

impl ExmdbService {
    pub(super) async fn insert_message_impl(
        &self,
        r: Request<Streaming<pb::InsertMessageRequest>>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        use pb::insert_message_request::Part;
        let mut stream = r.into_inner();
        let header = match stream.message().await? {
            Some(pb::InsertMessageRequest {
                part: Some(Part::Header(h)),
            }) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "InsertMessage must start with a header",
                ));
            }
        };
        let path = self.local_dir(&header.dir).await?;
        let folder = convert::folder_ref(header.folder.as_ref())?;
        let new = st::NewMessage {
            flags: convert::flags(header.flags)?,
            keywords: st::flags::normalize_keywords(&header.keywords).map_err(to_status)?,
            internal_date: convert::internal_date(header.internal_date),
        };
        let max = self.stores.limits().max_message_size;
        if header.expected_size > max {
            return Err(to_status(StoreError::TooLarge {
                size: header.expected_size,
                max,
            }));
        }
        let expected = header.expected_size;
        let stores = self.stores.clone();
        // Chunks go to a blocking writer through a short queue: never the whole message in memory.
        let (tx, mut rx) = mpsc::channel::<Feed>(4);
        let writer =
            tokio::task::spawn_blocking(move || -> Result<st::InsertedMessage, StoreError> {
                let store = stores.open(&path)?;
                let mut w = store.stage_content()?;
                loop {
                    match rx.blocking_recv() {
                        Some(Feed::Chunk(chunk)) => w.write_chunk(&chunk)?,
                        Some(Feed::End) => break,
                        // The stream broke off: drop the staging file, store nothing.
                        None => {
                            return Err(StoreError::InvalidArgument(
                                "the message stream ended early".into(),
                            ));
                        }
                    }
                }
                let staged = w.finish()?;
                store.insert_mime(folder, staged, new)
            });
        let mut feed_error = None;
        let mut received: u64 = 0;
        loop {
            match stream.message().await {
                Ok(Some(pb::InsertMessageRequest {
                    part: Some(Part::Chunk(c)),
                })) => {
                    if c.len() > MAX_CHUNK {
                        feed_error = Some(Status::invalid_argument(format!(
                            "chunks are at most {MAX_CHUNK} bytes"
                        )));
                        break;
                    }
                    received += c.len() as u64;
                    if tx.send(Feed::Chunk(c)).await.is_err() {
                        // The writer stopped (too large, store error): its result says why.
                        break;
                    }
                }
                Ok(Some(pb::InsertMessageRequest {
                    part: Some(Part::Trailer(t)),
                })) => {
                    if t.size != received {
                        feed_error = Some(Status::invalid_argument(format!(
                            "the trailer announces {} bytes but {received} arrived",
                            t.size
                        )));
                    } else if expected != 0 && expected != received {
                        feed_error = Some(Status::invalid_argument(format!(
                            "the message was announced with {expected} bytes but has {received}"
                        )));
                    } else {
                        let _ = tx.send(Feed::End).await;
                    }
                    break;
                }
                Ok(None) => {
                    feed_error = Some(Status::invalid_argument(
                        "the message stream ended without a trailer",
                    ));
                    break;
                }
                Ok(Some(_)) => {
                    feed_error = Some(Status::invalid_argument(
                        "only the first message may be a header",
                    ));
                    break;
                }
                Err(e) => {
                    feed_error = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = feed_error {
            // Closing the queue without End makes the writer drop its staging file.
            drop(tx);
            let _ = writer.await;
            return Err(e);
        }
        drop(tx);
        let ins = writer
            .await
            .map_err(|e| Status::internal(format!("insert task failed: {e}")))?
            .map_err(to_status)?;
        tracing::debug!(
            dir = header.dir,
            folder = ins.folder.0,
            uid = ins.uid.0,
            "message inserted"
        );
        Ok(Response::new(convert::inserted(ins)))
    }

    pub(super) async fn read_content_impl(
        &self,
        r: Request<pb::ReadContentRequest>,
    ) -> Result<Response<Stream2<pb::ContentChunk>>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let (offset, length) = (r.offset, (r.length != 0).then_some(r.length));
        // Open first, so a missing message is the call's error, not a stream item.
        let path = self.local_dir(&r.dir).await?;
        let stores = self.stores.clone();
        let content = blocking(move || stores.open(&path)?.content(id)).await?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::task::spawn_blocking(move || {
            let total = content.len();
            let res = content
                .reader(offset, length)
                .and_then(|rd| copy_chunks(rd, total, &tx));
            if let Err(e) = res {
                let _ = tx.blocking_send(Err(to_status(e)));
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    pub(super) async fn read_attachment_impl(
        &self,
        r: Request<pb::ReadAttachmentRequest>,
    ) -> Result<Response<Stream2<pb::ContentChunk>>, Status> {
        let r = r.into_inner();
        let (id, pos) = (st::MessageId(r.message_id), r.position);
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let rd = s.attachment_content(id, pos)?;
                copy_chunks(rd, 0, tx)
            })
            .await?;
        Ok(Response::new(s))
    }
}
