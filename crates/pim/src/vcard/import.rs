//! vCards → items.

use crate::charset::decode_text;
use crate::error::{ParseError, ParseErrorKind};
use crate::item::{Attachment, AttachmentContent, Item, ItemClass, PropMap};
use crate::text::lines::{Block, logical_lines, split};
use calcard::vcard::{VCard, VCardEntry, VCardParameterName, VCardProperty, VCardValue};
use chrono::NaiveDate;
use groxide_mapi::{KnownProp, PropTag, PropValue, lids, tags};

/// The result of reading vCards.
#[derive(Debug, Clone, Default)]
pub struct VcardImport {
    /// One entry per card, in input order.
    pub items: Vec<Result<Item, ParseError>>,
    /// Some line was not UTF-8 and was decoded from a legacy charset.
    pub transcoded: bool,
}

/// Most cards read from one input.
pub const MAX_CARDS: usize = 1_000_000;

/// Reads every card of `input`.
pub fn parse_vcards(input: &[u8]) -> VcardImport {
    let decoded = decode_text(input);
    let stream = split(logical_lines(&decoded.text));
    let mut out = VcardImport {
        items: vec![],
        transcoded: decoded.transcoded,
    };
    for top in stream.components.into_iter().take(MAX_CARDS) {
        out.items.push(match top {
            Ok(b) if b.kind == "VCARD" => convert(&b),
            Ok(b) => Err(b.error(
                None,
                ParseErrorKind::Unsupported(format!("a top-level {}", b.kind)),
            )),
            Err(e) => Err(e),
        });
    }
    out
}

fn convert(b: &Block) -> Result<Item, ParseError> {
    let text = b.raw();
    let card = match calcard::Parser::new(&text).entry() {
        calcard::Entry::VCard(c) => c,
        other => {
            return Err(b.error(
                None,
                ParseErrorKind::Structure(format!("calcard could not read the card: {other:?}")),
            ));
        }
    };
    let mut item = card_to_item(&card, b)?;
    item.original = Some(text.into_bytes());
    Ok(item)
}

/// Lower-case TYPE values of an entry (v3 `TYPE=a,b`, `type=a;type=b`, v2.1 bare types).
pub(crate) fn types(e: &VCardEntry) -> Vec<String> {
    let mut out = Vec::new();
    for p in &e.params {
        if p.name == VCardParameterName::Type {
            if let Some(t) = p.value.as_text() {
                out.extend(
                    t.split(',')
                        .map(|s| s.trim().trim_matches('"').to_ascii_lowercase()),
                );
            }
        } else if p.name == VCardParameterName::Pref {
            out.push("pref".into());
        } else if let VCardParameterName::Other(n) = &p.name
            && p.value.as_text().is_none()
        {
            out.push(n.to_ascii_lowercase());
        }
    }
    out
}

pub(crate) fn text_of(e: &VCardEntry) -> String {
    let parts: Vec<String> = e
        .values
        .iter()
        .map(|v| match v {
            VCardValue::Component(c) => c.join(" "),
            v => v.as_text().unwrap_or_default().to_owned(),
        })
        .collect();
    parts.join(",").trim().to_owned()
}

/// The components of a structured value (N, ADR, ORG).
pub(crate) fn components(e: &VCardEntry) -> Vec<String> {
    match e.values.as_slice() {
        [VCardValue::Component(c)] => c.clone(),
        vals => vals
            .iter()
            .map(|v| v.as_text().unwrap_or_default().to_owned())
            .collect(),
    }
}

fn other_name(e: &VCardEntry) -> Option<String> {
    match &e.name {
        VCardProperty::Other(n) => Some(n.to_ascii_uppercase()),
        _ => None,
    }
}

fn date_of(e: &VCardEntry) -> Option<NaiveDate> {
    match e.values.first()? {
        VCardValue::PartialDateTime(p) => {
            NaiveDate::from_ymd_opt(i32::from(p.year?), u32::from(p.month?), u32::from(p.day?))
        }
        v => {
            let t = v.as_text()?.trim().to_owned();
            let digits: String = t.chars().filter(|c| c.is_ascii_digit()).take(8).collect();
            NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
        }
    }
}

