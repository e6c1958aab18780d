//! IDLE (RFC 2177): wait for `DONE` while reporting changes of the
//! selected mailbox as their hints arrive, and check the mailbox every
//! `imap_idle_check_interval` in case hints are lost (event service down).

use super::{End, Flow, Session};
use crate::backend::{Backend, StoreEvent};
use groxide_imap_proto::{ResponseCode, Status, Tag, parse_idle_done};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// What woke the IDLE loop.
enum Wake {
    Input(std::io::Result<usize>),
    Hint(bool),
    Check,
    Timeout,
    Shutdown,
}

impl<B: Backend> Session<'_, B> {
    pub(super) async fn idle(&mut self, tag: &Tag) -> Flow {
        if self.login.is_none() {
            self.tagged(tag, Status::Bad, None, "Log in first");
            return Ok(());
        }
        // Report what is already known, then wait.
        self.sync_selected(true, true).await?;
        self.conn.out().extend_from_slice(b"+ idling\r\n");
        self.conn.flush().await?;
        self.conn.release_buffers();
        let deadline = Instant::now() + self.settings.autologout;
        let check_every = self.settings.idle_check_interval;
        let shutdown = self.server.shutdown_token();
        loop {
            match self.rx.next_line() {
                Ok(Some(line)) => {
                    let done = parse_idle_done(line).is_ok();
                    if done {
                        self.sync_selected(true, false).await?;
                        self.tagged(tag, Status::Ok, None, "IDLE terminated");
                    } else {
                        self.tagged(tag, Status::Bad, None, "Expected DONE");
                    }
                    return Ok(());
                }
                Ok(None) => {}
                Err(e) => {
                    self.tagged(tag, Status::Bad, None, &e.message());
                    return Ok(());
                }
            }
            let selected_folder = self.selected.as_ref().map(|s| s.folder);
            let own = self
                .selected
                .as_ref()
                .map(|s| s.own_changes.clone())
                .unwrap_or_default();
            let wake = {
                let Session {
                    conn, rx, watch, ..
                } = &mut *self;
                let hint = async {
                    match (watch.as_mut(), selected_folder) {
                        (Some(w), Some(folder)) => match w.recv().await {
                            Ok(StoreEvent::Changed {
                                folder: f,
                                change_number,
                            }) => (f == folder || f == 0) && !own.contains(&change_number),
                            Ok(StoreEvent::Resync) | Err(RecvError::Lagged(_)) => true,
                            Err(RecvError::Closed) => {
                                // No more hints: rely on the periodic check.
                                std::future::pending::<()>().await;
                                false
                            }
                        },
                        _ => std::future::pending().await,
                    }
                };
                let mut sink = |b: &[u8]| rx.feed(b);
                tokio::select! {
                    _ = shutdown.cancelled() => Wake::Shutdown,
                    _ = tokio::time::sleep_until(deadline) => Wake::Timeout,
                    _ = tokio::time::sleep(check_every) => Wake::Check,
                    relevant = hint => Wake::Hint(relevant),
                    n = conn.read(&mut sink) => Wake::Input(n),
                }
            };
            match wake {
                Wake::Input(Ok(0)) => return Err(End::Closed),
                Wake::Input(Ok(_)) => {}
                Wake::Input(Err(e)) => return Err(End::Io(e)),
                Wake::Hint(false) => {}
                Wake::Hint(true) | Wake::Check => {
                    if let Some(s) = self.selected.as_mut() {
                        s.dirty = true;
                    }
                    self.sync_selected(true, false).await?;
                    self.conn.flush().await?;
                }
                Wake::Timeout => return self.bye_plain("Autologout; idle for too long").await,
                Wake::Shutdown => {
                    return self.bye(ResponseCode::Unavailable, "shutting down").await;
                }
            }
        }
    }
}
