//! The item model: one MAPI message (appointment, contact, distribution
//! list, task, sticky note) as the conversions produce and consume it.
//! Properties are keyed by [`PropKey`], so named properties need no
//! per-store id yet; the store resolves them when it writes the item.

use groxide_mapi::tags::{
    ATTACH_BY_VALUE, ATTACH_EMBEDDED_MSG, PR_ADDRTYPE, PR_ATTACH_DATA_BIN, PR_ATTACH_METHOD,
    PR_DISPLAY_NAME, PR_EMAIL_ADDRESS, PR_MESSAGE_CLASS, PR_RECIPIENT_FLAGS,
    PR_RECIPIENT_TRACKSTATUS, PR_RECIPIENT_TYPE, PR_SMTP_ADDRESS, RECIP_ORGANIZER, RECIP_SENDABLE,
};
use groxide_mapi::{NamedProp, PropKey, PropValue, filetime_from_unix, unix_from_filetime};
use std::collections::{BTreeMap, BTreeSet};

/// Properties of one object, keyed by tag or name.
pub type PropMap = BTreeMap<PropKey, PropValue>;

/// The kinds of groupware item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemClass {
    /// `IPM.Appointment` (also meetings; [MS-OXOCAL]).
    Appointment,
    /// `IPM.Contact` ([MS-OXOCNTC]).
    Contact,
    /// `IPM.DistList` ([MS-OXOCNTC] 2.2.2).
    DistList,
    /// `IPM.Task` ([MS-OXOTASK]).
    Task,
    /// `IPM.StickyNote` ([MS-OXONOTE]).
    StickyNote,
    /// An exception of a recurring series, embedded in its master
    /// (`IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}`, [MS-OXOCAL] 2.2.10.1).
    Exception,
}

impl ItemClass {
    /// The PR_MESSAGE_CLASS value.
    pub fn message_class(self) -> &'static str {
        match self {
            ItemClass::Appointment => "IPM.Appointment",
            ItemClass::Contact => "IPM.Contact",
            ItemClass::DistList => "IPM.DistList",
            ItemClass::Task => "IPM.Task",
            ItemClass::StickyNote => "IPM.StickyNote",
            ItemClass::Exception => "IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}",
        }
    }

    /// The class of a PR_MESSAGE_CLASS value; derived classes
    /// (`IPM.Appointment.Custom`) count as their base. Case-insensitive.
    pub fn from_message_class(class: &str) -> Option<ItemClass> {
        let c = class.to_ascii_lowercase();
        let is = |base: &str| c == base || c.starts_with(&format!("{base}."));
        [
            ItemClass::Appointment,
            ItemClass::Contact,
            ItemClass::DistList,
            ItemClass::Task,
            ItemClass::StickyNote,
            ItemClass::Exception,
        ]
        .into_iter()
        .find(|k| is(&k.message_class().to_ascii_lowercase()))
    }
}

/// One groupware item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The message class.
    pub class: ItemClass,
    /// The message's properties (PR_MESSAGE_CLASS is implied by `class`).
    pub props: PropMap,
    /// Attendees (appointments) or members (distribution lists are in
    /// properties instead; see [`crate::vcard`]).
    pub recipients: Vec<Recipient>,
    /// Attachments: files, the contact photo, exceptions of a series.
    pub attachments: Vec<Attachment>,
    /// The source object verbatim (an iCalendar object with its time zones,
    /// or a vCard), kept so that a read-modify-write can carry what MAPI
    /// cannot express. `None` for items created as MAPI objects.
    pub original: Option<Vec<u8>>,
}

impl Item {
    /// An empty item of a class.
    pub fn new(class: ItemClass) -> Item {
        Item {
            class,
            props: PropMap::new(),
            recipients: Vec::new(),
            attachments: Vec::new(),
            original: None,
        }
    }

    /// The exceptions of a recurring series: the exception items embedded
    /// in its attachments, in attachment order.
    pub fn exceptions(&self) -> Vec<&Item> {
        self.attachments
            .iter()
            .filter_map(|a| match &a.content {
                AttachmentContent::Embedded(m) if m.class == ItemClass::Exception => {
                    Some(m.as_ref())
                }
                _ => None,
            })
            .collect()
    }

    /// Sets a property.
    pub fn set(&mut self, key: impl Into<PropKey>, value: PropValue) {
        self.props.insert(key.into(), value);
    }

    /// Sets a string property unless `value` is empty.
    pub fn set_str(&mut self, key: impl Into<PropKey>, value: impl Into<String>) {
        let v = value.into();
        if !v.is_empty() {
            self.props.insert(key.into(), PropValue::Unicode(v));
        }
    }