/// The three e-mail slots of a contact ([MS-OXOCNTC] 2.2.1.2).
pub(crate) const EMAIL_SLOTS: [[&KnownProp; 4]; 3] = [
    [
        &lids::PID_LID_EMAIL1_EMAIL_ADDRESS,
        &lids::PID_LID_EMAIL1_ADDRESS_TYPE,
        &lids::PID_LID_EMAIL1_DISPLAY_NAME,
        &lids::PID_LID_EMAIL1_ORIGINAL_DISPLAY_NAME,
    ],
    [
        &lids::PID_LID_EMAIL2_EMAIL_ADDRESS,
        &lids::PID_LID_EMAIL2_ADDRESS_TYPE,
        &lids::PID_LID_EMAIL2_DISPLAY_NAME,
        &lids::PID_LID_EMAIL2_ORIGINAL_DISPLAY_NAME,
    ],
    [
        &lids::PID_LID_EMAIL3_EMAIL_ADDRESS,
        &lids::PID_LID_EMAIL3_ADDRESS_TYPE,
        &lids::PID_LID_EMAIL3_DISPLAY_NAME,
        &lids::PID_LID_EMAIL3_ORIGINAL_DISPLAY_NAME,
    ],
];

/// Which telephone property a TEL with these types fills, in order of preference.
pub(crate) fn phone_slots(t: &[String]) -> Vec<PropTag> {
    let has = |x: &str| t.iter().any(|s| s == x);
    let work = has("work");
    let home = has("home");
    if has("fax") {
        return vec![if work {
            tags::PR_BUSINESS_FAX_NUMBER
        } else if home {
            tags::PR_HOME_FAX_NUMBER
        } else {
            tags::PR_PRIMARY_FAX_NUMBER
        }];
    }
    if has("cell") || has("mobile") || has("iphone") {
        return vec![
            tags::PR_MOBILE_TELEPHONE_NUMBER,
            tags::PR_OTHER_TELEPHONE_NUMBER,
        ];
    }
    if has("pager") {
        return vec![tags::PR_PAGER_TELEPHONE_NUMBER];
    }
    if has("car") {
        return vec![tags::PR_CAR_TELEPHONE_NUMBER];
    }
    if has("isdn") {
        return vec![tags::PR_ISDN_NUMBER];
    }
    if has("textphone") || has("tty") {
        return vec![tags::PR_TTYTDD_PHONE_NUMBER];
    }
    if work {
        return vec![
            tags::PR_BUSINESS_TELEPHONE_NUMBER,
            tags::PR_BUSINESS2_TELEPHONE_NUMBER,
            tags::PR_OTHER_TELEPHONE_NUMBER,
        ];
    }
    if home {
        return vec![
            tags::PR_HOME_TELEPHONE_NUMBER,
            tags::PR_HOME2_TELEPHONE_NUMBER,
            tags::PR_OTHER_TELEPHONE_NUMBER,
        ];
    }
    if has("main") || has("x-main") {
        return vec![
            tags::PR_PRIMARY_TELEPHONE_NUMBER,
            tags::PR_OTHER_TELEPHONE_NUMBER,
        ];
    }
    vec![
        tags::PR_OTHER_TELEPHONE_NUMBER,
        tags::PR_HOME2_TELEPHONE_NUMBER,
    ]
}

/// The address slots: (kind, street, city, state, postal code, country, PO box).
pub(crate) fn address_slots(kind: u8) -> [PropKeyish; 6] {
    match kind {
        1 => [
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_STREET),
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_CITY),
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_STATE_OR_PROVINCE),
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_POSTAL_CODE),
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_COUNTRY),
            PropKeyish::Tag(tags::PR_HOME_ADDRESS_POST_OFFICE_BOX),
        ],
        2 => [
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_STREET),
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_CITY),
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_STATE),
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_POSTAL_CODE),
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_COUNTRY),
            PropKeyish::Named(&lids::PID_LID_WORK_ADDRESS_POST_OFFICE_BOX),
        ],
        _ => [
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_STREET),
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_CITY),
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_STATE_OR_PROVINCE),
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_POSTAL_CODE),
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_COUNTRY),
            PropKeyish::Tag(tags::PR_OTHER_ADDRESS_POST_OFFICE_BOX),
        ],
    }
}

