//! Items: which kind of item a folder holds (the one place a container
//! class picks an item handler — messages today; calendar items, contacts
//! and tasks plug in here when the groupware store serves them), the item
//! properties a request asks for (shapes and `FieldURI`s), and the
//! `t:Message` element built from a stored message's MAPI properties.

use crate::ids::{ItemKey, change_key};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use groxide_mapi::tags;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::pb::exmdb::v1::prop::Value;

/// The kinds of item a folder's container class stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `IPF.Note` and every class not named below: mail.
    Message,
    /// `IPF.Appointment`.
    Calendar,
    /// `IPF.Contact`.
    Contact,
    /// `IPF.Task`.
    Task,
    /// `IPF.StickyNote`.
    Note,
    /// `IPF.Journal`.
    Journal,
}

impl ItemKind {
    /// The kind of the items in a folder of `container_class`.
    pub fn of_container_class(container_class: &str) -> ItemKind {
        let is = |prefix: &str| {
            container_class == prefix
                || container_class
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        if is("IPF.Appointment") {
            ItemKind::Calendar
        } else if is("IPF.Contact") {
            ItemKind::Contact
        } else if is("IPF.Task") {
            ItemKind::Task
        } else if is("IPF.StickyNote") {
            ItemKind::Note
        } else if is("IPF.Journal") {
            ItemKind::Journal
        } else {
            ItemKind::Message
        }
    }

    /// Whether this server serves items of this kind over EWS yet.
    pub fn served(self) -> bool {
        self == ItemKind::Message
    }

    /// The kind's name in messages to clients.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Message => "messages",
            ItemKind::Calendar => "calendar items",
            ItemKind::Contact => "contacts",
            ItemKind::Task => "tasks",
            ItemKind::Note => "notes",
            ItemKind::Journal => "journal entries",
        }
    }
}

macro_rules! fields {
    ($($variant:ident = $uri:literal,)*) => {
        /// An item property this server writes, in the schema's element
        /// order (`ItemType`, then `MessageType`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Field { $($variant,)* }

        impl Field {
            /// Every field, in element order.
            pub const ALL: &[Field] = &[$(Field::$variant,)*];

            /// Its `FieldURI` (`item:Subject`, `message:IsRead`).
            pub fn uri(self) -> &'static str {
                match self { $(Field::$variant => $uri,)* }
            }

            /// The field a `FieldURI` names.
            pub fn parse(uri: &str) -> Option<Field> {
                match uri { $($uri => Some(Field::$variant),)* _ => None }
            }
        }
    };
}

fields! {
    MimeContent = "item:MimeContent",
    ItemId = "item:ItemId",
    ParentFolderId = "item:ParentFolderId",
    ItemClass = "item:ItemClass",
    Subject = "item:Subject",
    Sensitivity = "item:Sensitivity",
    Body = "item:Body",
    Attachments = "item:Attachments",
    DateTimeReceived = "item:DateTimeReceived",
    Size = "item:Size",
    Importance = "item:Importance",
    IsSubmitted = "item:IsSubmitted",
    IsDraft = "item:IsDraft",
    DateTimeSent = "item:DateTimeSent",
    DateTimeCreated = "item:DateTimeCreated",
    DisplayCc = "item:DisplayCc",
    DisplayTo = "item:DisplayTo",
    HasAttachments = "item:HasAttachments",
    LastModifiedTime = "item:LastModifiedTime",
    Flag = "item:Flag",
    Sender = "message:Sender",
    ToRecipients = "message:ToRecipients",
    CcRecipients = "message:CcRecipients",
    BccRecipients = "message:BccRecipients",
    ConversationTopic = "message:ConversationTopic",
    From = "message:From",
    InternetMessageId = "message:InternetMessageId",
    IsRead = "message:IsRead",
    AssociatedCalendarItemId = "meeting:AssociatedCalendarItemId",
    ResponseType = "meeting:ResponseType",
    Uid = "calendar:UID",
    MeetingRequestType = "meetingRequest:MeetingRequestType",
    IntendedFreeBusyStatus = "meetingRequest:IntendedFreeBusyStatus",
    Start = "calendar:Start",
    End = "calendar:End",
    IsAllDayEvent = "calendar:IsAllDayEvent",
    Location = "calendar:Location",
    IsCancelled = "calendar:IsCancelled",
    IsRecurring = "calendar:IsRecurring",
    Organizer = "calendar:Organizer",
}

/// The properties a request wants of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldSet(u64);

impl FieldSet {
    /// Only the id.
    pub fn id_only() -> FieldSet {
        let mut s = FieldSet::default();
        s.insert(Field::ItemId);
        s
    }

    /// The `Default`/`AllProperties` shape: every property but the MIME
    /// content and `Flag` (which exists only from Exchange 2013's schema
    /// on, so it is written only when asked for by name).
    pub fn all_but_mime() -> FieldSet {
        let mut s = FieldSet::default();
        for f in Field::ALL {
            if !matches!(*f, Field::MimeContent | Field::Flag | Field::Attachments) {
                s.insert(*f);
            }
        }
        s
    }

