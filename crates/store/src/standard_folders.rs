//! The standard folder tree: the well-known roles and the fixed folders
//! (ids, names, parents, classes) every new private or public store starts
//! with. Re-exported from folders.

macro_rules! roles {
    ($($variant:ident => $name:literal,)*) => {
        /// A well-known folder, so callers can say "Inbox" without knowing ids.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FolderRole {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl FolderRole {
            /// The role's name (lower case, as stored and as the RPC takes it).
            pub fn as_str(self) -> &'static str {
                match self { $(FolderRole::$variant => $name,)* }
            }

            /// Parses a role name (ASCII case-insensitive).
            pub fn parse(s: &str) -> Option<FolderRole> {
                match s.to_ascii_lowercase().as_str() {
                    $($name => Some(FolderRole::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

roles! {
    Root => "root",
    DeferredAction => "deferred_action",
    SpoolerQueue => "spooler_queue",
    Shortcuts => "shortcuts",
    Finder => "finder",
    Views => "views",
    CommonViews => "common_views",
    Schedule => "schedule",
    IpmSubtree => "ipm_subtree",
    Sent => "sent",
    Trash => "trash",
    Outbox => "outbox",
    Inbox => "inbox",
    Drafts => "drafts",
    Calendar => "calendar",
    Journal => "journal",
    Notes => "notes",
    Tasks => "tasks",
    Contacts => "contacts",
    QuickContacts => "quick_contacts",
    ImContacts => "im_contacts",
    GalContacts => "gal_contacts",
    Junk => "junk",
    Freebusy => "freebusy",
    SyncIssues => "sync_issues",
    Conflicts => "conflicts",
    LocalFailures => "local_failures",
    ServerFailures => "server_failures",
    ConversationActions => "conversation_actions",
    NonIpmSubtree => "non_ipm_subtree",
    EformsRegistry => "eforms_registry",
}

/// A folder of the standard tree: fixed id, name, parent, class, role.
#[derive(Debug, Clone, Copy)]
pub struct StandardFolder {
    /// Fixed id (gromox's GCV).
    pub id: u64,
    /// English display name.
    pub name: &'static str,
    /// Parent id; 0 for the root.
    pub parent: u64,
    /// PR_CONTAINER_CLASS ("" for none).
    pub class: &'static str,
    /// Its role.
    pub role: FolderRole,
    /// Hidden from clients' folder lists.
    pub hidden: bool,
}

const fn sf(
    id: u64,
    name: &'static str,
    parent: u64,
    class: &'static str,
    role: FolderRole,
    hidden: bool,
) -> StandardFolder {
    StandardFolder {
        id,
        name,
        parent,
        class,
        role,
        hidden,
    }
}

/// The folders of a new private store (gromox's ids 0x01–0x1d).
pub const STANDARD_PRIVATE: &[StandardFolder] = &[
    sf(0x01, "Root Container", 0, "", FolderRole::Root, false),
    sf(
        0x02,
        "Deferred Action",
        0x01,
        "",
        FolderRole::DeferredAction,
        true,
    ),
    sf(
        0x03,
        "Spooler Queue",
        0x01,
        "",
        FolderRole::SpoolerQueue,
        true,
    ),
    sf(0x04, "Shortcuts", 0x01, "", FolderRole::Shortcuts, true),
    sf(0x05, "Finder", 0x01, "", FolderRole::Finder, true),
    sf(0x06, "Views", 0x01, "", FolderRole::Views, true),
    sf(
        0x07,
        "Common Views",
        0x01,
        "",
        FolderRole::CommonViews,
        true,
    ),
    sf(0x08, "Schedule", 0x01, "", FolderRole::Schedule, true),
    sf(
        0x09,
        "Top of Information Store",
        0x01,
        "",
        FolderRole::IpmSubtree,
        false,
    ),
    sf(
        0x0a,
        "Sent Items",
        0x09,
        "IPF.Note",
        FolderRole::Sent,
        false,
    ),
    sf(
        0x0b,
        "Deleted Items",
        0x09,
        "IPF.Note",
        FolderRole::Trash,
        false,
    ),
    sf(0x0c, "Outbox", 0x09, "IPF.Note", FolderRole::Outbox, false),
    sf(0x0d, "Inbox", 0x09, "IPF.Note", FolderRole::Inbox, false),
    sf(0x0e, "Drafts", 0x09, "IPF.Note", FolderRole::Drafts, false),
    sf(
        0x0f,
        "Calendar",
        0x09,
        "IPF.Appointment",
        FolderRole::Calendar,
        false,
    ),
    sf(
        0x10,
        "Journal",
        0x09,
        "IPF.Journal",
        FolderRole::Journal,
        false,
    ),
    sf(
        0x11,
        "Notes",
        0x09,
        "IPF.StickyNote",
        FolderRole::Notes,
        false,
    ),
    sf(0x12, "Tasks", 0x09, "IPF.Task", FolderRole::Tasks, false),
    sf(
        0x13,
        "Contacts",
        0x09,
        "IPF.Contact",
        FolderRole::Contacts,
        false,
    ),
    sf(
        0x14,
        "Quick Contacts",
        0x13,
        "IPF.Contact.MOC.QuickContacts",
        FolderRole::QuickContacts,
        true,
    ),
    sf(
        0x15,
        "IM Contacts List",
        0x13,
        "IPF.Contact.MOC.ImContactList",
        FolderRole::ImContacts,
        true,
    ),
    sf(
        0x16,
        "GAL Contacts",
        0x13,
        "IPF.Contact.GalContacts",
        FolderRole::GalContacts,
        true,
    ),
    sf(
        0x17,
        "Junk Email",
        0x09,
        "IPF.Note",
        FolderRole::Junk,
        false,
    ),
    sf(0x18, "Freebusy Data", 0x01, "", FolderRole::Freebusy, true),
    sf(
        0x19,
        "Sync Issues",
        0x09,
        "IPF.Note",
        FolderRole::SyncIssues,
        false,
    ),
    sf(
        0x1a,
        "Conflicts",
        0x19,
        "IPF.Note",
        FolderRole::Conflicts,
        false,
    ),
    sf(
        0x1b,
        "Local Failures",
        0x19,
        "IPF.Note",
        FolderRole::LocalFailures,
        false,
    ),
    sf(
        0x1c,
        "Server Failures",
        0x19,
        "IPF.Note",
        FolderRole::ServerFailures,
        false,
    ),
    sf(
        0x1d,
        "Conversation Action Settings",
        0x09,
        "IPF.Configuration",
        FolderRole::ConversationActions,
        true,
    ),
];

/// The folders of a new public store.
pub const STANDARD_PUBLIC: &[StandardFolder] = &[
    sf(0x01, "Root Container", 0, "", FolderRole::Root, false),
    sf(0x02, "IPM_SUBTREE", 0x01, "", FolderRole::IpmSubtree, false),
    sf(
        0x03,
        "NON_IPM_SUBTREE",
        0x01,
        "",
        FolderRole::NonIpmSubtree,
        false,
    ),
    sf(
        0x04,
        "EFORMS REGISTRY",
        0x03,
        "",
        FolderRole::EformsRegistry,
        false,
    ),
];
