//! Commands about mailboxes as a whole: LIST (with LIST-EXTENDED,
//! LIST-STATUS, SPECIAL-USE), LSUB, CREATE, DELETE, RENAME, (UN)SUBSCRIBE,
//! STATUS, and QUOTA.

use super::{Handled, Reply, Session, Stop};
use crate::backend::{
    Backend, Flags, MailboxEntry, MailboxView, SearchKey, SpecialUse, UidSet, ViewError,
};
use crate::names::{self, ListPattern, SEPARATOR};
use futures_util::StreamExt;
use groxide_imap_proto::{
    Data, ListCommand, ListExtendedItem, ListKind, ListResponse, ListReturnOption,
    ListSelectOption, Mailbox, MailboxAttribute, QuotaResource, ResponseCode, StatusItem,
    StatusValue,
};

/// The one quota root of a store.
const QUOTA_ROOT: &str = "";

fn special_use_attribute(special_use: SpecialUse) -> MailboxAttribute {
    MailboxAttribute::from_name(special_use.as_str())
}

fn is_child_of(child: &str, parent: &str) -> bool {
    child.len() > parent.len() + 1
        && child.starts_with(parent)
        && child[parent.len()..].starts_with(SEPARATOR)
}

impl<B: Backend> Session<'_, B> {
    /// The store name of a mailbox argument, or `NO`.
    pub(super) fn store_name(&self, mailbox: &Mailbox) -> Result<String, Stop> {
        names::from_wire(mailbox.as_str(), self.enabled.utf8_names())
            .map_err(|e| Reply::no(Some(ResponseCode::Cannot), e.to_string()).into())
    }

    /// The wire form of a store name for this client.
    pub(super) fn wire_name(&self, name: &str) -> String {
        names::to_wire(name, self.enabled.utf8_names())
    }

    pub(super) async fn list(&mut self, list: ListCommand) -> Handled {
        let account = self.account()?;
        let utf8 = self.enabled.utf8_names();
        let basic = list.selection.is_empty() && list.return_options.is_empty();
        if basic && list.patterns.len() == 1 && list.patterns[0].is_empty() {
            // `LIST "" ""`: the hierarchy separator and root.
            self.data(&Data::List(ListResponse {
                kind: ListKind::List,
                attributes: vec![MailboxAttribute::NoSelect],
                delimiter: Some(SEPARATOR),
                mailbox: String::new(),
                extended: Vec::new(),
            }));
            return Ok(Reply::ok("LIST completed"));
        }
        let patterns: Vec<ListPattern> = list
            .patterns
            .iter()
            .map(|p| ListPattern::new(&list.reference, p, utf8))
            .collect();
        // RFC 5258: the extended form returns child information only when
        // asked (RETURN (CHILDREN)); the basic form always does, as Dovecot.
        let extended = !list.selection.is_empty()
            || !list.return_options.is_empty()
            || list.patterns.len() > 1;
        let select_subscribed = list.selection.contains(&ListSelectOption::Subscribed);
        let recursive = list.selection.contains(&ListSelectOption::RecursiveMatch);
        let select_special = list.selection.contains(&ListSelectOption::SpecialUse);
        let options = AttributeOptions {
            subscribed: select_subscribed
                || list.return_options.contains(&ListReturnOption::Subscribed),
            children: !extended || list.return_options.contains(&ListReturnOption::Children),
        };
        let status_items: Option<Vec<StatusItem>> =
            list.return_options.iter().find_map(|o| match o {
                ListReturnOption::Status(items) => Some(items.clone()),
                _ => None,
            });
        let mut entries = self
            .server
            .backend()
            .view()
            .list_mailboxes(&account.dir)
            .await?;
        if select_subscribed && recursive {
            add_missing_parents(&mut entries);
        }
        for e in &entries {
            if !patterns.iter().any(|p| p.matches(&e.name)) {
                continue;
            }
            // A kept subscription without its mailbox shows only where subscriptions are asked for.
            if e.nonexistent && !select_subscribed {
                continue;
            }
            // RECURSIVEMATCH reports a parent for subscribed children the
            // patterns do not list themselves (RFC 5258 §3.5; Dovecot: a
            // child that a pattern also matches is its own answer).
            let subscribed_child = entries.iter().any(|c| {
                c.subscribed
                    && is_child_of(&c.name, &e.name)
                    && !patterns.iter().any(|p| p.matches(&c.name))
            });
            let mut extended = Vec::new();
            if select_subscribed {
                if recursive && subscribed_child {
                    extended.push(ListExtendedItem::ChildInfo(vec!["SUBSCRIBED".to_owned()]));
                } else if !e.subscribed {
                    continue;
                }
            }
            if select_special && e.special_use.is_none() {
                continue;
            }
            let attributes = attributes_of(e, options);
            self.data(&Data::List(ListResponse {
                kind: ListKind::List,
                attributes,
                delimiter: Some(SEPARATOR),
                mailbox: names::to_wire(&e.name, utf8),
                extended,
            }));
            if let Some(items) = &status_items
                && !e.noselect
            {
                match self.status_values(&account.dir, &e.name, items).await {
                    Ok(values) => {
                        let mailbox = names::to_wire(&e.name, utf8);
                        self.data(&Data::Status {
                            mailbox,
                            items: values,
                        });
                    }
                    // A mailbox deleted meanwhile just has no STATUS.
                    Err(ViewError::NoSuchMailbox) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            self.conn.flush_if_full().await?;
        }
        Ok(Reply::ok("LIST completed"))
    }

    pub(super) async fn lsub(&mut self, reference: &str, pattern: &str) -> Handled {
        let account = self.account()?;
        let utf8 = self.enabled.utf8_names();
        let pattern = ListPattern::new(reference, pattern, utf8);
        let entries = self
            .server
            .backend()
            .view()
            .list_mailboxes(&account.dir)
            .await?;
        let mut shown = std::collections::HashSet::new();
        for e in entries.iter().filter(|e| e.subscribed) {
            if pattern.matches(&e.name) {
                if shown.insert(e.name.clone()) {
                    let noselect = e.noselect && !e.nonexistent;
                    self.lsub_line(&e.name, noselect, utf8);
                }
                continue;
            }
            // RFC 3501 §6.3.9: `%` that stops above a subscribed mailbox
            // returns its parent at that level, \Noselect unless subscribed.
            for (i, _) in e.name.match_indices(SEPARATOR) {
                let parent = &e.name[..i];
                if !pattern.matches(parent) || shown.contains(parent) {
                    continue;
                }
                let subscribed = entries.iter().any(|p| p.subscribed && p.name == parent);
                if !subscribed {
                    shown.insert(parent.to_owned());
                    self.lsub_line(parent, true, utf8);
                }
            }
        }
        Ok(Reply::ok("LSUB completed"))
    }

    fn lsub_line(&mut self, name: &str, noselect: bool, utf8: bool) {
        let attributes = if noselect {
            vec![MailboxAttribute::NoSelect]
        } else {
            Vec::new()
        };
        self.data(&Data::List(ListResponse {
            kind: ListKind::Lsub,
            attributes,
            delimiter: Some(SEPARATOR),
            mailbox: names::to_wire(name, utf8),
            extended: Vec::new(),
        }));
    }

    pub(super) async fn create(
        &mut self,
        mailbox: Mailbox,
        special_use: Vec<MailboxAttribute>,
    ) -> Handled {
        let account = self.account()?;
        let name = self.store_name(&mailbox)?;
        if name == "INBOX" {
            return Ok(Reply::no(
                Some(ResponseCode::AlreadyExists),
                "INBOX always exists",
            ));
        }
        if special_use.len() > 1 || special_use.iter().any(|a| !a.is_special_use()) {
            return Ok(Reply::no(
                Some(ResponseCode::UseAttr),
                "One special-use attribute (\\Sent, \\Trash, ...) per mailbox",
            ));
        }
        let use_attr = match special_use.first() {
            None => None,
            Some(a) => match SpecialUse::parse(a.name()) {
                Some(u) => Some(u),
                None => {
                    return Ok(Reply::no(
                        Some(ResponseCode::UseAttr),
                        format!(
                            "\\{} cannot be given to a mailbox (\\Archive can)",
                            a.name()
                        ),
                    ));
                }
            },
        };
        self.server
            .backend()
            .view()
            .create_mailbox(&account.dir, &name, use_attr)
            .await?;
        Ok(Reply::ok("CREATE completed"))
    }

    pub(super) async fn delete(&mut self, mailbox: Mailbox) -> Handled {
        let account = self.account()?;
        let name = self.store_name(&mailbox)?;
        if name == "INBOX" {
            return Ok(Reply::no(
                Some(ResponseCode::Cannot),
                "INBOX cannot be deleted",
            ));
        }
        self.server
            .backend()
            .view()
            .delete_mailbox(&account.dir, &name)
            .await?;
        Ok(Reply::ok("DELETE completed"))
    }

    pub(super) async fn rename(&mut self, from: Mailbox, to: Mailbox) -> Handled {
        let account = self.account()?;
        let from = self.store_name(&from)?;
        let to = self.store_name(&to)?;
        if to == "INBOX" {
            return Ok(Reply::no(
                Some(ResponseCode::AlreadyExists),
                "INBOX always exists",
            ));
        }
        if from != "INBOX" && (to == from || is_child_of(&to, &from)) {
            return Ok(Reply::no(
                Some(ResponseCode::Cannot),
                "A mailbox cannot be moved below itself",
            ));
        }
        self.server
            .backend()
            .view()
            .rename_mailbox(&account.dir, &from, &to)
            .await?;
        Ok(Reply::ok("RENAME completed"))
    }

    pub(super) async fn subscribe(&mut self, mailbox: Mailbox, subscribed: bool) -> Handled {
        let account = self.account()?;
        let name = self.store_name(&mailbox)?;
        self.server
            .backend()
            .view()
            .set_subscription(&account.dir, &name, subscribed)
            .await?;
        Ok(Reply::ok(if subscribed {
            "SUBSCRIBE completed"
        } else {
            "UNSUBSCRIBE completed"
        }))
    }

    pub(super) async fn status(&mut self, mailbox: Mailbox, items: Vec<StatusItem>) -> Handled {
        let account = self.account()?;
        let name = self.store_name(&mailbox)?;
        let values = self.status_values(&account.dir, &name, &items).await?;
        let mailbox = self.wire_name(&name);
        self.data(&Data::Status {
            mailbox,
            items: values,
        });
        Ok(Reply::ok("STATUS completed"))
    }

    /// The values of STATUS `items` for mailbox `name`.
    async fn status_values(
        &mut self,
        dir: &str,
        name: &str,
        items: &[StatusItem],
    ) -> Result<Vec<StatusValue>, ViewError> {
        let backend = self.server.backend().view();
        let st = backend.mailbox_status(dir, name).await?;
        if items.contains(&StatusItem::HighestModSeq) {
            self.enable_condstore().await;
        }
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            values.push(match item {
                StatusItem::Messages => StatusValue::Messages(st.exists),
                StatusItem::Recent => {
                    StatusValue::Recent(recent_unclaimed(backend, dir, st.folder).await?)
                }
                StatusItem::UidNext => StatusValue::UidNext(st.uidnext),
                StatusItem::UidValidity => StatusValue::UidValidity(st.uidvalidity),
                StatusItem::Unseen => StatusValue::Unseen(st.unseen),
                StatusItem::Deleted => StatusValue::Deleted(st.deleted),
                StatusItem::Size => StatusValue::Size(st.size),
                StatusItem::HighestModSeq => StatusValue::HighestModSeq(st.highest_modseq),
                StatusItem::AppendLimit => {
                    StatusValue::AppendLimit(Some(self.settings.max_literal_size))
                }
                StatusItem::DeletedStorage => StatusValue::DeletedStorage(if st.deleted == 0 {
                    0
                } else {
                    deleted_storage(backend, dir, st.folder).await?
                }),
            });
        }
        Ok(values)
    }
}