    /// Sets a PT_SYSTIME property from Unix seconds.
    pub fn set_time(&mut self, key: impl Into<PropKey>, unix_seconds: i64) {
        self.props.insert(
            key.into(),
            PropValue::SysTime(filetime_from_unix(unix_seconds)),
        );
    }

    /// A property.
    pub fn get(&self, key: impl Into<PropKey>) -> Option<&PropValue> {
        self.props.get(&key.into())
    }

    /// A string property.
    pub fn str(&self, key: impl Into<PropKey>) -> Option<&str> {
        self.get(key).and_then(PropValue::as_str)
    }

    /// An integer property (PT_SHORT, PT_LONG, PT_I8).
    pub fn int(&self, key: impl Into<PropKey>) -> Option<i64> {
        match self.get(key)? {
            PropValue::SysTime(_) => None,
            v => v.as_i64(),
        }
    }

    /// A boolean property.
    pub fn bool(&self, key: impl Into<PropKey>) -> Option<bool> {
        self.get(key).and_then(PropValue::as_bool)
    }

    /// A PT_SYSTIME property as Unix seconds.
    pub fn time(&self, key: impl Into<PropKey>) -> Option<i64> {
        match self.get(key)? {
            PropValue::SysTime(t) => Some(unix_from_filetime(*t)),
            _ => None,
        }
    }

    /// A binary property.
    pub fn binary(&self, key: impl Into<PropKey>) -> Option<&[u8]> {
        self.get(key).and_then(PropValue::as_binary)
    }

    /// A multi-valued string property.
    pub fn strings(&self, key: impl Into<PropKey>) -> Option<&[String]> {
        match self.get(key)? {
            PropValue::MvUnicode(v) => Some(v),
            _ => None,
        }
    }

    /// Every property of the message itself, PR_MESSAGE_CLASS first.
    pub fn message_props(&self) -> Vec<(PropKey, PropValue)> {
        let mut out = vec![(
            PropKey::Tag(PR_MESSAGE_CLASS),
            PropValue::Unicode(self.class.message_class().to_owned()),
        )];
        out.extend(self.props.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// Every named property the item (with its recipients, attachments and
    /// embedded messages) uses: what a store must resolve to write it.
    pub fn named_props(&self) -> BTreeSet<NamedProp> {
        let mut out = BTreeSet::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names(&self, out: &mut BTreeSet<NamedProp>) {
        let mut add = |k: &PropKey| {
            if let PropKey::Named(n, _) = k {
                out.insert(n.clone());
            }
        };
        self.props.keys().for_each(&mut add);
        for r in &self.recipients {
            r.extra.keys().for_each(&mut add);
        }
        for a in &self.attachments {
            a.props.keys().for_each(&mut add);
        }
        for a in &self.attachments {
            if let AttachmentContent::Embedded(m) = &a.content {
                m.collect_names(out);
            }
        }
    }

    /// A readable listing of the item, one property per line, sorted: for
    /// snapshots and diagnostics.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        self.describe_into(&mut out, "");
        out
    }

    fn describe_into(&self, out: &mut String, indent: &str) {
        use std::fmt::Write;
        for (k, v) in self.message_props() {
            let _ = writeln!(out, "{indent}{k} = {}", show_value(&v));
        }
        for (i, r) in self.recipients.iter().enumerate() {
            let _ = writeln!(out, "{indent}recipient {i}:");
            for (k, v) in r.to_props() {
                let _ = writeln!(out, "{indent}  {k} = {}", show_value(&v));
            }
        }
        for (i, a) in self.attachments.iter().enumerate() {
            let _ = writeln!(out, "{indent}attachment {i}:");
            for (k, v) in a.all_props() {
                let _ = writeln!(out, "{indent}  {k} = {}", show_value(&v));
            }
            if let AttachmentContent::Embedded(m) = &a.content {
                let _ = writeln!(out, "{indent}  embedded message:");
                m.describe_into(out, &format!("{indent}    "));
            }
        }
    }
}

/// A value as text for [`Item::describe`]: times as UTC, long binaries as
/// their length and a prefix.
pub fn show_value(v: &PropValue) -> String {
    match v {
        PropValue::SysTime(t) => {
            let s = unix_from_filetime(*t);
            match chrono::DateTime::from_timestamp(s, 0) {
                Some(d) => format!("SysTime({})", d.format("%Y-%m-%dT%H:%M:%SZ")),
                None => format!("SysTime({t})"),
            }
        }
        PropValue::Binary(b) => {
            let hex: String = b.iter().take(48).map(|x| format!("{x:02X}")).collect();
            if b.len() > 48 {
                format!("Binary[{}]({hex}…)", b.len())
            } else {
                format!("Binary[{}]({hex})", b.len())
            }
        }
        v => format!("{v:?}"),
    }
}

/// The part an attendee plays ([MS-OXOCAL] 2.2.4.10: PR_RECIPIENT_TYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttendeeRole {
    /// Required attendee (MAPI_TO).
    Required,
    /// Optional attendee (MAPI_CC).
    Optional,
    /// A resource such as a room (MAPI_BCC).
    Resource,
}

impl AttendeeRole {
    /// The PR_RECIPIENT_TYPE value.
    pub fn recipient_type(self) -> i32 {
        match self {
            AttendeeRole::Required => 1,
            AttendeeRole::Optional => 2,
            AttendeeRole::Resource => 3,
        }
    }