    /// Adds a field.
    pub fn insert(&mut self, f: Field) {
        self.0 |= 1 << (f as u8);
    }

    /// Leaves a field out.
    pub fn remove(&mut self, f: Field) {
        self.0 &= !(1 << (f as u8));
    }

    /// Whether a field is wanted.
    pub fn contains(&self, f: Field) -> bool {
        self.0 & (1 << (f as u8)) != 0
    }

    /// The set as one number (one bit per field), for keys.
    pub fn bits(&self) -> u64 {
        self.0
    }

    /// What the store must read of each message to write these fields
    /// ([`MessageItem::from_stored`] reads nothing else): the MAPI tags,
    /// whether the recipients, whether bodies are derived. The other
    /// fields come from the listing entry, the id or the content.
    pub fn store_selection(&self) -> StoreSelection {
        let mut tags = Vec::new();
        for f in Field::ALL {
            if self.contains(*f) {
                tags.extend(f.tags().iter().map(|t| t.0));
            }
        }
        StoreSelection {
            tags,
            recipients: self.contains(Field::ToRecipients)
                || self.contains(Field::CcRecipients)
                || self.contains(Field::BccRecipients),
            bodies: self.contains(Field::Body),
        }
    }

    /// Whether a listing entry alone tells every field (no property,
    /// recipient or content is needed).
    pub fn entry_alone(&self) -> bool {
        !self.contains(Field::MimeContent)
            && !self.contains(Field::Attachments)
            && self.store_selection().is_empty()
    }

    /// The set an `ItemShape` element asks for: `BaseShape` plus
    /// `AdditionalProperties` (`FieldURI`s this server does not keep are
    /// left out of the answer, as for properties an item does not have).
    pub fn from_shape(shape: Option<&Element>) -> FieldSet {
        let Some(shape) = shape else {
            return FieldSet::all_but_mime();
        };
        let mut set = match shape.t_text("BaseShape") {
            Some("IdOnly") => FieldSet::id_only(),
            _ => FieldSet::all_but_mime(),
        };
        if shape.t_text("IncludeMimeContent") == Some("true") {
            set.insert(Field::MimeContent);
        }
        if let Some(extra) = shape.t("AdditionalProperties") {
            for p in &extra.children {
                if p.ns == NS_TYPES
                    && p.name == "FieldURI"
                    && let Some(f) = p.attr("FieldURI").and_then(Field::parse)
                {
                    set.insert(f);
                }
            }
        }
        set
    }
}

impl Field {
    /// Whether only meeting mail has this field (`MeetingMessageType`,
    /// `MeetingRequestMessageType`): told by the message class and read
    /// from the mail's meeting, not from its properties.
    pub fn is_meeting(self) -> bool {
        matches!(
            self,
            Field::AssociatedCalendarItemId
                | Field::ResponseType
                | Field::Uid
                | Field::MeetingRequestType
                | Field::IntendedFreeBusyStatus
                | Field::Start
                | Field::End
                | Field::IsAllDayEvent
                | Field::Location
                | Field::IsCancelled
                | Field::IsRecurring
                | Field::Organizer
        )
    }

    /// The MAPI properties [`MessageItem::from_stored`] builds this field
    /// from (none: the field comes from the listing entry, the id, the
    /// recipients or the content).
    pub fn tags(self) -> &'static [groxide_mapi::PropTag] {
        match self {
            Field::ItemClass => &[tags::PR_MESSAGE_CLASS],
            Field::Subject => &[tags::PR_SUBJECT],
            Field::Sensitivity => &[tags::PR_SENSITIVITY],
            Field::Body => &[tags::PR_BODY],
            Field::Importance => &[tags::PR_IMPORTANCE],
            Field::DateTimeSent => &[tags::PR_CLIENT_SUBMIT_TIME],
            Field::DisplayCc => &[tags::PR_DISPLAY_CC],
            Field::DisplayTo => &[tags::PR_DISPLAY_TO],
            Field::HasAttachments => &[tags::PR_HASATTACH],
            Field::Sender => &[
                tags::PR_SENDER_NAME,
                tags::PR_SENDER_SMTP_ADDRESS,
                tags::PR_SENDER_EMAIL_ADDRESS,
            ],
            Field::From => &[
                tags::PR_SENT_REPRESENTING_NAME,
                tags::PR_SENT_REPRESENTING_SMTP_ADDRESS,
                tags::PR_SENT_REPRESENTING_EMAIL_ADDRESS,
            ],
            Field::ConversationTopic => &[tags::PR_CONVERSATION_TOPIC],
            Field::InternetMessageId => &[tags::PR_INTERNET_MESSAGE_ID],
            // The message class says whether the mail is meeting mail; the
            // meeting itself is read from its content and the calendar.
            Field::AssociatedCalendarItemId
            | Field::ResponseType
            | Field::Uid
            | Field::MeetingRequestType
            | Field::IntendedFreeBusyStatus
            | Field::Start
            | Field::End
            | Field::IsAllDayEvent
            | Field::Location
            | Field::IsCancelled
            | Field::IsRecurring
            | Field::Organizer => &[tags::PR_MESSAGE_CLASS],
            // The id's element is named by the class (`t:Message`,
            // `t:MeetingRequest`, …), IdOnly included.
            Field::ItemId => &[tags::PR_MESSAGE_CLASS],
            Field::MimeContent
            | Field::ParentFolderId
            | Field::Attachments
            | Field::DateTimeReceived
            | Field::Size
            | Field::IsSubmitted
            | Field::IsDraft
            | Field::DateTimeCreated
            | Field::LastModifiedTime
            | Field::Flag
            | Field::ToRecipients
            | Field::CcRecipients
            | Field::BccRecipients
            | Field::IsRead => &[],
        }
    }
}