/// Messages no session has claimed as `\Recent` (STATUS RECENT).
async fn recent_unclaimed<V: MailboxView>(
    view: &V,
    dir: &str,
    folder: u64,
) -> Result<u32, ViewError> {
    let claimed = view.claim_recent(dir, folder, None).await?;
    let Some(first) = claimed.checked_add(1) else {
        return Ok(0);
    };
    let mut stream = view
        .list_messages(
            dir,
            folder,
            UidSet::from_ranges([crate::backend::UidRange::new(first, u32::MAX - 1)]),
        )
        .await?;
    let mut count = 0u32;
    while let Some(chunk) = stream.next().await {
        count = count.saturating_add(chunk?.len() as u32);
    }
    Ok(count)
}

/// Bytes of the messages marked `\Deleted`.
async fn deleted_storage<V: MailboxView>(
    view: &V,
    dir: &str,
    folder: u64,
) -> Result<u64, ViewError> {
    let found = view
        .search(dir, folder, SearchKey::FlagsSet(Flags::DELETED))
        .await?;
    if found.uids.is_empty() {
        return Ok(0);
    }
    let mut stream = view
        .list_messages(dir, folder, UidSet::from_uids(found.uids))
        .await?;
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk?.iter().map(|m| m.size).sum::<u64>();
    }
    Ok(total)
}

