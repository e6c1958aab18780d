//! IMAP mailbox names from the store's folder tree.
//!
//! Names are UTF-8 paths of the folders below IPM_SUBTREE with `/` as the
//! separator. The inbox is `INBOX` (matched case-insensitively, also as the
//! first component of its subfolders' names); the standard folders carry
//! their English names whatever their display name (a store created in
//! another language shows `Sent Items`, not its translation) and special-use
//! attributes. Folders that are hidden, belong to Sync Issues, or are not
//! mail folders (Calendar, Contacts, …) are not listed; a non-mail folder
//! that has mail folders below it is listed as `\Noselect`.
//!
//! A `/` inside a display name would read as a hierarchy separator, so it
//! is shown as U+2215 DIVISION SLASH (`∕`); a name written with `∕` creates
//! a folder whose display name has `/`. Siblings whose names would collide
//! (two folders that both show as `Sent Items`, a user folder called
//! `inbox`) are told apart by appending `.<folder id>` to the later one.

use groxide_mailview::{FolderId, SpecialUse};
use std::collections::HashMap;

/// The standard folders midb treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderRole {
    /// Root of the visible tree (Top of Information Store).
    IpmSubtree,
    /// Inbox: IMAP `INBOX`.
    Inbox,
    /// Outbox.
    Outbox,
    /// Sent Items (`\Sent`).
    SentItems,
    /// Deleted Items (`\Trash`).
    DeletedItems,
    /// Drafts (`\Drafts`).
    Drafts,
    /// Junk Email (`\Junk`).
    JunkEmail,
    /// Sync Issues and its subtree: never shown over IMAP.
    SyncIssues,
}

impl FolderRole {
    /// The role of a store folder, when it is one midb treats specially.
    pub fn of_store(role: groxide_store::FolderRole) -> Option<FolderRole> {
        use groxide_store::FolderRole as R;
        Some(match role {
            R::IpmSubtree => FolderRole::IpmSubtree,
            R::Inbox => FolderRole::Inbox,
            R::Outbox => FolderRole::Outbox,
            R::Sent => FolderRole::SentItems,
            R::Trash => FolderRole::DeletedItems,
            R::Drafts => FolderRole::Drafts,
            R::Junk => FolderRole::JunkEmail,
            R::SyncIssues => FolderRole::SyncIssues,
            _ => return None,
        })
    }
}

/// One folder of the store's tree, as the names need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The folder's id.
    pub id: FolderId,
    /// Its parent's id (0 for the root).
    pub parent: FolderId,
    /// PR_DISPLAY_NAME.
    pub display_name: String,
    /// PR_CONTAINER_CLASS ("" or "IPF.Note…" for mail).
    pub container_class: String,
    /// The standard folder this is, if any.
    pub role: Option<FolderRole>,
    /// PR_ATTR_HIDDEN: not shown to clients.
    pub hidden: bool,
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
}

impl FolderInfo {
    /// The tree's view of a store folder.
    pub fn of_store(f: &groxide_store::FolderInfo) -> FolderInfo {
        FolderInfo {
            id: f.id.0,
            parent: f.parent.map_or(0, |p| p.0),
            display_name: f.name.clone(),
            container_class: f.container_class.clone(),
            role: f.role.and_then(FolderRole::of_store),
            hidden: f.hidden,
            uidvalidity: f.uidvalidity.0,
        }
    }
}

/// The hierarchy separator of IMAP names.
pub const SEPARATOR: char = '/';
/// What a `/` in a display name is shown as.
pub const ESCAPED_SLASH: char = '\u{2215}';
/// Longest component of a mailbox name, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Deepest hierarchy a name may have.
pub const MAX_DEPTH: usize = 64;

/// One listed mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEntry {
    /// The IMAP name (UTF-8, `/`-separated).
    pub name: String,
    /// The store folder.
    pub folder: FolderId,
    /// The folder's standard role, if any.
    pub role: Option<FolderRole>,
    /// Special-use attribute.
    pub special_use: Option<SpecialUse>,
    /// Subscribed (the tree says `true`; the store's subscriptions are
    /// applied by the view when listing).
    pub subscribed: bool,
    /// Whether listed mailboxes exist below it.
    pub has_children: bool,
    /// Not a mail folder; shown only as a parent.
    pub noselect: bool,
}

