//! Calendar, contact and task items as EAS sees them ([MS-ASCAL],
//! [MS-ASCNTC], [MS-ASTASK]), over the same store items and conversion
//! layer as CalDAV, CardDAV and EWS: outgoing, the stored item's MAPI
//! properties become EAS fields; incoming, the EAS fields become an
//! iCalendar or vCard object that groxide-pim turns into the item the
//! store keeps (so an appointment made on a phone is the one CalDAV
//! serves, with the same UID rules and time-zone handling).

use crate::folder_sync::CollectionKind;
use crate::mail::{body_element, eas_time};
use groxide_mapi::{lids, tags};
use groxide_pim::Item;
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_pim::vcard::import::parse_vcards;
use groxide_wbxml::{AirSync, AirSyncBase, Contacts, Element, Notes, Tag, Tasks};

/// `20261207T100000Z`, the compact form MS-ASCAL uses.
pub(crate) fn compact_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Reads either EAS time form.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    for f in [
        "%Y%m%dT%H%M%SZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%SZ",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

fn text(tag: impl Into<Tag>, v: &str) -> Element {
    Element::with_text(tag, v)
}

fn plain_body(item: &Item) -> Element {
    body_element(1, item.str(tags::PR_BODY).unwrap_or(""), None)
}

/// The ApplicationData of a stored groupware item.
pub(crate) fn application_data(
    kind: CollectionKind,
    item: &Item,
    uid: &str,
    version: u8,
    floating: Option<chrono_tz::Tz>,
    owner: &str,
) -> Element {
    let subject = item.str(tags::PR_SUBJECT).unwrap_or("");
    let mut out = Vec::new();
    match kind {
        CollectionKind::Calendar => {
            out = crate::calendar::appointment_fields(item, uid, version, floating, owner);
        }
        CollectionKind::Contacts => {
            let s = |k: groxide_mapi::PropKey| item.str(k).unwrap_or("");
            let file_as = item
                .str(&lids::PID_LID_FILE_UNDER)
                .or(item.str(tags::PR_DISPLAY_NAME))
                .unwrap_or("");
            out.push(plain_body(item));
            let fields: [(Contacts, &str); 9] = [
                (Contacts::FileAs, file_as),
                (Contacts::FirstName, s(tags::PR_GIVEN_NAME.into())),
                (Contacts::LastName, s(tags::PR_SURNAME.into())),
                (
                    Contacts::Email1Address,
                    s((&lids::PID_LID_EMAIL1_EMAIL_ADDRESS).into()),
                ),
                (
                    Contacts::Email2Address,
                    s((&lids::PID_LID_EMAIL2_EMAIL_ADDRESS).into()),
                ),
                (
                    Contacts::MobilePhoneNumber,
                    s(tags::PR_MOBILE_TELEPHONE_NUMBER.into()),
                ),
                (
                    Contacts::BusinessPhoneNumber,
                    s(tags::PR_BUSINESS_TELEPHONE_NUMBER.into()),
                ),
                (
                    Contacts::HomePhoneNumber,
                    s(tags::PR_HOME_TELEPHONE_NUMBER.into()),
                ),
                (Contacts::CompanyName, s(tags::PR_COMPANY_NAME.into())),
            ];
            for (tag, v) in fields {
                if !v.is_empty() {
                    out.push(text(tag, v));
                }
            }
            if let Some(t) = item.str(tags::PR_TITLE) {
                out.push(text(Contacts::JobTitle, t));
            }
        }
        CollectionKind::Tasks => {
            out.push(plain_body(item));
            out.push(text(Tasks::Subject, subject));
            out.push(text(Tasks::Importance, "1"));
            if let Some(t) = item.time(&lids::PID_LID_TASK_START_DATE) {
                out.push(text(Tasks::UtcStartDate, &eas_time(t)));
                out.push(text(Tasks::StartDate, &eas_time(t)));
            }
            if let Some(t) = item.time(&lids::PID_LID_TASK_DUE_DATE) {
                out.push(text(Tasks::UtcDueDate, &eas_time(t)));
                out.push(text(Tasks::DueDate, &eas_time(t)));
            }
            let done = item.bool(&lids::PID_LID_TASK_COMPLETE).unwrap_or(false);
            out.push(text(Tasks::Complete, if done { "1" } else { "0" }));
            out.push(text(Tasks::Sensitivity, "0"));
        }
        CollectionKind::Notes => {
            out.push(text(Notes::Subject, subject));
            out.push(plain_body(item));
            out.push(text(Notes::MessageClass, "IPM.StickyNote"));
            if let Some(t) = item.time(tags::PR_LAST_MODIFICATION_TIME) {
                out.push(text(Notes::LastModifiedDate, &eas_time(t)));
            }
        }
        CollectionKind::Mail => {
            out.push(plain_body(item));
        }
    }
    Element::with_children(AirSync::ApplicationData, out)
}

/// Overlays a client's Change on the fields the device had (EAS sends the
/// fields it changed; the others keep their values).
pub(crate) fn merge(base: &Element, change: &Element) -> Element {
    let mut out: Vec<Element> = base
        .children()
        .iter()
        .filter(|b| change.child(b.tag).is_none())
        .cloned()
        .collect();
    out.extend(change.children().iter().cloned());
    Element::with_children(AirSync::ApplicationData, out)
}

/// iCalendar/vCard TEXT escaping.
pub(crate) fn escape(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

fn body_text(data: &Element) -> Option<String> {
    data.child(AirSyncBase::Body)
        .and_then(|b| b.child_text(AirSyncBase::Data))
        .map(str::to_string)
}

/// Why a client's item cannot be stored (answered with Sync status 6).
#[derive(Debug)]
pub(crate) struct Unusable(pub String);

/// The iCalendar or vCard object of a client's ApplicationData.
pub(crate) fn source_object(
    kind: CollectionKind,
    data: &Element,
    uid: &str,
    zone: Option<chrono_tz::Tz>,
    owner: &str,
) -> Result<String, Unusable> {
    let mut l: Vec<String> = Vec::new();
    let now = compact_time(chrono::Utc::now().timestamp());
    match kind {
        CollectionKind::Calendar => return crate::calendar::event_object(data, uid, zone, owner),
        CollectionKind::Tasks => {
            l.extend([
                "BEGIN:VCALENDAR".into(),
                "VERSION:2.0".into(),
                "PRODID:-//groxide//ActiveSync//EN".into(),
                "BEGIN:VTODO".into(),
                format!("UID:{}", escape(uid)),
                format!("DTSTAMP:{now}"),
                format!(
                    "SUMMARY:{}",
                    escape(data.child_text(Tasks::Subject).unwrap_or(""))
                ),
            ]);
            let time = |a: Tasks, b: Tasks| {
                data.child_text(a)
                    .or(data.child_text(b))
                    .and_then(parse_time)
            };
            if let Some(t) = time(Tasks::UtcStartDate, Tasks::StartDate) {
                l.push(format!("DTSTART:{}", compact_time(t)));
            }
            if let Some(t) = time(Tasks::UtcDueDate, Tasks::DueDate) {
                l.push(format!("DUE:{}", compact_time(t)));
            }
            if data.child_text(Tasks::Complete).map(str::trim) == Some("1") {
                l.push("STATUS:COMPLETED".into());
            }
            if let Some(b) = body_text(data).filter(|b| !b.is_empty()) {
                l.push(format!("DESCRIPTION:{}", escape(&b)));
            }
            l.extend(["END:VTODO".into(), "END:VCALENDAR".into()]);
        }
        CollectionKind::Contacts => {
            let g = |t: Contacts| data.child_text(t).unwrap_or("").trim().to_string();
            let (first, last) = (g(Contacts::FirstName), g(Contacts::LastName));
            let mut fname = g(Contacts::FileAs);
            if fname.is_empty() {
                fname = format!("{first} {last}").trim().to_string();
            }
            if fname.is_empty() {
                fname = g(Contacts::Email1Address);
            }
            if fname.is_empty() {
                return Err(Unusable("a contact needs a name or an address".into()));
            }
            l.extend([
                "BEGIN:VCARD".into(),
                "VERSION:3.0".into(),
                format!("UID:{}", escape(uid)),
                format!("FN:{}", escape(&fname)),
                format!("N:{};{};;;", escape(&last), escape(&first)),
            ]);
            for t in [
                Contacts::Email1Address,
                Contacts::Email2Address,
                Contacts::Email3Address,
            ] {
                let v = g(t);
                // Clients send `"Name" <addr>`; the address is what counts.
                let addr = v
                    .rsplit_once('<')
                    .map_or(v.as_str(), |(_, a)| a.trim_end_matches('>'));
                if !addr.is_empty() {
                    l.push(format!("EMAIL;TYPE=INTERNET:{}", escape(addr)));
                }
            }
            for (t, kind) in [
                (Contacts::MobilePhoneNumber, "CELL"),
                (Contacts::BusinessPhoneNumber, "WORK"),
                (Contacts::HomePhoneNumber, "HOME"),
            ] {
                let v = g(t);
                if !v.is_empty() {
                    l.push(format!("TEL;TYPE={kind}:{}", escape(&v)));
                }
            }
            let org = g(Contacts::CompanyName);
            if !org.is_empty() {
                l.push(format!("ORG:{}", escape(&org)));
            }
            let title = g(Contacts::JobTitle);
            if !title.is_empty() {
                l.push(format!("TITLE:{}", escape(&title)));
            }
            if let Some(b) = body_text(data).filter(|b| !b.is_empty()) {
                l.push(format!("NOTE:{}", escape(&b)));
            }
            l.push("END:VCARD".into());
        }
        CollectionKind::Mail | CollectionKind::Notes => {
            return Err(Unusable(
                "items of this folder cannot be created here".into(),
            ));
        }
    }
    let mut s = l.join("\r\n");
    s.push_str("\r\n");
    Ok(s)
}

/// The store item of a client's ApplicationData.
pub(crate) fn item_from_data(
    kind: CollectionKind,
    data: &Element,
    uid: &str,
    zone: Option<chrono_tz::Tz>,
    owner: &str,
) -> Result<Item, Unusable> {
    if kind == CollectionKind::Notes {
        // A sticky note is no iCalendar object: subject and text.
        let mut item = Item::new(groxide_pim::ItemClass::StickyNote);
        let subject = data.child_text(Notes::Subject).unwrap_or("").trim();
        item.set_str(tags::PR_SUBJECT, subject);
        item.set_str(tags::PR_BODY, body_text(data).unwrap_or_default());
        return Ok(item);
    }
    let object = source_object(kind, data, uid, zone, owner)?;
    let mut items = if kind == CollectionKind::Contacts {
        parse_vcards(object.as_bytes()).items
    } else {
        parse_calendar(
            object.as_bytes(),
            &ImportOptions {
                floating_zone: zone,
                owner: Some(owner.to_string()),
                ..ImportOptions::default()
            },
        )
        .items
    };
    match items.pop() {
        Some(Ok(item)) if items.is_empty() => Ok(item),
        Some(Err(e)) => Err(Unusable(e.to_string())),
        _ => Err(Unusable("the item did not convert to one object".into())),
    }
}

/// A new UID for an item created on a device.
pub(crate) fn new_uid() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_wbxml::Calendar;

    fn data(xml: &str) -> Element {
        Element::from_xml(
            &format!(
                "<ApplicationData xmlns=\"AirSync:\" xmlns:calendar=\"Calendar:\" xmlns:contacts=\"Contacts:\" xmlns:tasks=\"Tasks:\" xmlns:airsyncbase=\"AirSyncBase:\">{xml}</ApplicationData>"
            ),
            &groxide_wbxml::Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_phone_appointment_becomes_the_store_item_and_comes_back_the_same() {
        let d = data(
            "<calendar:Subject>Dentist; again</calendar:Subject><calendar:StartTime>20261210T090000Z</calendar:StartTime><calendar:EndTime>20261210T093000Z</calendar:EndTime><calendar:Location>Main St</calendar:Location><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>bring card</airsyncbase:Data></airsyncbase:Body>",
        );
        let item = item_from_data(
            CollectionKind::Calendar,
            &d,
            "uid-1",
            None,
            "demo@example.test",
        )
        .unwrap();
        assert_eq!(item.str(tags::PR_SUBJECT), Some("Dentist; again"));
        assert_eq!(groxide_rpc::items::item_uid(&item), "uid-1");
        let back = application_data(
            CollectionKind::Calendar,
            &item,
            "uid-1",
            141,
            None,
            "demo@example.test",
        );
        assert_eq!(back.child_text(Calendar::Subject), Some("Dentist; again"));
        assert_eq!(
            back.child_text(Calendar::StartTime),
            Some("20261210T090000Z")
        );
        assert_eq!(back.child_text(Calendar::EndTime), Some("20261210T093000Z"));
        assert_eq!(back.child_text(Calendar::Location), Some("Main St"));
        assert_eq!(back.child_text(Calendar::UID), Some("uid-1"));
        let v16 = application_data(
            CollectionKind::Calendar,
            &item,
            "uid-1",
            161,
            None,
            "demo@example.test",
        );
        assert!(v16.child(AirSyncBase::Location).is_some());
    }

    #[test]
    fn contacts_and_tasks_convert_both_ways() {
        let d = data(
            "<contacts:FirstName>Ada</contacts:FirstName><contacts:LastName>Lovelace</contacts:LastName><contacts:Email1Address>\"Ada\" &lt;ada@example.test&gt;</contacts:Email1Address><contacts:MobilePhoneNumber>+44 1</contacts:MobilePhoneNumber>",
        );
        let item = item_from_data(CollectionKind::Contacts, &d, "c-1", None, "demo").unwrap();
        let back = application_data(CollectionKind::Contacts, &item, "c-1", 161, None, "demo");
        assert_eq!(back.child_text(Contacts::FirstName), Some("Ada"));
        assert_eq!(back.child_text(Contacts::LastName), Some("Lovelace"));
        assert_eq!(
            back.child_text(Contacts::Email1Address),
            Some("ada@example.test")
        );
        assert_eq!(back.child_text(Contacts::MobilePhoneNumber), Some("+44 1"));

        let t = data(
            "<tasks:Subject>File taxes</tasks:Subject><tasks:UtcDueDate>2026-12-31T12:00:00.000Z</tasks:UtcDueDate><tasks:Complete>0</tasks:Complete>",
        );
        let item = item_from_data(CollectionKind::Tasks, &t, "t-1", None, "demo").unwrap();
        let back = application_data(CollectionKind::Tasks, &item, "t-1", 161, None, "demo");
        assert_eq!(back.child_text(Tasks::Subject), Some("File taxes"));
        assert_eq!(back.child_text(Tasks::Complete), Some("0"));
        assert!(back.child_text(Tasks::UtcDueDate).is_some());
    }

    #[test]
    fn unusable_items_say_why() {
        assert!(
            item_from_data(
                CollectionKind::Calendar,
                &data("<calendar:Subject>x</calendar:Subject>"),
                "u",
                None,
                "d"
            )
            .is_err()
        );
        assert!(
            item_from_data(
                CollectionKind::Contacts,
                &data("<contacts:JobTitle>x</contacts:JobTitle>"),
                "u",
                None,
                "d"
            )
            .is_err()
        );
        let merged = merge(
            &data(
                "<calendar:Subject>old</calendar:Subject><calendar:Location>L</calendar:Location>",
            ),
            &data("<calendar:Subject>new</calendar:Subject>"),
        );
        assert_eq!(merged.child_text(Calendar::Subject), Some("new"));
        assert_eq!(merged.child_text(Calendar::Location), Some("L"));
    }
}