    /// The role of a PR_RECIPIENT_TYPE value (other values: required).
    pub fn from_recipient_type(t: i64) -> AttendeeRole {
        match t & 0xF {
            2 => AttendeeRole::Optional,
            3 => AttendeeRole::Resource,
            _ => AttendeeRole::Required,
        }
    }
}

/// An attendee's answer ([MS-OXOCAL] 2.2.1.11 PidLidResponseStatus and
/// PR_RECIPIENT_TRACKSTATUS use the same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseStatus {
    /// respNone (0).
    None,
    /// respOrganized (1).
    Organized,
    /// respTentative (2).
    Tentative,
    /// respAccepted (3).
    Accepted,
    /// respDeclined (4).
    Declined,
    /// respNotResponded (5).
    NotResponded,
}

impl ResponseStatus {
    /// The numeric value.
    pub fn code(self) -> i32 {
        match self {
            ResponseStatus::None => 0,
            ResponseStatus::Organized => 1,
            ResponseStatus::Tentative => 2,
            ResponseStatus::Accepted => 3,
            ResponseStatus::Declined => 4,
            ResponseStatus::NotResponded => 5,
        }
    }

    /// The status of a numeric value (unknown values: none).
    pub fn from_code(c: i64) -> ResponseStatus {
        match c {
            1 => ResponseStatus::Organized,
            2 => ResponseStatus::Tentative,
            3 => ResponseStatus::Accepted,
            4 => ResponseStatus::Declined,
            5 => ResponseStatus::NotResponded,
            _ => ResponseStatus::None,
        }
    }
}

/// One recipient: an attendee (or the organizer) of an appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// Display name (may be empty).
    pub name: String,
    /// SMTP address (may be empty for attendees known only by name).
    pub address: String,
    /// Required, optional or resource.
    pub role: AttendeeRole,
    /// The attendee's answer.
    pub response: ResponseStatus,
    /// This recipient is the organizer.
    pub organizer: bool,
    /// Further recipient properties, kept as they came.
    pub extra: PropMap,
}

impl Recipient {
    /// The recipient's properties as a store keeps them.
    pub fn to_props(&self) -> Vec<(PropKey, PropValue)> {
        let mut out = Vec::new();
        let name = if self.name.is_empty() {
            &self.address
        } else {
            &self.name
        };
        out.push((PR_DISPLAY_NAME.into(), PropValue::Unicode(name.clone())));
        if !self.address.is_empty() {
            out.push((PR_ADDRTYPE.into(), PropValue::Unicode("SMTP".into())));
            out.push((
                PR_EMAIL_ADDRESS.into(),
                PropValue::Unicode(self.address.clone()),
            ));
            out.push((
                PR_SMTP_ADDRESS.into(),
                PropValue::Unicode(self.address.clone()),
            ));
        }
        out.push((
            PR_RECIPIENT_TYPE.into(),
            PropValue::Long(self.role.recipient_type()),
        ));
        out.push((
            PR_RECIPIENT_TRACKSTATUS.into(),
            PropValue::Long(self.response.code()),
        ));
        let mut flags = RECIP_SENDABLE;
        if self.organizer {
            flags |= RECIP_ORGANIZER;
        }
        out.push((PR_RECIPIENT_FLAGS.into(), PropValue::Long(flags)));
        out.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// A recipient from the properties a store returns.
    pub fn from_props(props: impl IntoIterator<Item = (PropKey, PropValue)>) -> Recipient {
        let mut r = Recipient {
            name: String::new(),
            address: String::new(),
            role: AttendeeRole::Required,
            response: ResponseStatus::None,
            organizer: false,
            extra: PropMap::new(),
        };
        let mut email = String::new();
        for (k, v) in props {
            match (&k, &v) {
                (PropKey::Tag(t), PropValue::Unicode(s)) if *t == PR_DISPLAY_NAME => {
                    r.name = s.clone()
                }
                (PropKey::Tag(t), PropValue::Unicode(s)) if *t == PR_SMTP_ADDRESS => {
                    r.address = s.clone()
                }
                (PropKey::Tag(t), PropValue::Unicode(s)) if *t == PR_EMAIL_ADDRESS => {
                    email = s.clone()
                }
                (PropKey::Tag(t), PropValue::Unicode(_)) if *t == PR_ADDRTYPE => {}
                (PropKey::Tag(t), PropValue::Long(x)) if *t == PR_RECIPIENT_TYPE => {
                    r.role = AttendeeRole::from_recipient_type(i64::from(*x))
                }
                (PropKey::Tag(t), PropValue::Long(x)) if *t == PR_RECIPIENT_TRACKSTATUS => {
                    r.response = ResponseStatus::from_code(i64::from(*x))
                }
                (PropKey::Tag(t), PropValue::Long(x)) if *t == PR_RECIPIENT_FLAGS => {
                    r.organizer = x & RECIP_ORGANIZER != 0
                }
                _ => {
                    r.extra.insert(k, v);
                }
            }
        }
        if r.address.is_empty() && email.contains('@') {
            r.address = email;
        }
        if r.name == r.address {
            r.name.clear();
        }
        r
    }
}

/// One attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The attachment's properties other than its content and
    /// PR_ATTACH_METHOD (implied by `content`).
    pub props: PropMap,
    /// The content.
    pub content: AttachmentContent,
}

