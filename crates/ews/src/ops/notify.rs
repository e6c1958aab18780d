//! Subscribe, GetEvents, Unsubscribe and GetStreamingEvents over the
//! subscriptions of [`crate::notifications`].
//!
//! GetEvents acknowledges the events up to the watermark it is given and
//! answers the next ones (at most [`NotificationLimits::per_answer`], with
//! `MoreEvents`), so an answer lost on the way is answered again.
//! GetStreamingEvents keeps the HTTP response open for `ConnectionTimeout`
//! minutes: one SOAP envelope per chunk, with the events as the store
//! shows them after each hint of groxide-event (and after
//! [`NotificationLimits::recheck`] without one), a keep-alive envelope
//! (`ConnectionStatus` `OK`) when nothing happened for
//! [`NotificationLimits::keep_alive`], and `Closed` at the end. A second
//! connection for a subscription ends the first.

use super::refuse;
use crate::Ews;
use crate::mailbox::Mailbox;
use crate::notifications::{
    EventKinds, Mode, NotificationLimits, Scope, StoreMark, Subscription, SubscriptionState, diff,
    parse_watermark, unix_now, watermark, write_notification,
};
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::soap;
use crate::xml::{Element, EwsElement, NS_MESSAGES, NS_TYPES, XmlWriter};
use groxide_http_core::Principal;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The longest `Timeout` of a pull subscription (the schema's, minutes).
const MAX_PULL_TIMEOUT: u64 = 1440;
/// The longest `ConnectionTimeout` of a streaming connection (minutes).
const MAX_CONNECTION_TIMEOUT: u64 = 30;

/// A child of `e` named `name` in either EWS namespace (clients disagree
/// about `Watermark`).
fn either<'e>(e: &'e Element, name: &str) -> Option<&'e Element> {
    e.t(name).or_else(|| e.m(name))
}

/// The subscription a `Subscribe` asks for: scope, event types, mode.
async fn requested(
    mb: &mut Mailbox<'_>,
    op: &Element,
) -> Result<(Scope, EventKinds, Mode), EwsError> {
    let (request, streaming) = if let Some(r) = op.m("PullSubscriptionRequest") {
        (r, false)
    } else if let Some(r) = op.m("StreamingSubscriptionRequest") {
        (r, true)
    } else if op.m("PushSubscriptionRequest").is_some() {
        return Err(EwsError::unsupported(
            "push notifications (use pull or streaming subscriptions)",
        ));
    } else {
        return Err(EwsError::invalid("no subscription request"));
    };
    let all = matches!(request.attr("SubscribeToAllFolders"), Some("true" | "1"));
    let scope = if all {
        Scope::All
    } else {
        let ids = request
            .t("FolderIds")
            .map(|f| f.children.as_slice())
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(EwsError::invalid(
                "FolderIds is missing and SubscribeToAllFolders is not set",
            ));
        }
        let mut folders = Vec::new();
        for id in ids {
            folders.push(mb.resolve_folder(id).await?.id);
        }
        Scope::Folders(folders)
    };
    let mut kinds = EventKinds::default();
    for t in request
        .t("EventTypes")
        .map(|e| e.children.as_slice())
        .unwrap_or_default()
    {
        kinds.add(t.text.trim())?;
    }
    if kinds == EventKinds::default() && request.t("EventTypes").is_none() {
        return Err(EwsError::invalid("EventTypes is missing"));
    }
    if either(request, "Watermark").is_some_and(|w| !w.text.trim().is_empty()) {
        // Events before the subscription are not kept anywhere.
        return Err(EwsError::new(
            ResponseCode::ErrorInvalidWatermark,
            "this server cannot resume a subscription from a watermark; subscribe without one",
        ));
    }
    let mode = if streaming {
        Mode::Streaming
    } else {
        let minutes = request
            .t_text("Timeout")
            .ok_or_else(|| EwsError::invalid("Timeout is missing"))?
            .parse::<u64>()
            .ok()
            .filter(|m| (1..=MAX_PULL_TIMEOUT).contains(m))
            .ok_or_else(|| EwsError::invalid("Timeout must be 1 to 1440 minutes"))?;
        Mode::Pull {
            timeout: Duration::from_secs(minutes * 60),
        }
    };
    Ok((scope, kinds, mode))
}