/// What a ReadMessages call reads of each message for a [`FieldSet`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreSelection {
    /// The property tags (only these are read).
    pub tags: Vec<u32>,
    /// Read the recipients.
    pub recipients: bool,
    /// Derive PR_BODY of MIME messages from their content.
    pub bodies: bool,
}

impl StoreSelection {
    /// Whether nothing of the message beyond its row is needed.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && !self.recipients
    }
}

/// A mailbox (`t:Mailbox`) as a message names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Display name.
    pub name: String,
    /// SMTP address.
    pub email: String,
}

/// The element a mail's message class makes it ([MS-OXWSMTGS]): a
/// meeting request, response or cancellation, else `t:Message`.
pub fn message_element(item_class: &str) -> &'static str {
    let c = item_class.to_ascii_lowercase();
    if c.starts_with("ipm.schedule.meeting.request") {
        "t:MeetingRequest"
    } else if c.starts_with("ipm.schedule.meeting.resp.") {
        "t:MeetingResponse"
    } else if c.starts_with("ipm.schedule.meeting.canceled") {
        "t:MeetingCancellation"
    } else {
        "t:Message"
    }
}

/// What a meeting message shows of its meeting: the event its
/// text/calendar part names and the calendar item with that UID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingInfo {
    /// The calendar item with the meeting's UID and its change number.
    pub calendar_item: Option<(ItemKey, u64)>,
    /// The meeting's UID.
    pub uid: String,
    /// The user's answer on the calendar item (`ResponseTypeType`).
    pub response_type: &'static str,
    /// `NewMeetingRequest` (SEQUENCE 0) or `FullUpdate`.
    pub request_type: &'static str,
    /// The busy status the organizer meant (`LegacyFreeBusyType`).
    pub intended_busy: &'static str,
    /// Start, Unix seconds.
    pub start: Option<i64>,
    /// End, Unix seconds.
    pub end: Option<i64>,
    /// An all-day event.
    pub all_day: bool,
    /// Its location ("" when none).
    pub location: String,
    /// Cancelled by the organizer.
    pub cancelled: bool,
    /// A recurring series.
    pub recurring: bool,
    /// The organizer.
    pub organizer: Option<Address>,
}

/// What EWS shows of a stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageItem {
    /// Its id.
    pub key: Option<ItemKey>,
    /// Its change number.
    pub change_number: u64,
    /// `PR_MESSAGE_CLASS`.
    pub item_class: String,
    /// `PR_SUBJECT`.
    pub subject: String,
    /// `PR_BODY`, when the store has it.
    pub body: Option<String>,
    /// Internal date, Unix seconds.
    pub received: i64,
    /// `PR_CLIENT_SUBMIT_TIME`, Unix seconds.
    pub sent: Option<i64>,
    /// Size in octets.
    pub size: u64,
    /// `PR_IMPORTANCE` (0 low, 1 normal, 2 high).
    pub importance: i32,
    /// `PR_SENSITIVITY` (0 normal … 3 confidential).
    pub sensitivity: i32,
    /// `\Draft`.
    pub is_draft: bool,
    /// `\Seen`.
    pub is_read: bool,
    /// `\Flagged`.
    pub flagged: bool,
    /// `PR_HASATTACH`.
    pub has_attachments: bool,
    /// `PR_DISPLAY_TO`.
    pub display_to: String,
    /// `PR_DISPLAY_CC`.
    pub display_cc: String,
    /// The author (`PR_SENT_REPRESENTING_*`).
    pub from: Option<Address>,
    /// The sender (`PR_SENDER_*`).
    pub sender: Option<Address>,
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Bcc recipients.
    pub bcc: Vec<Address>,
    /// `PR_CONVERSATION_TOPIC`.
    pub conversation_topic: String,
    /// `PR_INTERNET_MESSAGE_ID`.
    pub internet_message_id: String,
    /// The meeting of a meeting message, when it was read.
    pub meeting: Option<MeetingInfo>,
    /// The RFC 5322 bytes, when asked for.
    pub mime: Option<Vec<u8>>,
    /// Its file attachments (name, content type, size), when asked for.
    pub attachments: Vec<(String, String, usize)>,
}

