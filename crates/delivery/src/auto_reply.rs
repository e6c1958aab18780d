//! Out-of-office replies (RFC 3834): after a message reached a user's
//! Inbox, and when the user's automatic replies (groxide-rpc's `oof`, set
//! through EWS) are on and inside their window, the sender gets one reply
//! per period through the outgoing relay (groxide-submit, the
//! `outgoing_smtp_url` every sender of this system uses), from the null
//! sender, marked `Auto-Submitted: auto-replied`.
//!
//! Never answered: the null sender; the user itself; `Precedence: bulk`,
//! `list` or `junk`; `Auto-Submitted` other than `no`; messages with a
//! `List-Id`; MAILER-DAEMON, `owner-…` and `…-request` addresses; mail
//! filed as junk; a retry the mailbox already had. Senders of the user's own
//! domain get the internal reply; others the external one when the
//! audience is `All`, or when it is `Known` and the sender's address is one
//! of the e-mail addresses of a contact in the user's default Contacts
//! folder (compared without regard to case, as Exchange does; a store
//! error there sends no reply). The sender is recorded in the store
//! before the reply is sent, so a failed send never turns into two replies.

use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::ReadItem;
use groxide_rpc::oof::{Answered, ExternalAudience, OofSettings};
use groxide_rpc::{ExmdbClient, RpcError};
use groxide_submit::{Envelope, Submitter};
use std::sync::{Arc, PoisonError, RwLock};

/// Why a message gets no automatic reply (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoReply {
    /// The envelope sender is `<>`.
    NullSender,
    /// The user wrote to itself.
    OwnMessage,
    /// `Precedence: bulk/list/junk`.
    Precedence,
    /// `Auto-Submitted` other than `no`.
    AutoSubmitted,
    /// A mailing list (`List-Id`).
    MailingList,
    /// A system address (MAILER-DAEMON, `owner-…`, `…-request`).
    SystemSender,
}

/// Whether a message from `sender` (the envelope's reverse path) with the
/// header block `head` may be answered on behalf of `user`.
pub fn may_answer(head: &[u8], sender: &str, user: &str) -> Result<(), NoReply> {
    let sender = sender.trim();
    if sender.is_empty() || sender == "<>" {
        return Err(NoReply::NullSender);
    }
    if sender.eq_ignore_ascii_case(user) {
        return Err(NoReply::OwnMessage);
    }
    let local = sender
        .rsplit_once('@')
        .map_or(sender, |(l, _)| l)
        .to_ascii_lowercase();
    if local == "mailer-daemon" || local.starts_with("owner-") || local.ends_with("-request") {
        return Err(NoReply::SystemSender);
    }
    let header = |name| groxide_mime::find_header(head, name);
    if let Some(p) = header("precedence") {
        let p = p.trim().to_ascii_lowercase();
        if ["bulk", "list", "junk"].contains(&p.as_str()) {
            return Err(NoReply::Precedence);
        }
    }
    if let Some(a) = header("auto-submitted") {
        // The value may carry parameters: `auto-generated; type=…`.
        let value = a.split(';').next().unwrap_or("").trim();
        if !value.eq_ignore_ascii_case("no") {
            return Err(NoReply::AutoSubmitted);
        }
    }
    if header("list-id").is_some() {
        return Err(NoReply::MailingList);
    }
    Ok(())
}

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Which reply a sender gets, as far as the settings alone tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyText<'s> {
    /// This text.
    Send(&'s str),
    /// This text, if the sender is one of the user's contacts (an outsider
    /// while the audience is `Known`).
    IfContact(&'s str),
    /// None.
    Nothing,
}

/// The reply text for `sender`, as far as the settings tell.
pub fn reply_text<'s>(settings: &'s OofSettings, sender: &str, user: &str) -> ReplyText<'s> {
    let (text, known_only) = if domain(sender).eq_ignore_ascii_case(domain(user)) {
        (&settings.internal_reply, false)
    } else {
        match settings.external_audience {
            ExternalAudience::All => (&settings.external_reply, false),
            ExternalAudience::Known => (&settings.external_reply, true),
            ExternalAudience::None => return ReplyText::Nothing,
        }
    };
    match (text.trim().is_empty(), known_only) {
        (true, _) => ReplyText::Nothing,
        (false, false) => ReplyText::Send(text),
        (false, true) => ReplyText::IfContact(text),
    }
}