impl Attachment {
    /// The attachment's properties with PR_ATTACH_METHOD (and
    /// PR_ATTACH_DATA_BIN for data), not the embedded message's.
    pub fn all_props(&self) -> Vec<(PropKey, PropValue)> {
        let mut out: Vec<(PropKey, PropValue)> = Vec::new();
        match &self.content {
            AttachmentContent::Data(d) => {
                out.push((PR_ATTACH_METHOD.into(), PropValue::Long(ATTACH_BY_VALUE)));
                out.push((PR_ATTACH_DATA_BIN.into(), PropValue::Binary(d.clone())));
            }
            AttachmentContent::Embedded(_) => {
                out.push((
                    PR_ATTACH_METHOD.into(),
                    PropValue::Long(ATTACH_EMBEDDED_MSG),
                ));
            }
        }
        out.extend(self.props.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

/// What an attachment holds.
#[derive(Debug, Clone, PartialEq)]
pub enum AttachmentContent {
    /// Bytes (ATTACH_BY_VALUE).
    Data(Vec<u8>),
    /// An embedded message (ATTACH_EMBEDDED_MSG), e.g. an exception of a
    /// recurring series.
    Embedded(Box<Item>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_mapi::lids;

    #[test]
    fn message_classes_round_trip_and_derived_classes_map_to_their_base() {
        for k in [
            ItemClass::Appointment,
            ItemClass::Contact,
            ItemClass::DistList,
            ItemClass::Task,
            ItemClass::StickyNote,
            ItemClass::Exception,
        ] {
            assert_eq!(ItemClass::from_message_class(k.message_class()), Some(k));
        }
        assert_eq!(
            ItemClass::from_message_class("ipm.appointment.MP"),
            Some(ItemClass::Appointment)
        );
        assert_eq!(ItemClass::from_message_class("IPM.Note"), None);
        assert_eq!(ItemClass::from_message_class("IPM.Contacts"), None);
    }

    #[test]
    fn a_recipient_survives_its_property_form() {
        let r = Recipient {
            name: "Bob".into(),
            address: "bob@example.org".into(),
            role: AttendeeRole::Optional,
            response: ResponseStatus::Tentative,
            organizer: true,
            extra: PropMap::new(),
        };
        assert_eq!(Recipient::from_props(r.to_props()), r);
    }

    #[test]
    fn named_props_are_collected_from_embedded_messages_too() {
        let mut inner = Item::new(ItemClass::Exception);
        inner.set(&lids::PID_LID_LOCATION, PropValue::Unicode("x".into()));
        let mut outer = Item::new(ItemClass::Appointment);
        outer.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(2));
        outer.attachments.push(Attachment {
            props: PropMap::new(),
            content: AttachmentContent::Embedded(Box::new(inner)),
        });
        let names = outer.named_props();
        assert!(names.contains(&lids::PID_LID_LOCATION.named()));
        assert!(names.contains(&lids::PID_LID_BUSY_STATUS.named()));
        assert_eq!(names.len(), 2);
    }
}
