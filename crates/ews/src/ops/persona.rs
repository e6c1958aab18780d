//! FindPeople (personas: the caller's contacts, or the directory's users
//! for the `directory` folder, filtered by `QueryString`, sorted by name,
//! paged), GetPersona (one persona of those by its PersonaId: a contact's
//! item id, or `directory:` and the address for a directory user) and ExpandDL (the directory has no groups or lists, so no
//! address expands: `ErrorNameResolutionNoResults`).

use super::people::{contacts_matching, item_element};
use crate::ids::ItemKey;
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_error, write_messages};
use crate::xml::{Element, EwsElement, XmlWriter};
use base64::Engine as _;

/// Most personas one FindPeople page returns when the request sets no limit.
const MAX_PAGE: usize = 100;

/// One persona as FindPeople shows it.
struct Persona {
    id: String,
    name: String,
    email: String,
}

/// The PersonaId of a directory user.
fn directory_id(address: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("directory:{address}"))
}

/// The address a directory user's PersonaId carries.
fn directory_address(id: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD.decode(id).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("directory:")
        .map(str::to_owned)
}

/// Whether a folder element names the directory (the GAL) rather than a folder.
fn names_directory(e: &Element) -> bool {
    e.name == "DistinguishedFolderId" && e.attr("Id") == Some("directory")
}

async fn directory_personas(mb: &Mailbox<'_>, wanted: &str) -> Result<Vec<Persona>, EwsError> {
    Ok(mb
        .directory_users()
        .await?
        .into_iter()
        .filter(|u| u.username.to_lowercase().contains(wanted))
        .map(|u| Persona {
            // Directory personas have no item: the id carries the address.
            id: directory_id(&u.username),
            name: u.username.clone(),
            email: u.username,
        })
        .collect())
}

async fn contact_personas(mb: &mut Mailbox<'_>, wanted: &str) -> Result<Vec<Persona>, EwsError> {
    Ok(contacts_matching(mb, wanted)
        .await?
        .into_iter()
        .map(|r| Persona {
            id: r
                .contact
                .as_ref()
                .map(|(stored, _)| stored.key.encode())
                .unwrap_or_default(),
            name: r.name,
            email: r.email,
        })
        .collect())
}

pub(crate) async fn find_people(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let wanted = op
        .m("QueryString")
        .map(|q| q.text.trim().to_lowercase())
        .unwrap_or_default();
    let (offset, max) = match op.m("IndexedPageItemView") {
        Some(v) => (
            v.attr("Offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0usize),
            v.attr("MaxEntriesReturned")
                .and_then(|o| o.parse().ok())
                .unwrap_or(MAX_PAGE),
        ),
        None => (0, MAX_PAGE),
    };
    let r = async {
        let mut people = match op.m("ParentFolderId").and_then(|p| p.children.first()) {
            Some(f) if names_directory(f) => directory_personas(mb, &wanted).await?,
            Some(f) => {
                let folder = mb.resolve_folder(f).await?;
                let contacts = mb.folder_by_role("contacts").await?;
                if folder.id != contacts.id {
                    return Err(EwsError::new(
                        ResponseCode::ErrorInvalidRequest,
                        "FindPeople searches the contacts folder or the directory",
                    ));
                }
                contact_personas(mb, &wanted).await?
            }
            None => {
                let mut all = contact_personas(mb, &wanted).await?;
                all.extend(directory_personas(mb, &wanted).await?);
                all
            }
        };
        people.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.email.cmp(&b.email))
        });
        Ok(people)
    }
    .await;
    let people = match r {
        Ok(p) => p,
        Err(e) => return write_error(w, "m:FindPeopleResponse", &e),
    };
    let total = people.len();
    w.open("m:FindPeopleResponse", &[("ResponseClass", "Success")])
        .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
        .open("m:People", &[]);
    for p in people.iter().skip(offset).take(max) {
        w.open("t:Persona", &[])
            .empty("t:PersonaId", &[("Id", &p.id)])
            .leaf("t:PersonaType", "Person")
            .leaf("t:DisplayName", &p.name);
        if !p.email.is_empty() {
            w.open("t:EmailAddress", &[])
                .leaf("t:Name", &p.name)
                .leaf("t:EmailAddress", &p.email)
                .leaf("t:RoutingType", "SMTP")
                .close();
        }
        w.close();
    }
    w.close()
        .leaf("m:TotalNumberOfPeopleInView", &total.to_string())
        .leaf("m:FirstMatchingRowIndex", &offset.min(total).to_string())
        .leaf("m:FirstLoadedRowIndex", &offset.min(total).to_string())
        .close();
}

