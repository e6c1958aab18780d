//! Items → vCard 3.0 or 4.0.
//!
//! Fresh lines are built from MAPI and written through calcard in the
//! requested version. With an original, the merge rule of [`crate::vcard`]
//! applies in the original's version; the result is converted by calcard
//! only if another version is asked for.

use super::import::{EMAIL_SLOTS, PropKeyish, address_slots, parse_one_off, parse_vcards};
use super::semantic::norm_line;
use crate::error::ExportError;
use crate::item::{AttachmentContent, Item, ItemClass};
use crate::text::lines::{Block, logical_lines, split};
use crate::text::write::{Prop, escape, push_line};
use base64::Engine;
use calcard::vcard::VCardVersion as CalcardVersion;
use groxide_mapi::{PropKey, PropTag, PropValue, lids, tags};

/// The vCard version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcardVersion {
    /// vCard 3.0 (RFC 2426).
    V3,
    /// vCard 4.0 (RFC 6350).
    V4,
}

impl VcardVersion {
    fn calcard(self) -> CalcardVersion {
        match self {
            VcardVersion::V3 => CalcardVersion::V3_0,
            VcardVersion::V4 => CalcardVersion::V4_0,
        }
    }
}

const PHONES: &[(PropTag, &str)] = &[
    (tags::PR_BUSINESS_TELEPHONE_NUMBER, "work,voice"),
    (tags::PR_BUSINESS2_TELEPHONE_NUMBER, "work,voice"),
    (tags::PR_HOME_TELEPHONE_NUMBER, "home,voice"),
    (tags::PR_HOME2_TELEPHONE_NUMBER, "home,voice"),
    (tags::PR_MOBILE_TELEPHONE_NUMBER, "cell"),
    (tags::PR_BUSINESS_FAX_NUMBER, "work,fax"),
    (tags::PR_HOME_FAX_NUMBER, "home,fax"),
    (tags::PR_PRIMARY_FAX_NUMBER, "fax"),
    (tags::PR_PAGER_TELEPHONE_NUMBER, "pager"),
    (tags::PR_CAR_TELEPHONE_NUMBER, "car"),
    (tags::PR_ISDN_NUMBER, "isdn"),
    (tags::PR_TTYTDD_PHONE_NUMBER, "textphone"),
    (tags::PR_PRIMARY_TELEPHONE_NUMBER, "main"),
    (tags::PR_OTHER_TELEPHONE_NUMBER, "voice"),
];

/// The merge groups: vCard names and the MAPI keys they map to.
fn groups() -> Vec<(Vec<&'static str>, Vec<PropKey>)> {
    let t = |x: PropTag| PropKey::Tag(x);
    let mut addr = Vec::new();
    for k in 1..=3 {
        addr.extend(address_slots(k).iter().map(|s| s.key()));
    }
    vec![
        (vec!["FN"], vec![t(tags::PR_DISPLAY_NAME)]),
        (
            vec!["N"],
            vec![
                t(tags::PR_SURNAME),
                t(tags::PR_GIVEN_NAME),
                t(tags::PR_MIDDLE_NAME),
                t(tags::PR_DISPLAY_NAME_PREFIX),
                t(tags::PR_GENERATION),
            ],
        ),
        (vec!["NICKNAME"], vec![t(tags::PR_NICKNAME)]),
        (
            vec!["EMAIL"],
            EMAIL_SLOTS.iter().map(|s| s[0].key()).collect(),
        ),
        (vec!["TEL"], PHONES.iter().map(|(p, _)| t(*p)).collect()),
        (vec!["ADR", "LABEL"], addr),
        (vec!["BDAY"], vec![t(tags::PR_BIRTHDAY)]),
        (
            vec!["ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY"],
            vec![t(tags::PR_WEDDING_ANNIVERSARY)],
        ),
        (
            vec!["ORG"],
            vec![t(tags::PR_COMPANY_NAME), t(tags::PR_DEPARTMENT_NAME)],
        ),
        (vec!["TITLE"], vec![t(tags::PR_TITLE)]),
        (vec!["ROLE"], vec![t(tags::PR_PROFESSION)]),
        (vec!["NOTE"], vec![t(tags::PR_BODY)]),
        (vec!["CATEGORIES"], vec![lids::PID_NAME_KEYWORDS.key()]),
        (
            vec!["URL"],
            vec![
                t(tags::PR_BUSINESS_HOME_PAGE),
                t(tags::PR_PERSONAL_HOME_PAGE),
            ],
        ),
        (vec!["UID"], vec![lids::PID_NAME_CALENDAR_UID.key()]),
        (
            vec!["IMPP"],
            vec![lids::PID_LID_INSTANT_MESSAGING_ADDRESS.key()],
        ),
        (vec!["GENDER"], vec![t(tags::PR_GENDER)]),
        (
            vec!["MEMBER", "X-ADDRESSBOOKSERVER-MEMBER"],
            vec![lids::PID_LID_DISTRIBUTION_LIST_ONE_OFF_MEMBERS.key()],
        ),
    ]
}

/// The photo group compares attachments instead of properties.
const PHOTO: &str = "PHOTO";

