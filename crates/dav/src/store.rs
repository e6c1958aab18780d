//! One request's view of the user's store: its folders as collections,
//! their items by resource name, and exmdb errors as DAV answers.

use crate::collections::{
    DeadProp, FOLDER_TAGS, PR_COMMENT, PR_GROXIDE_DAV_NAME, PR_GROXIDE_DAV_PROPS, decode_dead,
    prop_bin, prop_str,
};
use crate::path::{Kind, item_name};
use crate::{Answer, Dav};
use groxide_http_core::Principal;
use groxide_rpc::ExmdbClient;
use groxide_rpc::items::ItemInfo;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use http::StatusCode;

/// What a folder is to DAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CollKind {
    /// A calendar of VEVENTs (IPF.Appointment).
    Events,
    /// A calendar of VTODOs (IPF.Task).
    Tasks,
    /// An address book (IPF.Contact).
    Contacts,
}

impl CollKind {
    pub(crate) fn of(container_class: &str) -> Option<CollKind> {
        let c = container_class;
        if c == "IPF.Appointment" || c.starts_with("IPF.Appointment.") {
            Some(CollKind::Events)
        } else if c == "IPF.Task" || c.starts_with("IPF.Task.") {
            Some(CollKind::Tasks)
        } else if c == "IPF.Contact" || c.starts_with("IPF.Contact.") {
            Some(CollKind::Contacts)
        } else {
            None
        }
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            CollKind::Events | CollKind::Tasks => Kind::Calendar,
            CollKind::Contacts => Kind::AddressBook,
        }
    }

    /// The iCalendar component, for calendars.
    pub(crate) fn component(self) -> &'static str {
        match self {
            CollKind::Events => "VEVENT",
            CollKind::Tasks => "VTODO",
            CollKind::Contacts => "VCARD",
        }
    }
}

/// A folder as a collection.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub folder: pb::Folder,
    pub kind: CollKind,
    /// Its path segment: the role, else the name its client created it
    /// under, else the id.
    pub segment: String,
    /// Its description (PR_COMMENT).
    pub description: Option<String>,
    /// Its dead properties.
    pub dead: Vec<DeadProp>,
    /// The GAL's entries, when it is the domain's read-only GAL (not a
    /// folder).
    pub gal: Option<std::sync::Arc<crate::gal::Gal>>,
}

impl Collection {
    pub(crate) fn selector(&self) -> pb::FolderSelector {
        pb::FolderSelector {
            folder: Some(pb::folder_selector::Folder::Id(self.folder.id)),
        }
    }
}

/// The per-request context.
pub(crate) struct Ctx<'a> {
    pub dav: &'a Dav,
    pub dir: String,
    pub user: String,
    pub zone: Option<chrono_tz::Tz>,
    /// The request asked for vCard 4.0 (Accept, or `address-data version`).
    pub vcard4: bool,
    /// The user's domain (whose users the GAL lists).
    pub domain: groxide_directory::DomainId,
    folders: Option<Vec<pb::Folder>>,
}