impl<B: Backend> Session<'_, B> {
    pub(super) async fn get_quota_root(&mut self, mailbox: Mailbox) -> Handled {
        let account = self.account()?;
        let name = self.store_name(&mailbox)?;
        let backend = self.server.backend().view();
        backend.mailbox_status(&account.dir, &name).await?;
        let quota = backend.quota(&account.dir).await?;
        let resources = quota_resources(&quota);
        let wire = self.wire_name(&name);
        let roots = if resources.is_empty() {
            Vec::new()
        } else {
            vec![QUOTA_ROOT.to_owned()]
        };
        self.data(&Data::QuotaRoot {
            mailbox: wire,
            roots,
        });
        if !resources.is_empty() {
            self.data(&Data::Quota {
                root: QUOTA_ROOT.to_owned(),
                resources,
            });
        }
        Ok(Reply::ok("GETQUOTAROOT completed"))
    }

    pub(super) async fn get_quota(&mut self, root: &str) -> Handled {
        let account = self.account()?;
        let quota = self.server.backend().view().quota(&account.dir).await?;
        let resources = quota_resources(&quota);
        if root != QUOTA_ROOT || resources.is_empty() {
            return Ok(Reply::no(
                Some(ResponseCode::NonExistent),
                "No such quota root",
            ));
        }
        self.data(&Data::Quota {
            root: QUOTA_ROOT.to_owned(),
            resources,
        });
        Ok(Reply::ok("GETQUOTA completed"))
    }
}