/// The vCard of a contact or distribution list.
pub fn item_to_vcard(item: &Item, version: VcardVersion) -> Result<String, ExportError> {
    let fresh_v4 = generate(item)?;
    let Some(orig) = &item.original else {
        return Ok(convert(&fresh_v4, version));
    };
    let orig_text = String::from_utf8_lossy(orig).into_owned();
    let Some(Ok(before)) = parse_vcards(orig).items.into_iter().next() else {
        return Ok(convert(&fresh_v4, version));
    };
    if before.class != item.class {
        return Ok(convert(&fresh_v4, version));
    }
    let orig_version = if orig_text.contains("VERSION:4") {
        VcardVersion::V4
    } else {
        VcardVersion::V3
    };
    let fresh = convert(&fresh_v4, orig_version);
    let merged = merge(&orig_text, &fresh, item, &before);
    Ok(if orig_version == version {
        merged
    } else {
        convert(&merged, version)
    })
}

/// Rewrites a card through calcard in another version.
fn convert(text: &str, version: VcardVersion) -> String {
    match calcard::Parser::new(text).entry() {
        calcard::Entry::VCard(c) => {
            let mut out = String::new();
            if c.write_to(&mut out, version.calcard()).is_ok() {
                return out;
            }
            text.to_owned()
        }
        _ => text.to_owned(),
    }
}

fn merge(orig: &str, fresh: &str, now: &Item, before: &Item) -> String {
    let parse =
        |t: &str| -> Option<Block> { split(logical_lines(t)).components.into_iter().next()?.ok() };
    let (Some(o), Some(f)) = (parse(orig), parse(fresh)) else {
        return fresh.to_owned();
    };
    let gs = groups();
    let group_of = |name: &str| {
        gs.iter()
            .position(|(n, _)| n.contains(&name))
            .or((name == PHOTO).then_some(gs.len()))
    };
    let unchanged: Vec<bool> = gs
        .iter()
        .map(|(_, keys)| {
            keys.iter()
                .all(|k| now.get(k.clone()) == before.get(k.clone()))
        })
        .chain(std::iter::once(photo_of(now) == photo_of(before)))
        .collect();
    let version = o
        .prop("VERSION")
        .map(|l| l.value().trim().to_owned())
        .unwrap_or_else(|| "3.0".into());
    let key = |l: &crate::text::lines::Line| norm_line(&l.text, &version);
    let mut out = String::from("BEGIN:VCARD\r\n");
    let mut emitted = vec![false; unchanged.len()];
    let emit = |g: usize, out: &mut String, emitted: &mut Vec<bool>| {
        if emitted[g] {
            return;
        }
        emitted[g] = true;
        for l in f.props.iter().filter(|l| group_of(&l.name) == Some(g)) {
            // An original line with the same value keeps its group and parameters.
            let k = key(l);
            match o.props.iter().find(|x| x.name == l.name && key(x) == k) {
                Some(x) => out.push_str(&x.raw),
                None => out.push_str(&l.raw),
            }
            out.push_str("\r\n");
        }
    };
    for l in &o.props {
        match group_of(&l.name) {
            Some(g) if !unchanged[g] => emit(g, &mut out, &mut emitted),
            _ => {
                out.push_str(&l.raw);
                out.push_str("\r\n");
            }
        }
    }
    for (g, same) in unchanged.iter().enumerate() {
        if !same {
            emit(g, &mut out, &mut emitted);
        }
    }
    out.push_str("END:VCARD\r\n");
    out
}

fn photo_of(item: &Item) -> Option<&[u8]> {
    item.attachments.iter().find_map(|a| match &a.content {
        AttachmentContent::Data(d)
            if a.props.get(&PropKey::Tag(tags::PR_ATTACHMENT_CONTACTPHOTO))
                == Some(&PropValue::Bool(true)) =>
        {
            Some(d.as_slice())
        }
        _ => None,
    })
}

fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y%m%d")
        .to_string()
}