impl MailboxEntry {
    /// The contract's form of the entry.
    pub fn to_view(&self) -> groxide_mailview::MailboxEntry {
        groxide_mailview::MailboxEntry {
            name: self.name.clone(),
            folder: self.folder,
            special_use: self.special_use,
            subscribed: self.subscribed,
            has_children: self.has_children,
            noselect: self.noselect,
            nonexistent: false,
        }
    }
}

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// No mailbox of that name.
    #[error("no mailbox named {0:?}")]
    NotFound(String),
    /// A mailbox of that name exists.
    #[error("mailbox {0:?} exists")]
    Exists(String),
    /// The name is malformed.
    #[error("invalid mailbox name {name:?}: {reason}")]
    Invalid {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The operation is not allowed on this mailbox.
    #[error("{0}")]
    NotPermitted(String),
}

/// The mailboxes of one store, built from its folder list.
#[derive(Debug, Clone, Default)]
pub struct MailboxTree {
    entries: Vec<MailboxEntry>,
    /// Normalised name → index in `entries`.
    by_name: HashMap<String, usize>,
    /// Folder id → index in `entries`.
    by_folder: HashMap<FolderId, usize>,
    /// Folder id → ids of its child folders (all of them, listed or not).
    children: HashMap<FolderId, Vec<FolderId>>,
    /// The IPM_SUBTREE folder (parent of top-level mailboxes).
    root: FolderId,
}

/// The name of a standard folder, whatever its display name says.
fn role_name(role: FolderRole) -> Option<&'static str> {
    match role {
        FolderRole::Inbox => Some("INBOX"),
        FolderRole::SentItems => Some("Sent Items"),
        FolderRole::DeletedItems => Some("Deleted Items"),
        FolderRole::Drafts => Some("Drafts"),
        FolderRole::JunkEmail => Some("Junk Email"),
        FolderRole::Outbox => Some("Outbox"),
        FolderRole::IpmSubtree | FolderRole::SyncIssues => None,
    }
}

fn role_special_use(role: Option<FolderRole>) -> Option<SpecialUse> {
    match role? {
        FolderRole::SentItems => Some(SpecialUse::Sent),
        FolderRole::Drafts => Some(SpecialUse::Drafts),
        FolderRole::DeletedItems => Some(SpecialUse::Trash),
        FolderRole::JunkEmail => Some(SpecialUse::Junk),
        _ => None,
    }
}

/// Whether a container class is a mail folder's.
pub fn is_mail_class(class: &str) -> bool {
    class.is_empty()
        || class
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("IPF.Note"))
}

/// A display name as one component of an IMAP name.
pub fn component_of_display_name(display: &str) -> String {
    display.replace(SEPARATOR, &ESCAPED_SLASH.to_string())
}

/// One component of an IMAP name as a display name.
pub fn display_name_of_component(component: &str) -> String {
    component.replace(ESCAPED_SLASH, &SEPARATOR.to_string())
}

/// The key names are looked up by: `INBOX` as first component is
/// case-insensitive, everything else is case-sensitive.
fn lookup_key(name: &str) -> String {
    let (first, rest) = match name.split_once(SEPARATOR) {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    let first = if first.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        first
    };
    match rest {
        Some(r) => format!("{first}{SEPARATOR}{r}"),
        None => first.to_owned(),
    }
}