/// Which optional attributes a LIST returns.
#[derive(Debug, Clone, Copy)]
struct AttributeOptions {
    /// `\Subscribed`.
    subscribed: bool,
    /// `\HasChildren` / `\HasNoChildren`.
    children: bool,
}

/// LIST attributes of a mailbox.
fn attributes_of(e: &MailboxEntry, options: AttributeOptions) -> Vec<MailboxAttribute> {
    let mut attributes = Vec::new();
    if e.nonexistent {
        // \NonExistent implies \Noselect (RFC 5258 §3.4).
        attributes.push(MailboxAttribute::NonExistent);
    } else if e.noselect {
        attributes.push(MailboxAttribute::NoSelect);
    }
    if options.children && (e.has_children || !e.nonexistent) {
        attributes.push(if e.has_children {
            MailboxAttribute::HasChildren
        } else {
            MailboxAttribute::HasNoChildren
        });
    }
    if options.subscribed && e.subscribed {
        attributes.push(MailboxAttribute::Subscribed);
    }
    if let Some(u) = e.special_use {
        attributes.push(special_use_attribute(u));
    }
    attributes
}

/// Adds the missing parents of kept subscriptions (`Ghost` for a kept
/// `Ghost/Child`) as nonexistent entries, for RECURSIVEMATCH's CHILDINFO.
fn add_missing_parents(entries: &mut Vec<MailboxEntry>) {
    let mut missing: Vec<String> = Vec::new();
    for e in entries.iter().filter(|e| e.nonexistent) {
        for (i, _) in e.name.match_indices(SEPARATOR) {
            let parent = &e.name[..i];
            if !entries.iter().any(|x| x.name == parent) && !missing.iter().any(|m| m == parent) {
                missing.push(parent.to_owned());
            }
        }
    }
    entries.extend(missing.into_iter().map(|name| MailboxEntry {
        name,
        folder: 0,
        special_use: None,
        subscribed: false,
        has_children: true,
        noselect: true,
        nonexistent: true,
    }));
}

/// The limited resources of a quota (STORAGE in KiB, RFC 9208).
fn quota_resources(q: &crate::backend::Quota) -> Vec<QuotaResource> {
    let mut out = Vec::new();
    if q.limit_bytes > 0 {
        out.push(QuotaResource {
            name: "STORAGE".to_owned(),
            usage: q.used_bytes.div_ceil(1024),
            limit: q.limit_bytes / 1024,
        });
    }
    if q.message_limit > 0 {
        out.push(QuotaResource {
            name: "MESSAGE".to_owned(),
            usage: q.messages,
            limit: q.message_limit,
        });
    }
    out
}