pub(crate) async fn subscribe(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r = async {
        let (scope, kinds, mode) = requested(mb, op).await?;
        mb.folders_changed();
        let mark = StoreMark::of(mb.folders().await?);
        mb.module()
            .subscriptions
            .add(&mb.dir, scope, kinds, mode, mark)
    }
    .await;
    write_messages(w, "Subscribe", &[r], |w, s| {
        w.leaf("m:SubscriptionId", &s.id);
        if matches!(s.mode, Mode::Pull { .. }) {
            w.leaf("m:Watermark", &watermark(0));
        }
    });
}

pub(crate) async fn unsubscribe(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r = async {
        let id = op
            .m("SubscriptionId")
            .map(|e| e.text.trim())
            .ok_or_else(|| EwsError::invalid("SubscriptionId is missing"))?;
        let subs = &mb.module().subscriptions;
        subs.get(id, &mb.dir)?;
        subs.remove(id);
        Ok(())
    }
    .await;
    write_messages(w, "Unsubscribe", &[r], |_, _| {});
}

/// Looks at the store and adds what changed since the subscription's mark
/// to its pending events; false when the subscription overflowed.
async fn look(
    mb: &mut Mailbox<'_>,
    sub: &Subscription,
    state: &mut SubscriptionState,
    limits: &NotificationLimits,
) -> Result<bool, EwsError> {
    let store = mb.guid().await?;
    mb.folders_changed();
    let folders = mb.folders().await?.to_vec();
    let mut changes = HashMap::new();
    for (id, since) in state.mark.wanted(&folders) {
        match mb.changes(id, since).await {
            Ok(c) => {
                changes.insert(id, c);
            }
            // Deleted since the listing: the next look reports it.
            Err(e) if e.code == ResponseCode::ErrorFolderNotFound => {}
            Err(e) => return Err(e),
        }
    }
    let ews = mb.module();
    let copied = |message: u64| ews.copies.source(&mb.dir, message);
    let (found, mark) = diff(&state.mark, &folders, &changes, store, &copied);
    Ok(sub.take(state, found, mark, unix_now(), limits.pending))
}

fn missed(subs: &crate::notifications::Subscriptions, sub: &Subscription) -> EwsError {
    subs.remove(&sub.id);
    EwsError::new(
        ResponseCode::ErrorMissedNotificationEvents,
        "too many events were waiting; the subscription ended, subscribe again and resynchronise",
    )
}

struct Batch {
    store: [u8; 16],
    id: String,
    previous: u64,
    more: bool,
    events: Vec<crate::notifications::Event>,
}

pub(crate) async fn get_events(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r = async {
        let id = op
            .m("SubscriptionId")
            .map(|e| e.text.trim().to_string())
            .ok_or_else(|| EwsError::invalid("SubscriptionId is missing"))?;
        let mark = op
            .m("Watermark")
            .map(|e| e.text.as_str())
            .ok_or_else(|| EwsError::invalid("Watermark is missing"))?;
        let acknowledged = parse_watermark(mark)?;
        let ews = mb.module();
        let limits = ews.subscriptions.limits();
        let sub = ews.subscriptions.get(&id, &mb.dir)?;
        let Mode::Pull { timeout } = sub.mode else {
            return Err(EwsError::new(
                ResponseCode::ErrorInvalidPullSubscriptionId,
                "a streaming subscription is read with GetStreamingEvents",
            ));
        };
        sub.touch(timeout);
        let mut state = sub.state.lock().await;
        if state.missed {
            return Err(missed(&ews.subscriptions, &sub));
        }
        let oldest = state
            .pending
            .front()
            .map(|e| e.seq - 1)
            .unwrap_or(state.seq);
        if acknowledged > state.seq || acknowledged < oldest {
            return Err(EwsError::new(
                ResponseCode::ErrorInvalidWatermark,
                "the watermark is not one of this subscription's recent ones",
            ));
        }
        while state.pending.front().is_some_and(|e| e.seq <= acknowledged) {
            state.pending.pop_front();
        }
        if !look(mb, &sub, &mut state, &limits).await? {
            return Err(missed(&ews.subscriptions, &sub));
        }
        let start = match state.paging {
            Some((asked, sent)) if asked == acknowledged => sent,
            _ => acknowledged,
        };
        let events: Vec<_> = state
            .pending
            .iter()
            .filter(|e| e.seq > start)
            .take(limits.per_answer)
            .cloned()
            .collect();
        let last = events.last().map_or(start, |e| e.seq);
        let more = state.pending.back().is_some_and(|e| e.seq > last);
        state.paging = more.then_some((acknowledged, last));
        Ok(Batch {
            store: mb.guid().await?,
            id,
            previous: start,
            more,
            events,
        })
    }
    .await;
    write_messages(w, "GetEvents", &[r], |w, b| {
        w.open("m:Notification", &[]);
        write_notification(w, b.store, &b.id, b.previous, b.more, &b.events);
        w.close();
    });
}

