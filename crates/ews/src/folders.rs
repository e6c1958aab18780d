//! Folders as EWS shows them: the distinguished folder names of the schema
//! and the store role each names, the folder element (`t:Folder`,
//! `t:CalendarFolder`, … by container class), and folder shapes.

use crate::ids::{FolderKey, StoreGuid, change_key};
use crate::items::ItemKind;
use crate::xml::{Element, EwsElement, XmlWriter};
use groxide_rpc::pb::exmdb::v1 as pb;

/// Every `DistinguishedFolderIdNameType` value of the schema (up to
/// Exchange 2019) with the store role that holds it; `None` for names no
/// store of this server has (answered `ErrorFolderNotFound`, never a fault,
/// so clients that ask for all of them at once go on).
pub const DISTINGUISHED: &[(&str, Option<&str>)] = &[
    ("root", Some("root")),
    ("msgfolderroot", Some("ipm_subtree")),
    ("inbox", Some("inbox")),
    ("outbox", Some("outbox")),
    ("sentitems", Some("sent")),
    ("deleteditems", Some("trash")),
    ("drafts", Some("drafts")),
    ("junkemail", Some("junk")),
    ("calendar", Some("calendar")),
    ("contacts", Some("contacts")),
    ("tasks", Some("tasks")),
    ("notes", Some("notes")),
    ("journal", Some("journal")),
    ("quickcontacts", Some("quick_contacts")),
    ("imcontactlist", Some("im_contacts")),
    ("syncissues", Some("sync_issues")),
    ("conflicts", Some("conflicts")),
    ("localfailures", Some("local_failures")),
    ("serverfailures", Some("server_failures")),
    ("searchfolders", Some("finder")),
    ("archive", None),
    ("archiveroot", None),
    ("archivemsgfolderroot", None),
    ("archivedeleteditems", None),
    ("archiveinbox", None),
    ("archiverecoverableitemsroot", None),
    ("archiverecoverableitemsdeletions", None),
    ("archiverecoverableitemsversions", None),
    ("archiverecoverableitemspurges", None),
    ("archiverecoverableitemsdiscoveryholds", None),
    ("conversationhistory", None),
    ("recipientcache", None),
    ("publicfoldersroot", None),
    ("voicemail", None),
    ("recoverableitemsroot", None),
    ("recoverableitemsdeletions", None),
    ("recoverableitemsversions", None),
    ("recoverableitemspurges", None),
    ("recoverableitemsdiscoveryholds", None),
    ("adminauditlogs", None),
    ("todosearch", None),
    ("mycontacts", None),
    ("directory", None),
    ("peopleconnect", None),
    ("favorites", None),
    ("fromfavoritesenders", None),
    ("companycontacts", None),
    ("organizationalcontacts", None),
    ("peoplecentricconversationbuffers", None),
    ("userssearchfolder", None),
    ("workingset", None),
    ("externalcontacts", None),
    ("allcategorizeditems", None),
    ("allcontacts", None),
    ("allpersonmetadata", None),
    ("allitems", None),
    ("alltodotasks", None),
    ("deferredaction", None),
    ("mydrive", None),
    ("shortnotes", None),
    ("clutter", None),
];

/// The store role a distinguished folder name names; `None` when this
/// server has no such folder (or the name is not in the schema).
pub fn role_of(name: &str) -> Option<&'static str> {
    DISTINGUISHED
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, role)| *role)
}

/// How much of a folder to write (`BaseShape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderShape {
    /// `IdOnly`.
    IdOnly,
    /// `Default` and `AllProperties`: every property this server has.
    Full,
}

impl FolderShape {
    /// The shape a `FolderShape` element asks for: `IdOnly` without
    /// `AdditionalProperties` is the id alone; anything else gets every
    /// property this server has (a client asking for some gets them).
    pub fn of(shape: Option<&Element>) -> FolderShape {
        let Some(shape) = shape else {
            return FolderShape::Full;
        };
        let extra = shape
            .t("AdditionalProperties")
            .is_some_and(|a| !a.children.is_empty());
        if shape.t_text("BaseShape") == Some("IdOnly") && !extra {
            FolderShape::IdOnly
        } else {
            FolderShape::Full
        }
    }
}

/// The folder element name for a container class.
pub fn element_of(container_class: &str, role: &str) -> &'static str {
    if role == "finder" {
        return "t:Folder";
    }
    match ItemKind::of_container_class(container_class) {
        ItemKind::Calendar => "t:CalendarFolder",
        ItemKind::Contact => "t:ContactsFolder",
        ItemKind::Task => "t:TasksFolder",
        ItemKind::Message | ItemKind::Note | ItemKind::Journal => "t:Folder",
    }
}

/// Writes one folder. `children` is its number of listed subfolders.
pub fn write_folder(
    w: &mut XmlWriter,
    store: StoreGuid,
    folder: &pb::Folder,
    shape: FolderShape,
    children: u64,
) {
    let element = element_of(&folder.container_class, &folder.role);
    w.open(element, &[]);
    let id = FolderKey {
        store,
        folder: folder.id,
    }
    .encode();
    let ck = change_key(folder.change_number);
    w.empty("t:FolderId", &[("Id", &id), ("ChangeKey", &ck)]);
    if shape == FolderShape::Full {
        if folder.parent_id != 0 {
            let parent = FolderKey {
                store,
                folder: folder.parent_id,
            }
            .encode();
            w.empty("t:ParentFolderId", &[("Id", &parent)]);
        }
        if !folder.container_class.is_empty() {
            w.leaf("t:FolderClass", &folder.container_class);
        }
        w.leaf("t:DisplayName", &folder.name)
            .leaf("t:TotalCount", &folder.message_count.to_string())
            .leaf("t:ChildFolderCount", &children.to_string());
        if matches!(element, "t:Folder" | "t:TasksFolder") {
            w.leaf("t:UnreadCount", &folder.unread_count.to_string());
        }
    }
    w.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_outlook_asks_for_is_known() {
        for name in [
            "inbox",
            "drafts",
            "sentitems",
            "deleteditems",
            "junkemail",
            "outbox",
            "msgfolderroot",
            "root",
            "calendar",
            "contacts",
            "tasks",
            "notes",
            "journal",
            "searchfolders",
            "syncissues",
            "quickcontacts",
        ] {
            assert!(role_of(name).is_some(), "{name}");
        }
        for name in ["archive", "conversationhistory", "recipientcache"] {
            assert!(DISTINGUISHED.iter().any(|(n, _)| *n == name), "{name}");
            assert_eq!(role_of(name), None);
        }
    }

    #[test]
    fn folder_elements_follow_the_container_class() {
        let table = [
            ("IPF.Note", "", "t:Folder"),
            ("", "ipm_subtree", "t:Folder"),
            ("IPF.Appointment", "calendar", "t:CalendarFolder"),
            ("IPF.Contact", "", "t:ContactsFolder"),
            ("IPF.Contact.MOC.QuickContacts", "", "t:ContactsFolder"),
            ("IPF.Task", "", "t:TasksFolder"),
            ("IPF.StickyNote", "", "t:Folder"),
        ];
        for (class, role, want) in table {
            assert_eq!(element_of(class, role), want, "{class}");
        }
    }
}