/// An exmdb error as a DAV answer.
pub(crate) fn store_error(e: &groxide_rpc::RpcError) -> Answer {
    match e.reason() {
        Some(Reason::NoSuchFolder | Reason::NoSuchMessage) => {
            Answer::text(StatusCode::NOT_FOUND, "no such resource")
        }
        Some(Reason::PreconditionFailed) => Answer::text(
            StatusCode::PRECONDITION_FAILED,
            e.status()
                .map(|s| s.message())
                .unwrap_or("precondition failed"),
        ),
        Some(Reason::QuotaExceeded) => Answer::condition(
            StatusCode::INSUFFICIENT_STORAGE,
            crate::xml::NS_DAV,
            "quota-not-exceeded",
            "the mailbox is over its quota",
        ),
        Some(Reason::TooLarge) => Answer::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the item is larger than the store allows",
        ),
        Some(Reason::SyncTokenTooOld) => Answer::condition(
            StatusCode::FORBIDDEN,
            crate::xml::NS_DAV,
            "valid-sync-token",
            "the sync token is too old; sync afresh with an empty token",
        ),
        Some(Reason::NotPermitted) => Answer::text(StatusCode::FORBIDDEN, e.to_string()),
        _ if e.status().map(|s| s.code()) == Some(tonic::Code::InvalidArgument) => {
            Answer::text(StatusCode::BAD_REQUEST, e.to_string())
        }
        _ => {
            tracing::warn!(error = %e, "DAV store request failed");
            Answer::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the mailbox store is unavailable; try again later",
            )
            .header(http::header::RETRY_AFTER, "5")
        }
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(dav: &'a Dav, principal: &Principal) -> Ctx<'a> {
        Ctx {
            dav,
            dir: principal.user.maildir.clone(),
            user: principal.user.username.clone(),
            zone: principal.user.timezone.parse().ok(),
            vcard4: false,
            domain: principal.user.domain_id,
            folders: None,
        }
    }

    pub(crate) fn exmdb(&self) -> &ExmdbClient {
        &self.dav.exmdb
    }

    fn no_store(&self) -> Option<Answer> {
        self.dir
            .is_empty()
            .then(|| Answer::text(StatusCode::NOT_FOUND, "this account has no mailbox"))
    }

    /// The store's folders (read once per request).
    async fn folders(&mut self) -> Result<&[pb::Folder], Answer> {
        if let Some(a) = self.no_store() {
            return Err(a);
        }
        if self.folders.is_none() {
            let reply = self
                .exmdb()
                .list_folders(pb::ListFoldersRequest {
                    dir: self.dir.clone(),
                    prop_tags: FOLDER_TAGS.to_vec(),
                })
                .await
                .map_err(|e| store_error(&e))?;
            self.folders = Some(reply.folders);
        }
        Ok(self.folders.as_deref().unwrap_or_default())
    }

    /// The collections of a home, standard folders first.
    pub(crate) async fn collections(&mut self, kind: Kind) -> Result<Vec<Collection>, Answer> {
        let mut out: Vec<Collection> = self
            .folders()
            .await?
            .iter()
            .filter(|f| !f.hidden)
            .filter_map(|f| {
                let k = CollKind::of(&f.container_class)?;
                (k.kind() == kind).then(|| Collection {
                    folder: f.clone(),
                    kind: k,
                    segment: if !f.role.is_empty() {
                        f.role.clone()
                    } else if let Some(n) = prop_str(f, PR_GROXIDE_DAV_NAME) {
                        n.to_string()
                    } else {
                        f.id.to_string()
                    },
                    description: prop_str(f, PR_COMMENT).map(str::to_string),
                    dead: prop_bin(f, PR_GROXIDE_DAV_PROPS)
                        .map(decode_dead)
                        .unwrap_or_default(),
                    gal: None,
                })
            })
            .collect();
        out.sort_by_key(|c| (c.folder.role.is_empty(), c.folder.id));
        // The GAL last: a folder a client named `gal` before stays first.
        if kind == Kind::AddressBook
            && !out.iter().any(|c| c.segment == crate::gal::SEGMENT)
            && let Some(g) = crate::gal::read(self).await?
        {
            out.push(crate::gal::collection(g));
        }
        Ok(out)
    }

    /// The folder new collections of `kind` are made in: the parent of the
    /// standard calendar (or contacts) folder.
    pub(crate) async fn standard_parent(&mut self, kind: Kind) -> Result<u64, Answer> {
        let role = match kind {
            Kind::Calendar => "calendar",
            Kind::AddressBook => "contacts",
        };
        self.folders()
            .await?
            .iter()
            .find(|f| f.role == role)
            .map(|f| f.parent_id)
            .ok_or_else(|| {
                Answer::text(
                    StatusCode::CONFLICT,
                    format!("this mailbox has no {role} folder to put collections beside"),
                )
            })
    }

    /// The collection a path segment names.
    pub(crate) async fn collection(&mut self, kind: Kind, seg: &str) -> Result<Collection, Answer> {
        self.collections(kind)
            .await?
            .into_iter()
            .find(|c| c.segment == seg)
            .ok_or_else(|| Answer::text(StatusCode::NOT_FOUND, format!("no collection {seg}")))
    }

    /// The items of a collection and its sync token.
    pub(crate) async fn items(&self, c: &Collection) -> Result<(Vec<ItemInfo>, String), Answer> {
        if let Some(g) = &c.gal {
            return Ok((
                g.entries.iter().map(|(i, _)| i.clone()).collect(),
                g.token.clone(),
            ));
        }
        let (items, token) = self
            .exmdb()
            .list_items(&self.dir, c.selector())
            .await
            .map_err(|e| store_error(&e))?;
        let items: Vec<ItemInfo> = items.into_iter().filter(|i| fits(c.kind, i)).collect();
        Ok((items, token))
    }

    /// An item's resource name: the one its client gave it, else its UID's.
    pub(crate) fn name_of<'i>(&self, c: &Collection, i: &'i ItemInfo) -> std::borrow::Cow<'i, str> {
        if i.name.is_empty() {
            std::borrow::Cow::Owned(item_name(c.kind.kind(), &i.item_uid, i.message_id))
        } else {
            std::borrow::Cow::Borrowed(i.name.as_str())
        }
    }

    /// The item a resource name names, if any.
    pub(crate) async fn find_item(
        &self,
        c: &Collection,
        name: &str,
    ) -> Result<Option<ItemInfo>, Answer> {
        Ok(self
            .resolve(c, std::slice::from_ref(&name.to_string()), &[])
            .await?
            .0
            .pop()
            .flatten())
    }

    /// The items `names` name (by index lookups: a name given by a client,
    /// else the UID its default name holds; `gx-<id>` names by a listing),
    /// and the items holding the iCalendar/vCard UIDs `uids`.
    pub(crate) async fn resolve(
        &self,
        c: &Collection,
        names: &[String],
        uids: &[String],
    ) -> Result<(Vec<Option<ItemInfo>>, Vec<ItemInfo>), Answer> {
        let ext = c.kind.kind().extension();
        let stem = |n: &str| {
            n.strip_suffix(ext)
                .filter(|s| crate::path::uid_usable(s))
                .map(str::to_string)
        };
        if let Some(g) = &c.gal {
            let named = names
                .iter()
                .map(|n| {
                    g.entries
                        .iter()
                        .find(|(i, _)| self.name_of(c, i) == *n)
                        .map(|(i, _)| i.clone())
                })
                .collect();
            let holders = g
                .entries
                .iter()
                .filter(|(i, _)| uids.contains(&i.item_uid))
                .map(|(i, _)| i.clone())
                .collect();
            return Ok((named, holders));
        }
        let mut lookup_uids: Vec<String> = names.iter().filter_map(|n| stem(n)).collect();
        lookup_uids.extend(uids.iter().filter(|u| !u.is_empty()).cloned());
        let found: Vec<ItemInfo> = self
            .exmdb()
            .find_items(&self.dir, c.selector(), names, &lookup_uids)
            .await
            .map_err(|e| store_error(&e))?
            .into_iter()
            .filter(|i| fits(c.kind, i))
            .collect();
        let listed = if names.iter().any(|n| n.starts_with("gx-")) {
            self.items(c).await?.0
        } else {
            Vec::new()
        };
        let named = names
            .iter()
            .map(|n| {
                found
                    .iter()
                    .chain(&listed)
                    .find(|i| self.name_of(c, i) == *n)
                    .cloned()
            })
            .collect();
        let holders = found
            .iter()
            .filter(|i| uids.contains(&i.item_uid))
            .cloned()
            .collect();
        Ok((named, holders))
    }
}

/// Whether an item belongs in a collection of this kind (a folder may
/// hold items of other classes, e.g. mail moved into it).
pub(crate) fn fits(kind: CollKind, i: &ItemInfo) -> bool {
    let c = i.message_class.as_bytes();
    let is = |prefix: &str| {
        c.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    match kind {
        CollKind::Events => is("ipm.appointment"),
        CollKind::Tasks => is("ipm.task"),
        CollKind::Contacts => is("ipm.contact") || is("ipm.distlist"),
    }
}

/// An ETag header value of a store etag.
pub(crate) fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// A store etag from an If-Match value (quotes and `W/` removed).
pub(crate) fn unquoted(v: &str) -> String {
    let v = v.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.trim_matches('"').to_string()
}