/// A finished envelope holding one `GetStreamingEventsResponseMessage`.
fn streaming_document(body: impl FnOnce(&mut XmlWriter)) -> String {
    let mut w = XmlWriter::new();
    soap::open_envelope(&mut w);
    w.open("m:GetStreamingEventsResponse", &[])
        .open("m:ResponseMessages", &[]);
    body(&mut w);
    w.finish()
}

fn status_document(open: bool) -> String {
    streaming_document(|w| {
        w.open(
            "m:GetStreamingEventsResponseMessage",
            &[("ResponseClass", "Success")],
        )
        .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
        .leaf("m:ConnectionStatus", if open { "OK" } else { "Closed" });
    })
}

fn error_document(e: &EwsError, ids: &[String]) -> String {
    streaming_document(|w| {
        w.open(
            "m:GetStreamingEventsResponseMessage",
            &[("ResponseClass", "Error")],
        )
        .leaf("m:MessageText", &e.message)
        .leaf("m:ResponseCode", e.code.as_str())
        .leaf("m:DescriptiveLinkKey", "0");
        if !ids.is_empty() {
            w.open("m:ErrorSubscriptionIds", &[]);
            for id in ids {
                w.leaf("m:SubscriptionId", id);
            }
            w.close();
        }
        w.leaf("m:ConnectionStatus", "Closed");
    })
}

/// What a GetStreamingEvents request names: its subscriptions (checked)
/// and how long the connection stays open.
pub(crate) struct StreamRequest {
    subscriptions: Vec<Arc<Subscription>>,
    timeout: Duration,
}