/// Splits and checks a name a client gave: no empty components, no control
/// characters, bounded lengths. One trailing separator is ignored (RFC 3501
/// CREATE `foo/`).
pub fn split_name(name: &str) -> Result<Vec<String>, NameError> {
    let invalid = |reason| NameError::Invalid {
        name: name.to_owned(),
        reason,
    };
    let trimmed = name.strip_suffix(SEPARATOR).unwrap_or(name);
    if trimmed.is_empty() {
        return Err(invalid("empty name"));
    }
    let key = lookup_key(trimmed);
    let parts: Vec<String> = key.split(SEPARATOR).map(str::to_owned).collect();
    if parts.len() > MAX_DEPTH {
        return Err(invalid("too deep"));
    }
    for p in &parts {
        if p.is_empty() {
            return Err(invalid("empty hierarchy level"));
        }
        if p.len() > MAX_COMPONENT_BYTES {
            return Err(invalid("a hierarchy level is too long"));
        }
        if p.chars().any(char::is_control) {
            return Err(invalid("control characters"));
        }
        if p.trim() != p {
            return Err(invalid("leading or trailing white space"));
        }
    }
    Ok(parts)
}

/// What CREATE has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePlan {
    /// The deepest existing folder the new ones go under.
    pub parent: FolderId,
    /// Display names of the folders to create, outermost first.
    pub create: Vec<String>,
}

/// What RENAME has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenamePlan {
    /// The folder renamed (for INBOX: whose messages move).
    pub folder: FolderId,
    /// Whether this is INBOX (RFC 3501: its messages move to a new mailbox).
    pub inbox: bool,
    /// Where the renamed folder goes: parents to create first, as in CREATE.
    pub parents: CreatePlan,
    /// Display name of the renamed folder.
    pub new_display_name: String,
}

struct Builder<'a> {
    folders: HashMap<FolderId, &'a FolderInfo>,
    children: HashMap<FolderId, Vec<FolderId>>,
    entries: Vec<MailboxEntry>,
}

impl Builder<'_> {
    /// Adds the mailboxes below `parent` (whose name is `prefix`); returns
    /// whether any was listed.
    fn walk(&mut self, parent: FolderId, prefix: Option<&str>) -> bool {
        let mut kids: Vec<&FolderInfo> = self
            .children
            .get(&parent)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.folders.get(id).copied())
                    .collect()
            })
            .unwrap_or_default();
        // Standard folders first so they keep their names on a collision.
        kids.sort_by_key(|f| (f.role.and_then(role_name).is_none(), f.id));
        let mut taken: HashMap<String, ()> = HashMap::new();
        let mut any = false;
        for f in kids {
            if f.hidden || f.role == Some(FolderRole::SyncIssues) {
                continue;
            }
            let standard = if prefix.is_none() {
                f.role.and_then(role_name)
            } else {
                None
            };
            let mut component = match standard {
                Some(n) => n.to_owned(),
                None if f.display_name.trim().is_empty() => f.id.to_string(),
                None => component_of_display_name(&f.display_name),
            };
            let collides = |c: &str| {
                let key = if prefix.is_none() && c.eq_ignore_ascii_case("INBOX") {
                    "INBOX".to_owned()
                } else {
                    c.to_owned()
                };
                taken.contains_key(&key)
                    || (prefix.is_none() && key == "INBOX" && f.role != Some(FolderRole::Inbox))
            };
            if collides(&component) {
                component = format!("{component}.{}", f.id);
            }
            let key = if prefix.is_none() && component.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_owned()
            } else {
                component.clone()
            };
            taken.insert(key, ());
            let name = match prefix {
                Some(p) => format!("{p}{SEPARATOR}{component}"),
                None => component,
            };
            let at = self.entries.len();
            let mail = is_mail_class(&f.container_class);
            self.entries.push(MailboxEntry {
                name: name.clone(),
                folder: f.id,
                role: f.role,
                special_use: role_special_use(f.role),
                subscribed: true,
                has_children: false,
                noselect: !mail,
            });
            let below = self.walk(f.id, Some(&name));
            if let Some(e) = self.entries.get_mut(at) {
                e.has_children = below;
            }
            if mail || below {
                any = true;
            } else {
                // A non-mail folder with nothing to show below it is not listed.
                self.entries.truncate(at);
            }
        }
        any
    }
}