/// Most contacts read to find a sender (a larger folder is read this far).
const MAX_CONTACTS: usize = 5000;

/// The e-mail addresses of a contact (its three slots, [MS-OXOCNTC]
/// 2.2.1.2).
fn contact_addresses(item: &groxide_pim::Item) -> impl Iterator<Item = &str> {
    use groxide_mapi::lids;
    [
        &lids::PID_LID_EMAIL1_EMAIL_ADDRESS,
        &lids::PID_LID_EMAIL2_EMAIL_ADDRESS,
        &lids::PID_LID_EMAIL3_EMAIL_ADDRESS,
    ]
    .into_iter()
    .filter_map(|p| item.str(p))
    .map(str::trim)
}

/// Whether `sender` is an e-mail address of a contact in the default
/// Contacts folder of the store `dir`.
pub async fn is_contact(exmdb: &ExmdbClient, dir: &str, sender: &str) -> Result<bool, RpcError> {
    let sender = sender.trim().trim_start_matches('<').trim_end_matches('>');
    let (listed, _) = exmdb.list_items(dir, folder_role("contacts")).await?;
    let ids: Vec<u64> = listed
        .iter()
        .filter(|i| {
            let class = i.message_class.to_ascii_lowercase();
            class == "ipm.contact" || class.starts_with("ipm.contact.")
        })
        .take(MAX_CONTACTS)
        .map(|i| i.message_id)
        .collect();
    for chunk in ids.chunks(100) {
        for read in exmdb.get_items(dir, chunk, true).await? {
            if let ReadItem::Item(_, item, _) = read
                && contact_addresses(&item).any(|a| a.eq_ignore_ascii_case(sender))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The reply `sender` gets from the store `dir` of `user` now, if any:
/// the settings decide, and for an outsider under `Known` the user's
/// contacts. A sender `answered` in this period gets none (and its
/// contacts are not read).
pub async fn reply_for(
    exmdb: &ExmdbClient,
    dir: &str,
    settings: &OofSettings,
    answered: &Answered,
    sender: &str,
    user: &str,
) -> Result<Option<String>, RpcError> {
    let already = answered.period == settings.period
        && answered.senders.contains(&sender.to_ascii_lowercase());
    Ok(match reply_text(settings, sender, user) {
        _ if already => None,
        ReplyText::Nothing => None,
        ReplyText::Send(text) => Some(text.to_string()),
        ReplyText::IfContact(text) => is_contact(exmdb, dir, sender)
            .await?
            .then(|| text.to_string()),
    })
}

/// A header value, as an encoded word when it is not plain ASCII.
fn header_text(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if clean.is_ascii() {
        clean
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(clean.as_bytes()))
    }
}

/// The reply message to the message with header block `head`.
pub fn compose(head: &[u8], user: &str, sender: &str, text: &str, date: &str) -> Vec<u8> {
    let subject = groxide_mime::find_header(head, "subject").unwrap_or_default();
    let message_id = groxide_mime::find_header(head, "message-id")
        .map(|m| m.trim().to_string())
        .filter(|m| m.starts_with('<') && m.ends_with('>') && !m.contains(['\r', '\n']));
    let html = text.trim_start().starts_with('<');
    let mut out = format!(
        "From: {user}\r\nTo: {sender}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: <{}@{}>\r\n",
        header_text(&format!("Automatic reply: {subject}")),
        uuid::Uuid::new_v4().simple(),
        domain(user),
    );
    if let Some(id) = message_id {
        out.push_str(&format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"));
    }
    out.push_str(&format!(
        "Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        if html { "html" } else { "plain" }
    ));
    let body = STANDARD.encode(text.as_bytes());
    for line in body.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A [`MailboxWriter`] that delivers through another and then sends the
/// automatic reply a delivery calls for (in the background: the LMTP
/// answer does not wait for it).
pub struct AutoReplies<W> {
    inner: W,
    exmdb: Arc<ExmdbClient>,
    relay: RwLock<Option<Arc<Submitter>>>,
}

impl<W> AutoReplies<W> {
    /// Delivers through `inner`, reads settings through `exmdb`, sends
    /// through `relay` (`None`: no replies, the relay URL is unusable).
    pub fn new(inner: W, exmdb: Arc<ExmdbClient>, relay: Option<Arc<Submitter>>) -> Self {
        AutoReplies {
            inner,
            exmdb,
            relay: RwLock::new(relay),
        }
    }

    /// The writer it delivers through.
    pub fn inner(&self) -> &W {
        &self.inner
    }

    /// Sets the relay (SIGHUP).
    pub fn set_relay(&self, relay: Option<Arc<Submitter>>) {
        *self.relay.write().unwrap_or_else(PoisonError::into_inner) = relay;
    }
}

/// What one reply needs once the delivery is over.
struct Pending {
    dir: String,
    user: String,
    sender: String,
    head: Vec<u8>,
}

async fn answer(exmdb: Arc<ExmdbClient>, relay: Arc<Submitter>, p: Pending) {
    let (settings, mut answered) = match groxide_rpc::oof::read(&exmdb, &p.dir).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(dir = p.dir, error = %e, "automatic reply: settings unreadable");
            return;
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if !settings.active(now) {
        return;
    }
    let text = match reply_for(&exmdb, &p.dir, &settings, &answered, &p.sender, &p.user).await {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(dir = p.dir, error = %e, "automatic reply: the Contacts folder could not be read (the Known audience needs it); not sent");
            return;
        }
    };
    if !answered.add(settings.period, &p.sender) {
        tracing::debug!(
            dir = p.dir,
            "automatic reply: sender already answered in this period"
        );
        return;
    }
    if let Err(e) = groxide_rpc::oof::write_answered(&exmdb, &p.dir, &answered).await {
        tracing::warn!(dir = p.dir, error = %e, "automatic reply: not recorded, so not sent");
        return;
    }
    let message = compose(
        &p.head,
        &p.user,
        &p.sender,
        &text,
        &crate::trace::now_rfc5322(),
    );
    let envelope = Envelope {
        // RFC 3834 §3.3: replies go from the null sender, so none comes back.
        from: String::new(),
        recipients: vec![p.sender.clone()],
    };
    match relay.send_bytes(&envelope, &message).await {
        Ok(report) if report.all_accepted() => {
            tracing::info!(dir = p.dir, user = p.user, "automatic reply sent");
        }
        Ok(_) => tracing::warn!(dir = p.dir, "automatic reply: the relay refused the sender"),
        Err(e) => tracing::warn!(dir = p.dir, error = %e, "automatic reply not sent"),
    }
}

impl<W: MailboxWriter> MailboxWriter for AutoReplies<W> {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryOutcome {
        let outcome = self.inner.deliver(request).await;
        if !matches!(outcome, DeliveryOutcome::Delivered { .. })
            || request.folder != TargetFolder::Inbox
        {
            return outcome;
        }
        let user = &request.mailbox.user;
        if let Err(why) = may_answer(request.head, request.reverse_path, user) {
            tracing::trace!(?why, "no automatic reply");
            return outcome;
        }
        let relay = self
            .relay
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(relay) = relay {
            let pending = Pending {
                dir: request.mailbox.dir.clone(),
                user: user.clone(),
                sender: request.reverse_path.trim().to_string(),
                head: request.head.to_vec(),
            };
            tokio::spawn(answer(self.exmdb.clone(), relay, pending));
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_rpc::oof::OofState;

    #[test]
    fn lists_bulk_automatic_and_null_senders_get_no_reply() {
        let user = "bob@example.test";
        let table: &[(&str, &str, Result<(), NoReply>)] = &[
            ("Subject: hi\r\n\r\n", "alice@remote.test", Ok(())),
            ("Auto-Submitted: no\r\n\r\n", "alice@remote.test", Ok(())),
            ("Subject: hi\r\n\r\n", "", Err(NoReply::NullSender)),
            ("Subject: hi\r\n\r\n", "<>", Err(NoReply::NullSender)),
            (
                "Subject: hi\r\n\r\n",
                "Bob@example.test",
                Err(NoReply::OwnMessage),
            ),
            (
                "Precedence: Bulk\r\n\r\n",
                "a@r.test",
                Err(NoReply::Precedence),
            ),
            (
                "Precedence: list\r\n\r\n",
                "a@r.test",
                Err(NoReply::Precedence),
            ),
            (
                "Precedence: junk\r\n\r\n",
                "a@r.test",
                Err(NoReply::Precedence),
            ),
            (
                "Auto-Submitted: auto-replied\r\n\r\n",
                "a@r.test",
                Err(NoReply::AutoSubmitted),
            ),
            (
                "Auto-Submitted: auto-generated; x=y\r\n\r\n",
                "a@r.test",
                Err(NoReply::AutoSubmitted),
            ),
            (
                "List-Id: <dev.lists.r.test>\r\n\r\n",
                "a@r.test",
                Err(NoReply::MailingList),
            ),
            (
                "Subject: x\r\n\r\n",
                "MAILER-DAEMON@r.test",
                Err(NoReply::SystemSender),
            ),
            (
                "Subject: x\r\n\r\n",
                "dev-request@r.test",
                Err(NoReply::SystemSender),
            ),
            (
                "Subject: x\r\n\r\n",
                "owner-dev@r.test",
                Err(NoReply::SystemSender),
            ),
        ];
        for (head, sender, expected) in table {
            assert_eq!(
                may_answer(head.as_bytes(), sender, user),
                *expected,
                "{head} {sender}"
            );
        }
    }

    #[test]
    fn insiders_get_the_internal_reply_and_outsiders_as_the_audience_says() {
        let mut s = OofSettings {
            state: OofState::Enabled,
            internal_reply: "in".into(),
            external_reply: "out".into(),
            external_audience: ExternalAudience::All,
            ..OofSettings::default()
        };
        let user = "bob@example.test";
        let (carol, alice) = ("carol@example.test", "alice@remote.test");
        assert_eq!(reply_text(&s, carol, user), ReplyText::Send("in"));
        assert_eq!(reply_text(&s, alice, user), ReplyText::Send("out"));
        s.external_audience = ExternalAudience::Known;
        assert_eq!(reply_text(&s, alice, user), ReplyText::IfContact("out"));
        assert_eq!(reply_text(&s, carol, user), ReplyText::Send("in"));
        s.external_audience = ExternalAudience::None;
        assert_eq!(reply_text(&s, alice, user), ReplyText::Nothing);
        assert_eq!(reply_text(&s, carol, user), ReplyText::Send("in"));
        s.internal_reply = " ".into();
        assert_eq!(reply_text(&s, carol, user), ReplyText::Nothing);
    }

    #[test]
    fn the_reply_is_marked_auto_replied_and_threads_under_the_message() {
        let head = b"Subject: Lunch?\r\nMessage-ID: <m1@remote.test>\r\n\r\n";
        let raw = compose(
            head,
            "bob@example.test",
            "alice@remote.test",
            "Away — back soon",
            "Mon, 7 Dec 2026 10:00:00 +0000",
        );
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(
            text.contains("Subject: Automatic reply: Lunch?\r\n"),
            "{text}"
        );
        assert!(text.contains("In-Reply-To: <m1@remote.test>\r\n"));
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(text.contains("To: alice@remote.test\r\n"));
        let parsed = groxide_mime::ParsedMessage::parse(&raw);
        assert!(
            parsed.searchable_text().contains("Away — back soon"),
            "{text}"
        );
        // Non-ASCII subjects become encoded words.
        let raw = compose("Subject: Grüße\r\n\r\n".as_bytes(), "b@x", "a@y", "x", "d");
        assert!(
            String::from_utf8(raw)
                .unwrap()
                .contains("Subject: =?UTF-8?B?")
        );
    }
}