/// A tag or a documented named property.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PropKeyish {
    Tag(PropTag),
    Named(&'static KnownProp),
}

impl PropKeyish {
    pub(crate) fn key(self) -> groxide_mapi::PropKey {
        match self {
            PropKeyish::Tag(t) => t.into(),
            PropKeyish::Named(k) => k.key(),
        }
    }
}

/// Formatted address text (PidLidWorkAddress and friends).
fn address_text(c: &[String]) -> String {
    let get = |i: usize| c.get(i).map(|s| s.trim()).unwrap_or("");
    let mut lines: Vec<String> = Vec::new();
    for s in [get(1), get(2)] {
        if !s.is_empty() {
            lines.push(s.to_owned());
        }
    }
    let city_line = [get(5), get(3), get(4)]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if !city_line.is_empty() {
        lines.push(city_line);
    }
    if !get(6).is_empty() {
        lines.push(get(6).to_owned());
    }
    lines.join("\n")
}

fn card_to_item(card: &VCard, b: &Block) -> Result<Item, ParseError> {
    let kind = card
        .entries
        .iter()
        .find(|e| {
            e.name == VCardProperty::Kind
                || other_name(e).as_deref() == Some("X-ADDRESSBOOKSERVER-KIND")
        })
        .map(|e| text_of(e).to_ascii_lowercase());
    if kind.as_deref() == Some("group") {
        return Ok(distlist(card));
    }
    let mut item = Item::new(ItemClass::Contact);
    let fnm = card
        .entries
        .iter()
        .find(|e| e.name == VCardProperty::Fn)
        .map(text_of)
        .unwrap_or_default();
    let mut emails = 0usize;
    let mut email_list: Vec<i32> = Vec::new();
    let mut postal_id = 0;
    let mut phones_done: Vec<PropTag> = Vec::new();
    let mut photo_seen = false;
    let mut urls_done = (false, false);
    for e in &card.entries {
        let name = match &e.name {
            VCardProperty::Other(n) => n.to_ascii_uppercase(),
            n => n.as_str().to_owned(),
        };
        let t = types(e);
        match &e.name {
            VCardProperty::Fn => item.set_str(tags::PR_DISPLAY_NAME, text_of(e)),
            VCardProperty::N => {
                let c = components(e);
                let get = |i: usize| c.get(i).cloned().unwrap_or_default().trim().to_owned();
                item.set_str(tags::PR_SURNAME, get(0));
                item.set_str(tags::PR_GIVEN_NAME, get(1));
                item.set_str(tags::PR_MIDDLE_NAME, get(2));
                item.set_str(tags::PR_DISPLAY_NAME_PREFIX, get(3));
                item.set_str(tags::PR_GENERATION, get(4));
            }
            VCardProperty::Nickname if item.get(tags::PR_NICKNAME).is_none() => {
                item.set_str(
                    tags::PR_NICKNAME,
                    text_of(e).split(',').next().unwrap_or("").trim(),
                );
            }
            VCardProperty::Email => {
                let addr = text_of(e).trim_start_matches("mailto:").to_owned();
                if addr.is_empty() || emails >= 3 {
                    continue;
                }
                let slot = EMAIL_SLOTS[emails];
                item.set_str(slot[0], addr.clone());
                item.set_str(slot[1], "SMTP");
                let display = if fnm.is_empty() {
                    addr.clone()
                } else {
                    format!("{fnm} ({addr})")
                };
                item.set_str(slot[2], display);
                item.set_str(slot[3], addr);
                email_list.push(emails as i32);
                emails += 1;
            }
            VCardProperty::Tel => {
                let v = text_of(e);
                let v = v.strip_prefix("tel:").unwrap_or(&v).to_owned();
                if v.is_empty() {
                    continue;
                }
                if let Some(slot) = phone_slots(&t)
                    .into_iter()
                    .find(|s| !phones_done.contains(s))
                {
                    item.set_str(slot, v);
                    phones_done.push(slot);
                }
            }
            VCardProperty::Adr => {
                let c = components(e);
                let kind = if t.iter().any(|x| x == "home") {
                    1
                } else if t.iter().any(|x| x == "work") {
                    2
                } else {
                    3
                };
                let slots = address_slots(kind);
                if item.get(slots[0].key()).is_some() || item.get(slots[1].key()).is_some() {
                    continue; // a second address of the same kind: kept in the original only
                }
                let get = |i: usize| c.get(i).map(|s| s.trim().to_owned()).unwrap_or_default();
                let street = [get(1), get(2)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                item.set_str(slots[0].key(), street);
                item.set_str(slots[1].key(), get(3));
                item.set_str(slots[2].key(), get(4));
                item.set_str(slots[3].key(), get(5));
                item.set_str(slots[4].key(), get(6));
                item.set_str(slots[5].key(), get(0));
                let formatted = address_text(&c);
                match kind {
                    1 => item.set_str(&lids::PID_LID_HOME_ADDRESS, formatted),
                    2 => item.set_str(&lids::PID_LID_WORK_ADDRESS, formatted),
                    _ => item.set_str(&lids::PID_LID_OTHER_ADDRESS, formatted),
                }
                if t.iter().any(|x| x == "pref") || postal_id == 0 {
                    postal_id = i32::from(kind);
                }
            }
            VCardProperty::Bday => {
                let d = date_of(e).ok_or_else(|| {
                    b.error(
                        Some("BDAY"),
                        ParseErrorKind::BadValue(format!("not a full date: {:?}", text_of(e))),
                    )
                });
                match d {
                    Ok(d) => {
                        let t = d
                            .and_hms_opt(0, 0, 0)
                            .unwrap_or_default()
                            .and_utc()
                            .timestamp();
                        item.set_time(tags::PR_BIRTHDAY, t);
                        item.set_time(&lids::PID_LID_BIRTHDAY_LOCAL, t);
                    }
                    // A birthday without a year (--0415) has no MAPI form; kept in the original.
                    Err(_) if text_of(e).starts_with("--") => {}
                    Err(err) => return Err(err),
                }
            }
            VCardProperty::Anniversary => anniversary(&mut item, e),
            VCardProperty::Photo if !photo_seen => {
                if let Some(VCardValue::Binary(d)) = e.values.first() {
                    photo_seen = true;
                    photo(
                        &mut item,
                        &d.data,
                        d.content_type
                            .as_deref()
                            .or(t.iter().find(|x| !x.contains('=')).map(String::as_str)),
                    );
                }
            }
            VCardProperty::Org => {
                let c = components(e);
                item.set_str(
                    tags::PR_COMPANY_NAME,
                    c.first().cloned().unwrap_or_default().trim(),
                );
                item.set_str(
                    tags::PR_DEPARTMENT_NAME,
                    c.get(1..).map(|r| r.join(", ")).unwrap_or_default().trim(),
                );
            }
            VCardProperty::Title => item.set_str(tags::PR_TITLE, text_of(e)),
            VCardProperty::Role => item.set_str(tags::PR_PROFESSION, text_of(e)),
            VCardProperty::Note => item.set_str(tags::PR_BODY, text_of(e)),
            VCardProperty::Categories => {
                let mut cats: Vec<String> = match item.strings(&lids::PID_NAME_KEYWORDS) {
                    Some(c) => c.to_vec(),
                    None => vec![],
                };
                for v in &e.values {
                    match v {
                        VCardValue::Component(c) => {
                            cats.extend(c.iter().map(|s| s.trim().to_owned()))
                        }
                        v => cats.extend(v.as_text().map(|s| s.trim().to_owned())),
                    }
                }
                cats.retain(|c| !c.is_empty());
                if !cats.is_empty() {
                    item.set(&lids::PID_NAME_KEYWORDS, PropValue::MvUnicode(cats));
                }
            }
            VCardProperty::Url => {
                let u = text_of(e);
                let home = t.iter().any(|x| x == "home");
                if home && !urls_done.1 {
                    item.set_str(tags::PR_PERSONAL_HOME_PAGE, u);
                    urls_done.1 = true;
                } else if !home && !urls_done.0 {
                    item.set_str(tags::PR_BUSINESS_HOME_PAGE, u.clone());
                    item.set_str(&lids::PID_LID_HTML, u);
                    urls_done.0 = true;
                }
            }
            VCardProperty::Uid => item.set_str(&lids::PID_NAME_CALENDAR_UID, text_of(e)),
            VCardProperty::Impp if item.get(&lids::PID_LID_INSTANT_MESSAGING_ADDRESS).is_none() => {
                item.set_str(&lids::PID_LID_INSTANT_MESSAGING_ADDRESS, text_of(e));
            }
            VCardProperty::Gender => {
                let g = match text_of(e).chars().next().map(|c| c.to_ascii_uppercase()) {
                    Some('F') => 1,
                    Some('M') => 2,
                    _ => 0,
                };
                item.set(tags::PR_GENDER, PropValue::Short(g));
            }
            _ if matches!(
                name.as_str(),
                "X-ANNIVERSARY" | "X-MS-ANNIVERSARY" | "X-EVOLUTION-ANNIVERSARY"
            ) =>
            {
                anniversary(&mut item, e)
            }
            _ if matches!(name.as_str(), "X-MS-SPOUSE" | "X-SPOUSE") => {
                item.set_str(tags::PR_SPOUSE_NAME, text_of(e))
            }
            _ if matches!(name.as_str(), "X-MS-MANAGER" | "X-MANAGER") => {
                item.set_str(tags::PR_MANAGER_NAME, text_of(e))
            }
            _ if matches!(name.as_str(), "X-MS-ASSISTANT" | "X-ASSISTANT") => {
                item.set_str(tags::PR_ASSISTANT, text_of(e))
            }
            _ => {}
        }
    }
    if item.get(tags::PR_DISPLAY_NAME).is_none() {
        let parts: Vec<&str> = [tags::PR_GIVEN_NAME, tags::PR_SURNAME]
            .iter()
            .filter_map(|t| item.str(*t))
            .collect();
        let name = if parts.is_empty() {
            item.str(tags::PR_COMPANY_NAME).unwrap_or("").to_owned()
        } else {
            parts.join(" ")
        };
        item.set_str(tags::PR_DISPLAY_NAME, name);
    }
    let file_under = match (item.str(tags::PR_SURNAME), item.str(tags::PR_GIVEN_NAME)) {
        (Some(s), Some(g)) => format!("{s}, {g}"),
        (Some(s), None) => s.to_owned(),
        _ => item.str(tags::PR_DISPLAY_NAME).unwrap_or("").to_owned(),
    };
    item.set_str(&lids::PID_LID_FILE_UNDER, file_under);
    if let Some(d) = item.str(tags::PR_DISPLAY_NAME).map(str::to_owned) {
        item.set_str(tags::PR_SUBJECT, d);
    }
    if !email_list.is_empty() {
        let mask = email_list.iter().fold(0, |m, i| m | (1 << i));
        item.set(
            &lids::PID_LID_ADDRESS_BOOK_PROVIDER_EMAIL_LIST,
            PropValue::MvLong(email_list),
        );
        item.set(
            &lids::PID_LID_ADDRESS_BOOK_PROVIDER_ARRAY_TYPE,
            PropValue::Long(mask),
        );
    }
    if postal_id != 0 {
        item.set(&lids::PID_LID_POSTAL_ADDRESS_ID, PropValue::Long(postal_id));
    }
    item.set(&lids::PID_LID_HAS_PICTURE, PropValue::Bool(photo_seen));
    Ok(item)
}

fn anniversary(item: &mut Item, e: &VCardEntry) {
    if let Some(d) = date_of(e) {
        let t = d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp();
        item.set_time(tags::PR_WEDDING_ANNIVERSARY, t);
        item.set_time(&lids::PID_LID_WEDDING_ANNIVERSARY_LOCAL, t);
    }
}

fn photo(item: &mut Item, data: &[u8], media: Option<&str>) {
    let ext = match media.map(|m| m.to_ascii_lowercase()) {
        Some(m) if m.contains("png") => "png",
        Some(m) if m.contains("gif") => "gif",
        Some(m) if m.contains("bmp") => "bmp",
        _ => "jpg",
    };
    let mime = match ext {
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        _ => "image/jpeg",
    };
    let mut props = PropMap::new();
    props.insert(
        tags::PR_ATTACHMENT_CONTACTPHOTO.into(),
        PropValue::Bool(true),
    );
    props.insert(tags::PR_ATTACHMENT_HIDDEN.into(), PropValue::Bool(true));
    props.insert(
        tags::PR_ATTACH_FILENAME.into(),
        PropValue::Unicode(format!("ContactPicture.{ext}")),
    );
    props.insert(
        tags::PR_ATTACH_LONG_FILENAME.into(),
        PropValue::Unicode(format!("ContactPicture.{ext}")),
    );
    props.insert(
        tags::PR_ATTACH_EXTENSION.into(),
        PropValue::Unicode(format!(".{ext}")),
    );
    props.insert(
        tags::PR_ATTACH_MIME_TAG.into(),
        PropValue::Unicode(mime.into()),
    );
    props.insert(
        tags::PR_DISPLAY_NAME.into(),
        PropValue::Unicode(format!("ContactPicture.{ext}")),
    );
    item.attachments.push(Attachment {
        props,
        content: AttachmentContent::Data(data.to_vec()),
    });
}

/// A one-off EntryID ([MS-OXCDATA] 2.2.5.1) of an SMTP address, Unicode.
pub fn one_off_entry_id(name: &str, address: &str) -> Vec<u8> {
    const MAPI_ONE_OFF_UID: [u8; 16] = [
        0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19, 0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54,
        0x02,
    ];
    let mut out = vec![0, 0, 0, 0];
    out.extend_from_slice(&MAPI_ONE_OFF_UID);
    out.extend_from_slice(&0u16.to_le_bytes());
    // MAPI_UNICODE | MAPI_SEND_NO_RICH_INFO
    out.extend_from_slice(&0x9000u16.to_le_bytes());
    for s in [name, "SMTP", address] {
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// The name and address of a Unicode one-off EntryID.
pub fn parse_one_off(b: &[u8]) -> Option<(String, String)> {
    let rest = b.get(24..)?;
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let mut parts = units.split(|u| *u == 0).map(String::from_utf16_lossy);
    let name = parts.next()?;
    let _ = parts.next()?;
    let addr = parts.next()?;
    Some((name, addr))
}

/// CRC-32 (ISO 8802-3) of the members ([MS-OXOCNTC] 2.2.2.2.3).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn distlist(card: &VCard) -> Item {
    let mut item = Item::new(ItemClass::DistList);
    let name = card
        .entries
        .iter()
        .find(|e| e.name == VCardProperty::Fn)
        .map(text_of)
        .unwrap_or_default();
    item.set_str(tags::PR_DISPLAY_NAME, name.clone());
    item.set_str(tags::PR_SUBJECT, name.clone());
    item.set_str(&lids::PID_LID_DISTRIBUTION_LIST_NAME, name.clone());
    item.set_str(&lids::PID_LID_FILE_UNDER, name);
    let mut members: Vec<Vec<u8>> = Vec::new();
    for e in &card.entries {
        let is_member = e.name == VCardProperty::Member
            || other_name(e).as_deref() == Some("X-ADDRESSBOOKSERVER-MEMBER");
        match &e.name {
            VCardProperty::Uid => item.set_str(&lids::PID_NAME_CALENDAR_UID, text_of(e)),
            VCardProperty::Note => item.set_str(tags::PR_BODY, text_of(e)),
            _ if is_member => {
                let v = text_of(e);
                // urn:uuid: members name other contacts; the store resolves them.
                if let Some(addr) = v.strip_prefix("mailto:") {
                    members.push(one_off_entry_id(addr, addr));
                }
            }
            _ => {}
        }
    }
    if !members.is_empty() {
        let all: Vec<u8> = members.concat();
        item.set(
            &lids::PID_LID_DISTRIBUTION_LIST_CHECKSUM,
            PropValue::Long(crc32(&all) as i32),
        );
        item.set(
            &lids::PID_LID_DISTRIBUTION_LIST_ONE_OFF_MEMBERS,
            PropValue::MvBinary(members.clone()),
        );
        item.set(
            &lids::PID_LID_DISTRIBUTION_LIST_MEMBERS,
            PropValue::MvBinary(members),
        );
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn one_off_ids_round_trip() {
        let id = one_off_entry_id("Zoë", "zoe@example.org");
        assert_eq!(
            &id[4..20],
            &[
                0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19, 0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F,
                0x54, 0x02
            ]
        );
        assert_eq!(
            parse_one_off(&id),
            Some(("Zoë".into(), "zoe@example.org".into()))
        );
    }
}