impl MailboxTree {
    /// Builds the mailbox list of a store from all its folders.
    pub fn build(folders: &[FolderInfo]) -> MailboxTree {
        let root = folders
            .iter()
            .find(|f| f.role == Some(FolderRole::IpmSubtree))
            .map(|f| f.id);
        let mut children: HashMap<FolderId, Vec<FolderId>> = HashMap::new();
        for f in folders {
            if f.id != f.parent {
                children.entry(f.parent).or_default().push(f.id);
            }
        }
        let Some(root) = root else {
            return MailboxTree {
                children,
                ..MailboxTree::default()
            };
        };
        let mut b = Builder {
            folders: folders.iter().map(|f| (f.id, f)).collect(),
            children,
            entries: Vec::new(),
        };
        b.walk(root, None);
        let mut entries = b.entries;
        let inbox_tree = |n: &str| n == "INBOX" || n.starts_with("INBOX/");
        entries
            .sort_by(|a, b| (!inbox_tree(&a.name), &a.name).cmp(&(!inbox_tree(&b.name), &b.name)));
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (lookup_key(&e.name), i))
            .collect();
        let by_folder = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.folder, i))
            .collect();
        MailboxTree {
            entries,
            by_name,
            by_folder,
            children: b.children,
            root,
        }
    }

    /// The IPM_SUBTREE folder, parent of the top-level mailboxes.
    pub fn root(&self) -> FolderId {
        self.root
    }

    /// Every listed mailbox, INBOX first, then by name.
    pub fn entries(&self) -> &[MailboxEntry] {
        &self.entries
    }

    /// The mailbox called `name` (`INBOX` case-insensitively).
    pub fn find(&self, name: &str) -> Option<&MailboxEntry> {
        let key = lookup_key(name.strip_suffix(SEPARATOR).unwrap_or(name));
        self.by_name.get(&key).and_then(|&i| self.entries.get(i))
    }

    /// The selectable mailbox called `name`.
    pub fn find_selectable(&self, name: &str) -> Result<&MailboxEntry, NameError> {
        match self.find(name) {
            Some(e) if !e.noselect => Ok(e),
            _ => Err(NameError::NotFound(name.to_owned())),
        }
    }

    /// The mailbox of a folder.
    pub fn by_folder(&self, folder: FolderId) -> Option<&MailboxEntry> {
        self.by_folder
            .get(&folder)
            .and_then(|&i| self.entries.get(i))
    }

    /// Whether the folder has child folders in the store (listed or not).
    pub fn has_child_folders(&self, folder: FolderId) -> bool {
        self.children.get(&folder).is_some_and(|c| !c.is_empty())
    }

    /// Plans CREATE `name`: which existing folder is the parent and which
    /// folders must be made (parents included, RFC 3501).
    pub fn plan_create(&self, name: &str) -> Result<CreatePlan, NameError> {
        let parts = split_name(name)?;
        let mut parent = self.root;
        let mut prefix = String::new();
        for (i, part) in parts.iter().enumerate() {
            if !prefix.is_empty() {
                prefix.push(SEPARATOR);
            }
            prefix.push_str(part);
            match self.find(&prefix) {
                Some(e) => parent = e.folder,
                None => {
                    if self.root == 0 {
                        return Err(NameError::NotPermitted(
                            "the store has no IPM subtree".into(),
                        ));
                    }
                    return Ok(CreatePlan {
                        parent,
                        create: parts[i..]
                            .iter()
                            .map(|c| display_name_of_component(c))
                            .collect(),
                    });
                }
            }
        }
        Err(NameError::Exists(name.to_owned()))
    }

    /// Plans RENAME `from` `to`.
    pub fn plan_rename(&self, from: &str, to: &str) -> Result<RenamePlan, NameError> {
        let source = self
            .find(from)
            .ok_or_else(|| NameError::NotFound(from.to_owned()))?;
        let to_parts = split_name(to)?;
        if self.find(to).is_some() {
            return Err(NameError::Exists(to.to_owned()));
        }
        let inbox = source.role == Some(FolderRole::Inbox);
        if !inbox && role_name_of(source.role).is_some() {
            return Err(NameError::NotPermitted(format!(
                "{} is a standard folder and keeps its name",
                source.name
            )));
        }
        let to_key = to_parts.join(&SEPARATOR.to_string());
        let from_prefix = format!("{}{SEPARATOR}", lookup_key(&source.name));
        if !inbox && to_key.starts_with(&from_prefix) {
            return Err(NameError::NotPermitted(
                "a mailbox cannot move below itself".into(),
            ));
        }
        let (last, parent_parts) = match to_parts.split_last() {
            Some(x) => x,
            None => {
                return Err(NameError::Invalid {
                    name: to.to_owned(),
                    reason: "empty name",
                });
            }
        };
        let parents = if parent_parts.is_empty() {
            CreatePlan {
                parent: self.root,
                create: Vec::new(),
            }
        } else {
            match self.plan_create(&parent_parts.join(&SEPARATOR.to_string())) {
                Ok(p) => p,
                Err(NameError::Exists(_)) => {
                    let parent = self
                        .find(&parent_parts.join(&SEPARATOR.to_string()))
                        .map(|e| e.folder)
                        .unwrap_or(self.root);
                    CreatePlan {
                        parent,
                        create: Vec::new(),
                    }
                }
                Err(e) => return Err(e),
            }
        };
        Ok(RenamePlan {
            folder: source.folder,
            inbox,
            parents,
            new_display_name: display_name_of_component(last),
        })
    }

    /// Checks DELETE `name` and returns its folder. Standard folders and
    /// folders with subfolders are refused (RFC 3501 allows either; refusing
    /// never loses a subtree).
    pub fn plan_delete(&self, name: &str) -> Result<FolderId, NameError> {
        let e = self
            .find(name)
            .ok_or_else(|| NameError::NotFound(name.to_owned()))?;
        if role_name_of(e.role).is_some() {
            return Err(NameError::NotPermitted(format!(
                "{} is a standard folder and cannot be deleted",
                e.name
            )));
        }
        if self.has_child_folders(e.folder) {
            return Err(NameError::NotPermitted(format!(
                "{} has subfolders; delete them first",
                e.name
            )));
        }
        Ok(e.folder)
    }
}