/// A vCard 4.0 of the item's MAPI properties.
fn generate(item: &Item) -> Result<String, ExportError> {
    let mut out = String::new();
    push_line(&mut out, "BEGIN:VCARD");
    push_line(&mut out, "VERSION:4.0");
    let s = |k: PropKeyish| item.str(k.key()).unwrap_or("").to_owned();
    let tag = |t: PropTag| PropKeyish::Tag(t);
    match item.class {
        ItemClass::Contact => {}
        ItemClass::DistList => {
            push_line(&mut out, "KIND:group");
            Prop::new("FN")
                .text(
                    item.str(&lids::PID_LID_DISTRIBUTION_LIST_NAME)
                        .or_else(|| item.str(tags::PR_DISPLAY_NAME))
                        .unwrap_or(""),
                )
                .write(&mut out);
            if let Some(PropValue::MvBinary(ms)) =
                item.get(&lids::PID_LID_DISTRIBUTION_LIST_ONE_OFF_MEMBERS)
            {
                for m in ms {
                    if let Some((_, addr)) = parse_one_off(m) {
                        Prop::new("MEMBER")
                            .raw(&format!("mailto:{addr}"))
                            .write(&mut out);
                    }
                }
            }
            if let Some(u) = item.str(&lids::PID_NAME_CALENDAR_UID) {
                Prop::new("UID").text(u).write(&mut out);
            }
            if let Some(n) = item.str(tags::PR_BODY) {
                Prop::new("NOTE").text(n).write(&mut out);
            }
            push_line(&mut out, "END:VCARD");
            return Ok(out);
        }
        other => return Err(ExportError::WrongClass(other.message_class(), "vCard")),
    }
    Prop::new("FN")
        .text(item.str(tags::PR_DISPLAY_NAME).unwrap_or(""))
        .write(&mut out);
    let n: Vec<String> = [
        tags::PR_SURNAME,
        tags::PR_GIVEN_NAME,
        tags::PR_MIDDLE_NAME,
        tags::PR_DISPLAY_NAME_PREFIX,
        tags::PR_GENERATION,
    ]
    .iter()
    .map(|t| escape(&s(tag(*t))))
    .collect();
    Prop::new("N").raw(&n.join(";")).write(&mut out);
    if let Some(v) = item.str(tags::PR_NICKNAME) {
        Prop::new("NICKNAME").text(v).write(&mut out);
    }
    for slot in EMAIL_SLOTS {
        if let Some(a) = item.str(slot[0]) {
            Prop::new("EMAIL").text(a).write(&mut out);
        }
    }
    for (t, types) in PHONES {
        if let Some(v) = item.str(*t) {
            Prop::new("TEL")
                .raw_param("TYPE", &format!("\"{types}\""))
                .text(v)
                .write(&mut out);
        }
    }
    for (kind, label) in [(2u8, "work"), (1, "home"), (3, "")] {
        let slots = address_slots(kind);
        let parts: Vec<String> = slots.iter().map(|k| s(*k)).collect();
        if parts.iter().all(String::is_empty) {
            continue;
        }
        // pobox;ext;street;locality;region;code;country
        let adr = [
            &parts[5], "", &parts[0], &parts[1], &parts[2], &parts[3], &parts[4],
        ]
        .iter()
        .map(|p| escape(p))
        .collect::<Vec<_>>()
        .join(";");
        let mut p = Prop::new("ADR");
        if !label.is_empty() {
            p = p.param("TYPE", label);
        }
        p.raw(&adr).write(&mut out);
    }
    if let Some(t) = item.time(tags::PR_BIRTHDAY) {
        Prop::new("BDAY").raw(&date(t)).write(&mut out);
    }
    if let Some(t) = item.time(tags::PR_WEDDING_ANNIVERSARY) {
        Prop::new("ANNIVERSARY").raw(&date(t)).write(&mut out);
    }
    if let Some(photo) = photo_of(item) {
        let mime = item
            .attachments
            .iter()
            .find_map(|a| {
                a.props
                    .get(&PropKey::Tag(tags::PR_ATTACH_MIME_TAG))
                    .and_then(PropValue::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "image/jpeg".into());
        let b64 = base64::engine::general_purpose::STANDARD.encode(photo);
        Prop::new("PHOTO")
            .raw(&format!("data:{mime};base64,{b64}"))
            .write(&mut out);
    }
    let org = [tags::PR_COMPANY_NAME, tags::PR_DEPARTMENT_NAME].map(|t| escape(&s(tag(t))));
    if org.iter().any(|x| !x.is_empty()) {
        let v = if org[1].is_empty() {
            org[0].clone()
        } else {
            org.join(";")
        };
        Prop::new("ORG").raw(&v).write(&mut out);
    }
    for (t, name) in [
        (tags::PR_TITLE, "TITLE"),
        (tags::PR_PROFESSION, "ROLE"),
        (tags::PR_BODY, "NOTE"),
    ] {
        if let Some(v) = item.str(t) {
            Prop::new(name).text(v).write(&mut out);
        }
    }
    if let Some(c) = item.strings(&lids::PID_NAME_KEYWORDS)
        && !c.is_empty()
    {
        Prop::new("CATEGORIES")
            .raw(&c.iter().map(|x| escape(x)).collect::<Vec<_>>().join(","))
            .write(&mut out);
    }
    if let Some(u) = item.str(tags::PR_BUSINESS_HOME_PAGE) {
        Prop::new("URL")
            .param("TYPE", "work")
            .raw(u)
            .write(&mut out);
    }
    if let Some(u) = item.str(tags::PR_PERSONAL_HOME_PAGE) {
        Prop::new("URL")
            .param("TYPE", "home")
            .raw(u)
            .write(&mut out);
    }
    if let Some(u) = item.str(&lids::PID_LID_INSTANT_MESSAGING_ADDRESS) {
        Prop::new("IMPP").raw(u).write(&mut out);
    }
    match item.int(tags::PR_GENDER) {
        Some(1) => push_line(&mut out, "GENDER:F"),
        Some(2) => push_line(&mut out, "GENDER:M"),
        _ => {}
    }
    if let Some(u) = item.str(&lids::PID_NAME_CALENDAR_UID) {
        Prop::new("UID").text(u).write(&mut out);
    }
    push_line(&mut out, "END:VCARD");
    Ok(out)
}