/// Checks a GetStreamingEvents request; an error is the whole (short) answer.
pub(crate) fn stream_request(
    ews: &Ews,
    principal: &Principal,
    op: &Element,
) -> Result<StreamRequest, String> {
    let ids: Vec<String> = op
        .m("SubscriptionIds")
        .map(|l| {
            l.children
                .iter()
                .filter(|c| c.is(NS_TYPES, "SubscriptionId") || c.is(NS_MESSAGES, "SubscriptionId"))
                .map(|c| c.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(error_document(
            &EwsError::invalid("SubscriptionIds is missing"),
            &[],
        ));
    }
    let timeout = op
        .m("ConnectionTimeout")
        .and_then(|t| t.text.trim().parse::<u64>().ok())
        .filter(|m| (1..=MAX_CONNECTION_TIMEOUT).contains(m));
    let Some(minutes) = timeout else {
        return Err(error_document(
            &EwsError::invalid("ConnectionTimeout must be 1 to 30 minutes"),
            &[],
        ));
    };
    let mut subscriptions = Vec::new();
    for id in &ids {
        let s = ews
            .subscriptions
            .get(id, &principal.user.maildir)
            .and_then(|s| match s.mode {
                Mode::Streaming => Ok(s),
                Mode::Pull { .. } => Err(EwsError::new(
                    ResponseCode::ErrorInvalidSubscription,
                    "a pull subscription is read with GetEvents",
                )),
            });
        match s {
            Ok(s) => subscriptions.push(s),
            Err(e) => return Err(error_document(&e, std::slice::from_ref(id))),
        }
    }
    Ok(StreamRequest {
        subscriptions,
        timeout: Duration::from_secs(minutes * 60),
    })
}

/// Writes the envelopes of one streaming connection into `out` until the
/// connection times out, is replaced, one of its subscriptions ends, or
/// the client leaves.
pub(crate) async fn stream(
    ews: Arc<Ews>,
    principal: Principal,
    request: StreamRequest,
    out: tokio::sync::mpsc::Sender<String>,
) {
    let limits = ews.subscriptions.limits();
    let dir = principal.user.maildir.clone();
    let connection: Vec<u64> = request
        .subscriptions
        .iter()
        .map(|s| s.connection.fetch_add(1, Ordering::SeqCst) + 1)
        .collect();
    let deadline = tokio::time::Instant::now() + request.timeout;
    let mut hints = match ews.event_hub() {
        Some(hub) => Some(hub.watch(&dir).await),
        None => None,
    };
    let mut last_sent = tokio::time::Instant::now();
    if out.send(status_document(true)).await.is_err() {
        return;
    }
    loop {
        let replaced = request.subscriptions.iter().zip(&connection).any(|(s, c)| {
            s.connection.load(Ordering::SeqCst) != *c || !ews.subscriptions.has(&s.id)
        });
        if replaced {
            break;
        }
        let mut mb = Mailbox::new(
            &ews,
            &dir,
            &principal.user.username,
            &principal.user.timezone,
        );
        match notifications_of(&mut mb, &request.subscriptions, &limits).await {
            Ok(Some(document)) => {
                if out.send(document).await.is_err() {
                    return;
                }
                last_sent = tokio::time::Instant::now();
            }
            Ok(None) => {}
            Err(e) => {
                let _ = out.send(error_document(&e, &[])).await;
                return;
            }
        }
        for s in &request.subscriptions {
            s.touch(limits.streaming_idle);
        }
        let keep_alive = last_sent + limits.keep_alive;
        let recheck = tokio::time::Instant::now() + limits.recheck;
        let wake = keep_alive.min(recheck).min(deadline);
        let woke_by_hint = match hints.as_mut() {
            Some(rx) => tokio::select! {
                r = rx.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r
                        && let Some(hub) = ews.event_hub()
                    {
                        *rx = hub.watch(&dir).await;
                    }
                    true
                }
                _ = tokio::time::sleep_until(wake) => false,
                _ = out.closed() => return,
            },
            None => tokio::select! {
                _ = tokio::time::sleep_until(wake) => false,
                _ = out.closed() => return,
            },
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        if !woke_by_hint && now >= keep_alive {
            if out.send(status_document(true)).await.is_err() {
                return;
            }
            last_sent = now;
        }
    }
    let _ = out.send(status_document(false)).await;
}

/// One envelope with the new events of `subscriptions`, if any.
async fn notifications_of(
    mb: &mut Mailbox<'_>,
    subscriptions: &[Arc<Subscription>],
    limits: &NotificationLimits,
) -> Result<Option<String>, EwsError> {
    let store = mb.guid().await?;
    let mut batches = Vec::new();
    for sub in subscriptions {
        let mut state = sub.state.lock().await;
        if state.missed || !look(mb, sub, &mut state, limits).await? {
            return Err(missed(&mb.module().subscriptions, sub));
        }
        if state.pending.is_empty() {
            continue;
        }
        let previous = state
            .pending
            .front()
            .map(|e| e.seq - 1)
            .unwrap_or(state.seq);
        // Streaming events are gone once sent.
        let events: Vec<_> = state.pending.drain(..).collect();
        batches.push((sub.id.clone(), previous, events));
    }
    if batches.is_empty() {
        return Ok(None);
    }
    Ok(Some(streaming_document(|w| {
        w.open(
            "m:GetStreamingEventsResponseMessage",
            &[("ResponseClass", "Success")],
        )
        .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
        .open("m:Notifications", &[]);
        for (id, previous, events) in &batches {
            w.open("m:Notification", &[]);
            write_notification(w, store, id, *previous, false, events);
            w.close();
        }
        w.close().leaf("m:ConnectionStatus", "OK");
    })))
}

/// GetStreamingEvents reached through the ordinary dispatch (never by a
/// client of [`crate::Ews::answer`]'s HTTP path, which streams it).
pub(crate) fn get_streaming_events_unstreamed(w: &mut XmlWriter) {
    refuse(
        w,
        "GetStreamingEvents",
        EwsError::unsupported("GetStreamingEvents outside a streaming HTTP response"),
    );
}