fn role_name_of(role: Option<FolderRole>) -> Option<&'static str> {
    role.and_then(role_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(
        id: u64,
        parent: u64,
        name: &str,
        class: &str,
        role: Option<FolderRole>,
    ) -> FolderInfo {
        FolderInfo {
            id,
            parent,
            display_name: name.into(),
            container_class: class.into(),
            role,
            hidden: false,
            uidvalidity: id as u32,
        }
    }

    /// A German store: translated display names, a calendar, Sync Issues,
    /// user folders with a slash, a clash with "inbox", a mail folder under
    /// the calendar, and a hidden folder.
    fn store() -> Vec<FolderInfo> {
        use FolderRole::*;
        let mut hidden = folder(
            40,
            9,
            "Conversation Action Settings",
            "IPF.Configuration",
            None,
        );
        hidden.hidden = true;
        vec![
            folder(1, 0, "Root Container", "", None),
            folder(9, 1, "Oberste Ebene", "", Some(IpmSubtree)),
            folder(10, 9, "Gesendete Elemente", "IPF.Note", Some(SentItems)),
            folder(11, 9, "Gelöschte Elemente", "IPF.Note", Some(DeletedItems)),
            folder(12, 9, "Postausgang", "IPF.Note", Some(Outbox)),
            folder(13, 9, "Posteingang", "IPF.Note", Some(Inbox)),
            folder(14, 9, "Entwürfe", "IPF.Note", Some(Drafts)),
            folder(15, 9, "Kalender", "IPF.Appointment", None),
            folder(19, 9, "Kontakte", "IPF.Contact", None),
            folder(23, 9, "Junk-E-Mail", "IPF.Note", Some(JunkEmail)),
            folder(
                25,
                9,
                "Synchronisierungsprobleme",
                "IPF.Note",
                Some(SyncIssues),
            ),
            folder(26, 25, "Konflikte", "IPF.Note", None),
            folder(30, 9, "Projekte 2024/2025", "IPF.Note", None),
            folder(31, 30, "Angebote", "", None),
            folder(32, 13, "Rechnungen", "IPF.Note", None),
            folder(33, 9, "inbox", "IPF.Note", None),
            folder(34, 15, "Meeting notes", "IPF.Note", None),
            folder(35, 9, "Sent Items", "IPF.Note", None),
            hidden,
        ]
    }

    fn names(t: &MailboxTree) -> Vec<String> {
        t.entries()
            .iter()
            .map(|e| {
                let mut s = e.name.clone();
                if let Some(u) = e.special_use {
                    s.push_str(&format!(" \\{}", u.as_str()));
                }
                if e.has_children {
                    s.push_str(" +children");
                }
                if e.noselect {
                    s.push_str(" noselect");
                }
                s
            })
            .collect()
    }

    #[test]
    fn a_translated_store_lists_english_standard_names_and_hides_system_folders() {
        let t = MailboxTree::build(&store());
        assert_eq!(
            names(&t),
            [
                "INBOX +children",
                "INBOX/Rechnungen",
                "Deleted Items \\Trash",
                "Drafts \\Drafts",
                "Junk Email \\Junk",
                "Kalender +children noselect",
                "Kalender/Meeting notes",
                "Outbox",
                "Projekte 2024\u{2215}2025 +children",
                "Projekte 2024\u{2215}2025/Angebote",
                "Sent Items \\Sent",
                "Sent Items.35",
                "inbox.33",
            ]
        );
    }

    #[test]
    fn names_are_found_with_inbox_case_insensitive() {
        let t = MailboxTree::build(&store());
        let check = |name: &str, folder: Option<u64>| {
            assert_eq!(t.find(name).map(|e| e.folder), folder, "{name}");
        };
        check("INBOX", Some(13));
        check("inbox", Some(13));
        check("InBoX/Rechnungen", Some(32));
        check("INBOX/rechnungen", None);
        check("Sent Items", Some(10));
        check("sent items", None);
        check("Sent Items.35", Some(35));
        check("inbox.33", Some(33));
        check("Projekte 2024\u{2215}2025/Angebote", Some(31));
        check("Kontakte", None);
        check("Synchronisierungsprobleme", None);
        check("Drafts/", Some(14));
        assert!(t.find_selectable("Kalender").is_err());
        assert!(t.find_selectable("Kalender/Meeting notes").is_ok());
    }

    #[test]
    fn create_makes_missing_parents_and_maps_division_slash() {
        let t = MailboxTree::build(&store());
        let check = |name: &str, expected: Result<(u64, Vec<&str>), NameError>| {
            let got = t.plan_create(name).map(|p| (p.parent, p.create));
            let want = expected.map(|(p, c)| (p, c.into_iter().map(str::to_owned).collect()));
            assert_eq!(got, want, "{name}");
        };
        check("Archive", Ok((9, vec!["Archive"])));
        check("a/b/c", Ok((9, vec!["a", "b", "c"])));
        check("inbox/2024", Ok((13, vec!["2024"])));
        check("Projekte 2024\u{2215}2025/Neu/", Ok((30, vec!["Neu"])));
        check("x\u{2215}y", Ok((9, vec!["x/y"])));
        check("INBOX", Err(NameError::Exists("INBOX".into())));
        check("Sent Items", Err(NameError::Exists("Sent Items".into())));
        assert!(matches!(t.plan_create(""), Err(NameError::Invalid { .. })));
        assert!(matches!(
            t.plan_create("a//b"),
            Err(NameError::Invalid { .. })
        ));
        assert!(matches!(
            t.plan_create(" a"),
            Err(NameError::Invalid { .. })
        ));
        assert!(matches!(
            t.plan_create("a\tb"),
            Err(NameError::Invalid { .. })
        ));
        let long = "x".repeat(MAX_COMPONENT_BYTES + 1);
        assert!(matches!(
            t.plan_create(&long),
            Err(NameError::Invalid { .. })
        ));
    }

    #[test]
    fn rename_follows_rfc3501_rules() {
        let t = MailboxTree::build(&store());
        let p = t
            .plan_rename("Projekte 2024\u{2215}2025", "Archiv/Projekte")
            .unwrap();
        assert_eq!(p.folder, 30);
        assert!(!p.inbox);
        assert_eq!(p.parents.parent, 9);
        assert_eq!(p.parents.create, vec!["Archiv".to_string()]);
        assert_eq!(p.new_display_name, "Projekte");
        let inbox = t.plan_rename("inbox", "Old mail").unwrap();
        assert!(inbox.inbox);
        assert_eq!(inbox.folder, 13);
        let into_existing = t.plan_rename("inbox.33", "INBOX/Rechnungen/x").unwrap();
        assert_eq!(into_existing.parents.parent, 32);
        assert!(into_existing.parents.create.is_empty());
        assert_eq!(
            t.plan_rename("nope", "x"),
            Err(NameError::NotFound("nope".into()))
        );
        assert_eq!(
            t.plan_rename("inbox.33", "Drafts"),
            Err(NameError::Exists("Drafts".into()))
        );
        assert!(matches!(
            t.plan_rename("Sent Items", "Gesendet"),
            Err(NameError::NotPermitted(_))
        ));
        assert!(matches!(
            t.plan_rename("Projekte 2024\u{2215}2025", "Projekte 2024\u{2215}2025/sub"),
            Err(NameError::NotPermitted(_))
        ));
    }

    #[test]
    fn delete_refuses_standard_folders_and_folders_with_children() {
        let t = MailboxTree::build(&store());
        assert_eq!(t.plan_delete("Projekte 2024\u{2215}2025/Angebote"), Ok(31));
        assert_eq!(t.plan_delete("inbox.33"), Ok(33));
        assert!(matches!(
            t.plan_delete("INBOX"),
            Err(NameError::NotPermitted(_))
        ));
        assert!(matches!(
            t.plan_delete("Drafts"),
            Err(NameError::NotPermitted(_))
        ));
        assert!(matches!(
            t.plan_delete("Projekte 2024\u{2215}2025"),
            Err(NameError::NotPermitted(_))
        ));
        assert_eq!(
            t.plan_delete("nope"),
            Err(NameError::NotFound("nope".into()))
        );
    }

    #[test]
    fn a_store_without_ipm_subtree_lists_nothing() {
        let t = MailboxTree::build(&[folder(1, 0, "Root", "", None)]);
        assert!(t.entries().is_empty());
        assert!(t.find("INBOX").is_none());
    }

    #[test]
    fn a_new_store_in_any_language_lists_only_its_mail_folders() {
        for lang in ["de", "ja", ""] {
            let tmp = tempfile::tempdir().unwrap();
            let (store, _, _) = groxide_store::Store::create(
                &tmp.path().join("u"),
                &groxide_store::NewStore {
                    kind: groxide_store::StoreKind::Private,
                    owner: "u".into(),
                    lang: lang.into(),
                    quota_bytes: 0,
                },
                &groxide_store::OpenOptions::default(),
            )
            .unwrap();
            let folders: Vec<FolderInfo> = store
                .folders()
                .unwrap()
                .iter()
                .map(FolderInfo::of_store)
                .collect();
            let t = MailboxTree::build(&folders);
            let listed = names(&t);
            // The groupware folders (Calendar, Contacts, Tasks, Notes,
            // Journal) exist in the store but IMAP does not see them.
            for f in store.folders().unwrap() {
                if !is_mail_class(&f.container_class) {
                    assert!(
                        !listed
                            .iter()
                            .any(|n| n.split(' ').next() == Some(f.name.as_str())),
                        "{lang}: {} ({}) is listed: {listed:?}",
                        f.name,
                        f.container_class
                    );
                }
            }
            // Mail folders of a role keep their IMAP names in every language.
            assert!(listed.iter().any(|n| n == "INBOX"), "{lang}: {listed:?}");
            assert!(
                listed.iter().any(|n| n == "Sent Items \\Sent"),
                "{lang}: {listed:?}"
            );
        }
    }
}