/// One persona as GetPersona shows it: the fields of its contact (or
/// directory user).
#[derive(Default)]
struct PersonaDetail {
    id: String,
    name: String,
    given: String,
    surname: String,
    company: String,
    department: String,
    title: String,
    /// E-mail addresses in slot order.
    emails: Vec<String>,
    /// (EWS PhoneNumbers key, number).
    phones: Vec<(String, String)>,
}

fn not_found(id: &str) -> EwsError {
    EwsError::new(
        ResponseCode::ErrorItemNotFound,
        format!("no persona has the id {id}"),
    )
}

async fn directory_persona(
    mb: &Mailbox<'_>,
    id: &str,
    address: &str,
) -> Result<PersonaDetail, EwsError> {
    let user = mb
        .directory_users()
        .await?
        .into_iter()
        .find(|u| u.username.eq_ignore_ascii_case(address))
        .ok_or_else(|| not_found(id))?;
    Ok(PersonaDetail {
        id: id.to_string(),
        name: user.username.clone(),
        emails: vec![user.username],
        ..PersonaDetail::default()
    })
}

async fn contact_persona(mb: &mut Mailbox<'_>, id: &str) -> Result<PersonaDetail, EwsError> {
    let key = ItemKey::decode(id).map_err(|_| not_found(id))?;
    if key.store != mb.guid().await? {
        return Err(not_found(id));
    }
    let (info, item) = mb
        .exmdb()
        .get_item(&mb.dir, key.message)
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorItemNotFound))?;
    let contacts = mb.folder_by_role("contacts").await?;
    if info.folder_id != contacts.id {
        return Err(not_found(id));
    }
    let stored = crate::groupware::Stored {
        key: ItemKey {
            folder: info.folder_id,
            message: info.message_id,
            ..key
        },
        change_number: info.change_number,
    };
    let e = item_element(&stored, &item, &mb.owner())
        .filter(|e| e.name == "Contact")
        .ok_or_else(|| not_found(id))?;
    let text = |name: &str| e.t_text(name).unwrap_or_default().trim().to_string();
    let entries = |name: &str| -> Vec<(String, String)> {
        e.t(name)
            .map(|l| {
                l.children
                    .iter()
                    .map(|c| {
                        (
                            c.attr("Key").unwrap_or_default().to_string(),
                            c.text.trim().to_string(),
                        )
                    })
                    .filter(|(_, v)| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(PersonaDetail {
        id: id.to_string(),
        name: text("DisplayName"),
        given: text("GivenName"),
        surname: text("Surname"),
        company: text("CompanyName"),
        department: text("Department"),
        title: text("JobTitle"),
        emails: entries("EmailAddresses")
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
        phones: entries("PhoneNumbers"),
    })
}

/// A persona's phone number key ([MS-OXWSPERS] PersonaPhoneNumberType
/// `Type`) and its attributed-values list element, for a contact's
/// PhoneNumbers key.
fn phone_kind(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "BusinessPhone" => ("Business", "t:BusinessPhoneNumbers"),
        "HomePhone" => ("Home", "t:HomePhones"),
        "MobilePhone" => ("Mobile", "t:MobilePhones"),
        "BusinessFax" => ("BusinessFax", "t:WorkFaxes"),
        "HomeFax" => ("HomeFax", "t:HomeFaxes"),
        "Pager" => ("Pager", "t:Pagers"),
        "OtherTelephone" => ("Other", "t:OtherTelephones"),
        _ => return None,
    })
}

fn write_persona(w: &mut XmlWriter, p: &PersonaDetail) {
    // Every value comes from the one contact (or directory entry): attribution "0".
    let attributed = |w: &mut XmlWriter, list: &str, value: &str| {
        if value.is_empty() {
            return;
        }
        w.open(list, &[])
            .open("t:StringAttributedValue", &[])
            .leaf("t:Value", value)
            .open("t:Attributions", &[])
            .leaf("t:Attribution", "0")
            .close()
            .close()
            .close();
    };
    let mailbox = |w: &mut XmlWriter, element: &str, address: &str| {
        w.open(element, &[])
            .leaf("t:Name", &p.name)
            .leaf("t:EmailAddress", address)
            .leaf("t:RoutingType", "SMTP")
            .close();
    };
    w.open("m:Persona", &[])
        .empty("t:PersonaId", &[("Id", &p.id)])
        .leaf("t:PersonaType", "Person")
        .leaf("t:DisplayName", &p.name);
    for (element, value) in [
        ("t:GivenName", &p.given),
        ("t:Surname", &p.surname),
        ("t:Title", &p.title),
        ("t:Department", &p.department),
        ("t:CompanyName", &p.company),
    ] {
        if !value.is_empty() {
            w.leaf(element, value);
        }
    }
    if let Some(first) = p.emails.first() {
        mailbox(w, "t:EmailAddress", first);
        w.open("t:EmailAddresses", &[]);
        for a in &p.emails {
            mailbox(w, "t:Address", a);
        }
        w.close();
    }
    if let Some((key, number)) = p.phones.first()
        && let Some((kind, _)) = phone_kind(key)
    {
        w.open("t:PhoneNumber", &[])
            .leaf("t:Number", number)
            .leaf("t:Type", kind)
            .close();
    }
    w.open("t:Attributions", &[])
        .open("t:Attribution", &[])
        .leaf("t:Id", "0")
        .empty("t:SourceId", &[("Id", &p.id)])
        .leaf("t:DisplayName", &p.name)
        .leaf("t:IsWritable", "false")
        .leaf("t:IsQuickContact", "false")
        .leaf("t:IsHidden", "false")
        .close()
        .close();
    attributed(w, "t:DisplayNames", &p.name);
    attributed(w, "t:GivenNames", &p.given);
    attributed(w, "t:Surnames", &p.surname);
    for (key, number) in &p.phones {
        let Some((kind, list)) = phone_kind(key) else {
            continue;
        };
        w.open(list, &[])
            .open("t:PhoneNumberAttributedValue", &[])
            .open("t:Value", &[])
            .leaf("t:Number", number)
            .leaf("t:Type", kind)
            .close()
            .open("t:Attributions", &[])
            .leaf("t:Attribution", "0")
            .close()
            .close()
            .close();
    }
    for (i, a) in p.emails.iter().take(3).enumerate() {
        w.open(&format!("t:Emails{}", i + 1), &[])
            .open("t:EmailAddressAttributedValue", &[]);
        mailbox(w, "t:Value", a);
        w.open("t:Attributions", &[])
            .leaf("t:Attribution", "0")
            .close()
            .close()
            .close();
    }
    attributed(w, "t:Titles", &p.title);
    attributed(w, "t:Departments", &p.department);
    attributed(w, "t:CompanyNames", &p.company);
    w.close();
}

/// GetPersona: the persona FindPeople listed under this PersonaId.
pub(crate) async fn get_persona(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    const MESSAGE: &str = "m:GetPersonaResponseMessage";
    let id = op
        .m("PersonaId")
        .and_then(|p| p.attr("Id"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let r = if id.is_empty() {
        Err(EwsError::invalid("PersonaId is missing"))
    } else if let Some(address) = directory_address(&id) {
        directory_persona(mb, &id, &address).await
    } else {
        contact_persona(mb, &id).await
    };
    match r {
        Ok(p) => {
            w.open(MESSAGE, &[("ResponseClass", "Success")])
                .leaf("m:ResponseCode", ResponseCode::NoError.as_str());
            write_persona(w, &p);
            w.close();
        }
        Err(e) => write_error(w, MESSAGE, &e),
    }
}

pub(crate) async fn expand_dl(_mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r: Result<(), EwsError> = match op.m("Mailbox") {
        None => Err(EwsError::invalid("Mailbox is missing")),
        Some(m) => {
            let name = m
                .t_text("EmailAddress")
                .or_else(|| m.t("ItemId").and(Some("the item")))
                .unwrap_or("the mailbox");
            Err(EwsError::new(
                ResponseCode::ErrorNameResolutionNoResults,
                format!("{name} is no distribution list of this organisation"),
            ))
        }
    };
    write_messages(w, "ExpandDL", &[r], |_, _| {});
}