/// IMAP flag bits as the store keeps them.
pub const FLAG_SEEN: u32 = 1;
/// `\Flagged`.
pub const FLAG_FLAGGED: u32 = 4;
/// `\Draft`.
pub const FLAG_DRAFT: u32 = 16;

fn string_of(props: &[pb::Prop], tag: groxide_mapi::PropTag) -> Option<String> {
    props
        .iter()
        .find(|p| p.tag == tag.0)
        .and_then(|p| match &p.value {
            Some(Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
}

fn int_of(props: &[pb::Prop], tag: groxide_mapi::PropTag) -> Option<i32> {
    props
        .iter()
        .find(|p| p.tag == tag.0)
        .and_then(|p| match &p.value {
            Some(Value::LongValue(v) | Value::ShortValue(v)) => Some(*v),
            _ => None,
        })
}

fn bool_of(props: &[pb::Prop], tag: groxide_mapi::PropTag) -> Option<bool> {
    props
        .iter()
        .find(|p| p.tag == tag.0)
        .and_then(|p| match &p.value {
            Some(Value::BoolValue(v)) => Some(*v),
            _ => None,
        })
}

fn time_of(props: &[pb::Prop], tag: groxide_mapi::PropTag) -> Option<i64> {
    props
        .iter()
        .find(|p| p.tag == tag.0)
        .and_then(|p| match &p.value {
            Some(Value::SystimeValue(v)) => Some(groxide_mapi::unix_from_filetime(*v)),
            _ => None,
        })
}

fn address(
    props: &[pb::Prop],
    name: groxide_mapi::PropTag,
    smtp: groxide_mapi::PropTag,
    email: groxide_mapi::PropTag,
) -> Option<Address> {
    let email = string_of(props, smtp)
        .filter(|s| !s.is_empty())
        .or_else(|| string_of(props, email))
        .unwrap_or_default();
    let name = string_of(props, name).unwrap_or_default();
    (!email.is_empty() || !name.is_empty()).then_some(Address { name, email })
}

impl MessageItem {
    /// The item of a stored message.
    pub fn from_stored(key: ItemKey, message: &pb::Message) -> MessageItem {
        let no_entry = pb::MessageEntry::default();
        let entry = message.entry.as_ref().unwrap_or(&no_entry);
        let p = &message.props;
        let mut item = MessageItem {
            key: Some(key),
            change_number: entry.change_number,
            item_class: string_of(p, tags::PR_MESSAGE_CLASS).unwrap_or_else(|| "IPM.Note".into()),
            subject: string_of(p, tags::PR_SUBJECT).unwrap_or_default(),
            body: string_of(p, tags::PR_BODY),
            received: entry.internal_date,
            sent: time_of(p, tags::PR_CLIENT_SUBMIT_TIME),
            size: entry.size,
            importance: int_of(p, tags::PR_IMPORTANCE).unwrap_or(1),
            sensitivity: int_of(p, tags::PR_SENSITIVITY).unwrap_or(0),
            is_draft: entry.flags & FLAG_DRAFT != 0,
            is_read: entry.flags & FLAG_SEEN != 0,
            flagged: entry.flags & FLAG_FLAGGED != 0,
            has_attachments: bool_of(p, tags::PR_HASATTACH).unwrap_or(false),
            display_to: string_of(p, tags::PR_DISPLAY_TO).unwrap_or_default(),
            display_cc: string_of(p, tags::PR_DISPLAY_CC).unwrap_or_default(),
            from: address(
                p,
                tags::PR_SENT_REPRESENTING_NAME,
                tags::PR_SENT_REPRESENTING_SMTP_ADDRESS,
                tags::PR_SENT_REPRESENTING_EMAIL_ADDRESS,
            ),
            sender: address(
                p,
                tags::PR_SENDER_NAME,
                tags::PR_SENDER_SMTP_ADDRESS,
                tags::PR_SENDER_EMAIL_ADDRESS,
            ),
            conversation_topic: string_of(p, tags::PR_CONVERSATION_TOPIC).unwrap_or_default(),
            internet_message_id: string_of(p, tags::PR_INTERNET_MESSAGE_ID).unwrap_or_default(),
            ..MessageItem::default()
        };
        for r in &message.recipients {
            let a = Address {
                name: string_of(&r.props, tags::PR_DISPLAY_NAME).unwrap_or_default(),
                email: string_of(&r.props, tags::PR_SMTP_ADDRESS)
                    .filter(|s| !s.is_empty())
                    .or_else(|| string_of(&r.props, tags::PR_EMAIL_ADDRESS))
                    .unwrap_or_default(),
            };
            match int_of(&r.props, tags::PR_RECIPIENT_TYPE) {
                Some(2) => item.cc.push(a),
                Some(3) => item.bcc.push(a),
                _ => item.to.push(a),
            }
        }
        item
    }

    /// An item known only by its id and listing entry.
    pub fn from_entry(key: ItemKey, entry: &pb::MessageEntry) -> MessageItem {
        MessageItem {
            key: Some(key),
            change_number: entry.change_number,
            item_class: "IPM.Note".into(),
            received: entry.internal_date,
            size: entry.size,
            is_read: entry.flags & FLAG_SEEN != 0,
            flagged: entry.flags & FLAG_FLAGGED != 0,
            is_draft: entry.flags & FLAG_DRAFT != 0,
            ..MessageItem::default()
        }
    }
}

/// `xs:dateTime` in UTC of Unix seconds (RFC 3339, whole seconds, `Z`;
/// the epoch for times outside the years 0–9999). Written by hand: it is
/// called a few times per item of every listing.
pub fn date_time(unix: i64) -> String {
    use std::fmt::Write as _;
    let Some(t) = time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
    else {
        return "1970-01-01T00:00:00Z".into();
    };
    let mut out = String::with_capacity(20);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    out
}

/// Parses an `xs:dateTime` into Unix seconds.
pub fn parse_date_time(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
        .or_else(|| {
            // Without an offset: UTC, as the schema's xs:dateTime allows.
            time::PrimitiveDateTime::parse(
                text.trim(),
                &time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
                ),
            )
            .ok()
            .map(|t| t.assume_utc().unix_timestamp())
        })
}

fn write_address(w: &mut XmlWriter, a: &Address) {
    w.open("t:Mailbox", &[]).leaf("t:Name", &a.name);
    if !a.email.is_empty() {
        w.leaf("t:EmailAddress", &a.email)
            .leaf("t:RoutingType", "SMTP")
            .leaf("t:MailboxType", "OneOff");
    }
    w.close();
}

fn write_addresses(w: &mut XmlWriter, element: &str, list: &[Address]) {
    if list.is_empty() {
        return;
    }
    w.open(element, &[]);
    for a in list {
        write_address(w, a);
    }
    w.close();
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Writes `t:Message` with the fields of `set` the item has.
pub fn write_message(w: &mut XmlWriter, item: &MessageItem, set: FieldSet) {
    let element = message_element(&item.item_class);
    w.open(element, &[]);
    for f in Field::ALL {
        if !set.contains(*f) {
            continue;
        }
        match f {
            Field::MimeContent => {
                if let Some(mime) = &item.mime {
                    w.open("t:MimeContent", &[("CharacterSet", "UTF-8")])
                        .base64(mime)
                        .close();
                }
            }
            Field::ItemId => {
                if let Some(key) = &item.key {
                    let ck = change_key(item.change_number);
                    w.empty("t:ItemId", &[("Id", &key.encode()), ("ChangeKey", &ck)]);
                }
            }
            Field::ParentFolderId => {
                if let Some(key) = &item.key {
                    w.empty("t:ParentFolderId", &[("Id", &key.folder_key().encode())]);
                }
            }
            Field::ItemClass => {
                w.leaf("t:ItemClass", &item.item_class);
            }
            Field::Subject => {
                w.leaf("t:Subject", &item.subject);
            }
            Field::Sensitivity => {
                let s = match item.sensitivity {
                    1 => "Personal",
                    2 => "Private",
                    3 => "Confidential",
                    _ => "Normal",
                };
                w.leaf("t:Sensitivity", s);
            }
            Field::Body => {
                if let Some(body) = &item.body {
                    w.open("t:Body", &[("BodyType", "Text")]).text(body).close();
                }
            }
            Field::Attachments => {
                if let Some(key) = &item.key
                    && !item.attachments.is_empty()
                {
                    w.open("t:Attachments", &[]);
                    for (i, (name, ct, size)) in item.attachments.iter().enumerate() {
                        let id = crate::ids::AttachmentKey {
                            item: *key,
                            index: i as u32,
                        }
                        .encode();
                        w.open("t:FileAttachment", &[])
                            .empty("t:AttachmentId", &[("Id", &id)])
                            .leaf("t:Name", name)
                            .leaf("t:ContentType", ct)
                            .leaf("t:Size", &size.to_string())
                            .leaf("t:IsInline", "false")
                            .close();
                    }
                    w.close();
                }
            }
            Field::DateTimeReceived => {
                w.leaf("t:DateTimeReceived", &date_time(item.received));
            }
            Field::Size => {
                w.leaf("t:Size", &item.size.min(i32::MAX as u64).to_string());
            }
            Field::Importance => {
                let s = match item.importance {
                    0 => "Low",
                    2 => "High",
                    _ => "Normal",
                };
                w.leaf("t:Importance", s);
            }
            Field::IsSubmitted => {
                w.leaf("t:IsSubmitted", "false");
            }
            Field::IsDraft => {
                w.leaf("t:IsDraft", bool_text(item.is_draft));
            }
            Field::DateTimeSent => {
                w.leaf(
                    "t:DateTimeSent",
                    &date_time(item.sent.unwrap_or(item.received)),
                );
            }
            Field::DateTimeCreated => {
                w.leaf("t:DateTimeCreated", &date_time(item.received));
            }
            Field::DisplayCc => {
                w.leaf("t:DisplayCc", &item.display_cc);
            }
            Field::DisplayTo => {
                w.leaf("t:DisplayTo", &item.display_to);
            }
            Field::HasAttachments => {
                w.leaf("t:HasAttachments", bool_text(item.has_attachments));
            }
            Field::LastModifiedTime => {
                w.leaf("t:LastModifiedTime", &date_time(item.received));
            }
            Field::Flag => {
                w.open("t:Flag", &[])
                    .leaf(
                        "t:FlagStatus",
                        if item.flagged {
                            "Flagged"
                        } else {
                            "NotFlagged"
                        },
                    )
                    .close();
            }
            Field::Sender => {
                if let Some(a) = &item.sender {
                    w.open("t:Sender", &[]);
                    write_address(w, a);
                    w.close();
                }
            }
            Field::ToRecipients => write_addresses(w, "t:ToRecipients", &item.to),
            Field::CcRecipients => write_addresses(w, "t:CcRecipients", &item.cc),
            Field::BccRecipients => write_addresses(w, "t:BccRecipients", &item.bcc),
            Field::ConversationTopic => {
                w.leaf("t:ConversationTopic", &item.conversation_topic);
            }
            Field::From => {
                if let Some(a) = &item.from {
                    w.open("t:From", &[]);
                    write_address(w, a);
                    w.close();
                }
            }
            Field::InternetMessageId => {
                if !item.internet_message_id.is_empty() {
                    w.leaf("t:InternetMessageId", &item.internet_message_id);
                }
            }
            Field::IsRead => {
                w.leaf("t:IsRead", bool_text(item.is_read));
            }
            Field::AssociatedCalendarItemId
            | Field::ResponseType
            | Field::Uid
            | Field::MeetingRequestType
            | Field::IntendedFreeBusyStatus
            | Field::Start
            | Field::End
            | Field::IsAllDayEvent
            | Field::Location
            | Field::IsCancelled
            | Field::IsRecurring
            | Field::Organizer => {
                if let Some(m) = &item.meeting
                    && element != "t:Message"
                {
                    write_meeting_field(w, *f, element == "t:MeetingRequest", m);
                }
            }
        }
    }
    w.close();
}

/// One field of `MeetingMessageType` (every meeting message) or of
/// `MeetingRequestMessageType` (`request` only).
fn write_meeting_field(w: &mut XmlWriter, f: Field, request: bool, m: &MeetingInfo) {
    match f {
        Field::AssociatedCalendarItemId => {
            if let Some((key, cn)) = &m.calendar_item {
                w.empty(
                    "t:AssociatedCalendarItemId",
                    &[("Id", &key.encode()), ("ChangeKey", &change_key(*cn))],
                );
            }
        }
        Field::ResponseType => {
            w.leaf("t:ResponseType", m.response_type);
        }
        Field::Uid => {
            w.leaf("t:UID", &m.uid);
        }
        _ if !request => {}
        Field::MeetingRequestType => {
            w.leaf("t:MeetingRequestType", m.request_type);
        }
        Field::IntendedFreeBusyStatus => {
            w.leaf("t:IntendedFreeBusyStatus", m.intended_busy);
        }
        Field::Start => {
            if let Some(t) = m.start {
                w.leaf("t:Start", &date_time(t));
            }
        }
        Field::End => {
            if let Some(t) = m.end {
                w.leaf("t:End", &date_time(t));
            }
        }
        Field::IsAllDayEvent => {
            w.leaf("t:IsAllDayEvent", bool_text(m.all_day));
        }
        Field::Location if !m.location.is_empty() => {
            w.leaf("t:Location", &m.location);
        }
        Field::IsCancelled => {
            w.leaf("t:IsCancelled", bool_text(m.cancelled));
        }
        Field::IsRecurring => {
            w.leaf("t:IsRecurring", bool_text(m.recurring));
        }
        Field::Organizer => {
            if let Some(a) = &m.organizer {
                w.open("t:Organizer", &[]);
                write_address(w, a);
                w.close();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_classes_pick_item_kinds() {
        let table = [
            ("IPF.Note", ItemKind::Message),
            ("", ItemKind::Message),
            ("IPF.Appointment", ItemKind::Calendar),
            ("IPF.Appointment.Birthday", ItemKind::Calendar),
            ("IPF.AppointmentX", ItemKind::Message),
            ("IPF.Contact.MOC.QuickContacts", ItemKind::Contact),
            ("IPF.Task", ItemKind::Task),
            ("IPF.StickyNote", ItemKind::Note),
            ("IPF.Journal", ItemKind::Journal),
        ];
        for (class, kind) in table {
            assert_eq!(ItemKind::of_container_class(class), kind, "{class}");
        }
    }

    #[test]
    fn dates_are_written_as_rfc3339_formats_them() {
        let rfc3339 = |unix: i64| {
            time::OffsetDateTime::from_unix_timestamp(unix)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
        };
        for unix in [
            0,
            1,
            -1,
            59,
            951_782_400,
            1_700_000_000,
            4_102_444_799,
            -62_167_219_200,
            -62_167_219_201,
            253_402_300_799,
            253_402_300_800,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(date_time(unix), rfc3339(unix), "{unix}");
        }
    }

    #[test]
    fn dates_round_trip_in_utc() {
        assert_eq!(date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(date_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_date_time("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_date_time("2023-11-14T23:13:20+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_date_time("2023-11-14T22:13:20"), Some(1_700_000_000));
        assert_eq!(
            parse_date_time("2023-11-14T22:13:20.123"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_date_time("yesterday"), None);
    }

    /// A message with a value for every tag groxide knows (strings name
    /// their tag, numbers are 2, flags true) and one recipient of each kind.
    fn message_with_every_property() -> pb::Message {
        let props = tags::ALL
            .iter()
            .filter_map(|(name, tag)| {
                let value = match tag.0 & 0xFFFF {
                    0x0002 => Value::ShortValue(2),
                    0x0003 => Value::LongValue(2),
                    0x000B => Value::BoolValue(true),
                    0x001F => Value::StringValue(format!("{name}@example.org")),
                    0x0040 => Value::SystimeValue(133_000_000_000_000_000),
                    _ => return None,
                };
                Some(pb::Prop {
                    tag: tag.0,
                    value: Some(value),
                })
            })
            .collect();
        let recipients = (1..=3)
            .map(|kind| pb::PropList {
                props: vec![
                    pb::Prop {
                        tag: tags::PR_RECIPIENT_TYPE.0,
                        value: Some(Value::LongValue(kind)),
                    },
                    pb::Prop {
                        tag: tags::PR_DISPLAY_NAME.0,
                        value: Some(Value::StringValue(format!("R{kind}"))),
                    },
                    pb::Prop {
                        tag: tags::PR_SMTP_ADDRESS.0,
                        value: Some(Value::StringValue(format!("r{kind}@example.org"))),
                    },
                ],
            })
            .collect();
        pb::Message {
            entry: Some(pb::MessageEntry {
                uid: 7,
                message_id: 9,
                flags: FLAG_SEEN | FLAG_FLAGGED,
                size: 1234,
                internal_date: 1_700_000_000,
                change_number: 42,
                ..pb::MessageEntry::default()
            }),
            folder_id: 3,
            props,
            recipients,
            ..pb::Message::default()
        }
    }

    fn written(message: &pb::Message, set: FieldSet) -> String {
        let key = ItemKey {
            store: [1; 16],
            folder: 3,
            message: 9,
            uid: 7,
        };
        let mut w = XmlWriter::new();
        write_message(&mut w, &MessageItem::from_stored(key, message), set);
        w.finish()
    }

    #[test]
    fn a_shape_written_from_its_store_selection_is_the_shape_written_from_everything() {
        let full = message_with_every_property();
        let mut sets: Vec<FieldSet> = Field::ALL
            .iter()
            .map(|f| {
                let mut s = FieldSet::id_only();
                s.insert(*f);
                s
            })
            .collect();
        let mut all = FieldSet::all_but_mime();
        sets.push(all);
        all.insert(Field::Flag);
        sets.push(all);
        for set in sets {
            let sel = set.store_selection();
            let mut selected = full.clone();
            selected.props.retain(|p| sel.tags.contains(&p.tag));
            if !sel.recipients {
                selected.recipients.clear();
            }
            let want = written(&full, set);
            assert_eq!(written(&selected, set), want, "{set:?}");
            // Whether mail is meeting mail is its class: a meeting field is
            // never told by the listing entry (this message is plain mail,
            // so its meeting fields write nothing either way).
            let meeting = Field::ALL
                .iter()
                .any(|f| (f.is_meeting() || *f == Field::ItemId) && set.contains(*f));
            if meeting {
                assert!(!set.entry_alone(), "{set:?}: needs the message class");
                assert!(
                    set.store_selection()
                        .tags
                        .contains(&tags::PR_MESSAGE_CLASS.0)
                );
                continue;
            }
            assert_eq!(
                set.entry_alone(),
                written(
                    &pb::Message {
                        props: Vec::new(),
                        recipients: Vec::new(),
                        ..full.clone()
                    },
                    set
                ) == want
                    && !set.contains(Field::MimeContent)
                    && !set.contains(Field::Attachments),
                "{set:?}: entry alone"
            );
        }
        // The Default shape of a message shows what a mail list needs.
        let default = written(&full, FieldSet::all_but_mime());
        for shown in [
            "<t:Subject>PR_SUBJECT@example.org</t:Subject>",
            "<t:From><t:Mailbox><t:Name>PR_SENT_REPRESENTING_NAME@example.org</t:Name>",
            "<t:ToRecipients><t:Mailbox><t:Name>R1</t:Name>",
            "<t:CcRecipients><t:Mailbox><t:Name>R2</t:Name>",
            "<t:HasAttachments>true</t:HasAttachments>",
            "<t:DateTimeReceived>2023-11-14T22:13:20Z</t:DateTimeReceived>",
            "<t:Body BodyType=\"Text\">PR_BODY@example.org</t:Body>",
        ] {
            assert!(default.contains(shown), "{shown} missing from {default}");
        }
    }

    #[test]
    fn an_id_only_listing_names_meeting_mail_by_its_element() {
        let id_only = FieldSet::id_only();
        let sel = id_only.store_selection();
        assert!(sel.tags.contains(&tags::PR_MESSAGE_CLASS.0), "{sel:?}");
        assert!(!id_only.entry_alone());
        for (class, element) in [
            ("IPM.Note", "<t:Message>"),
            ("IPM.Schedule.Meeting.Request", "<t:MeetingRequest>"),
            ("IPM.Schedule.Meeting.Resp.Pos", "<t:MeetingResponse>"),
            ("IPM.Schedule.Meeting.Canceled", "<t:MeetingCancellation>"),
        ] {
            let message = pb::Message {
                props: vec![pb::Prop {
                    tag: tags::PR_MESSAGE_CLASS.0,
                    value: Some(Value::StringValue(class.into())),
                }],
                ..message_with_every_property()
            };
            let doc = written(&message, id_only);
            assert!(doc.contains(element), "{class}: {doc}");
        }
    }

    #[test]
    fn meeting_mail_is_written_as_its_meeting_element_with_the_meeting_last() {
        let meeting = MeetingInfo {
            calendar_item: Some((
                ItemKey {
                    store: crate::ids::StoreGuid::default(),
                    folder: 9,
                    message: 42,
                    uid: 0,
                },
                7,
            )),
            uid: "meet-1".into(),
            response_type: "NoResponseReceived",
            request_type: "NewMeetingRequest",
            intended_busy: "Busy",
            start: Some(1_700_000_000),
            end: Some(1_700_003_600),
            location: "Room 2".into(),
            organizer: Some(Address {
                name: "Boss".into(),
                email: "boss@x".into(),
            }),
            ..MeetingInfo::default()
        };
        let write = |class: &str| {
            let item = MessageItem {
                item_class: class.into(),
                subject: "Planning".into(),
                meeting: Some(meeting.clone()),
                ..MessageItem::default()
            };
            let mut w = XmlWriter::new();
            write_message(&mut w, &item, FieldSet::all_but_mime());
            w.finish()
        };
        let doc = write("IPM.Schedule.Meeting.Request");
        assert!(doc.contains("?><t:MeetingRequest>"), "{doc}");
        let order = [
            "<t:IsRead>",
            "<t:AssociatedCalendarItemId ",
            "<t:ResponseType>NoResponseReceived<",
            "<t:UID>meet-1<",
            "<t:MeetingRequestType>NewMeetingRequest<",
            "<t:IntendedFreeBusyStatus>Busy<",
            "<t:Start>2023-11-14T22:13:20Z<",
            "<t:End>",
            "<t:Location>Room 2<",
            "<t:Organizer><t:Mailbox><t:Name>Boss<",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|e| doc.find(e).unwrap_or_else(|| panic!("{e} in {doc}")))
            .collect();
        assert!(at.windows(2).all(|p| p[0] < p[1]), "{doc}");
        // Responses and cancellations carry the meeting message's fields only.
        for (class, element) in [
            ("IPM.Schedule.Meeting.Resp.Pos", "<t:MeetingResponse>"),
            ("IPM.Schedule.Meeting.Canceled", "<t:MeetingCancellation>"),
        ] {
            let doc = write(class);
            assert!(doc.contains(&format!("?>{element}")), "{doc}");
            assert!(doc.contains("<t:AssociatedCalendarItemId "), "{doc}");
            assert!(!doc.contains("<t:Start>"), "{doc}");
        }
        let doc = write("IPM.Note");
        assert!(doc.contains("?><t:Message>"), "{doc}");
        assert!(!doc.contains("AssociatedCalendarItemId"), "{doc}");
    }

    #[test]
    fn fields_are_written_in_schema_order() {
        let item = MessageItem {
            subject: "Hi & bye".into(),
            is_read: true,
            from: Some(Address {
                name: "A".into(),
                email: "a@x".into(),
            }),
            ..MessageItem::default()
        };
        let mut set = FieldSet::default();
        set.insert(Field::IsRead);
        set.insert(Field::Subject);
        set.insert(Field::From);
        let mut w = XmlWriter::new();
        write_message(&mut w, &item, set);
        let doc = w.finish();
        let s = doc.find("<t:Subject>Hi &amp; bye</t:Subject>").unwrap();
        let f = doc.find("<t:From>").unwrap();
        let r = doc.find("<t:IsRead>true</t:IsRead>").unwrap();
        assert!(s < f && f < r, "{doc}");
    }
}
