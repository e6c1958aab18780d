//! FindPeople (personas: the caller's contacts, or the directory's users
//! for the `directory` folder, filtered by `QueryString`, sorted by name,
//! paged) and ExpandDL (the directory has no groups or lists, so no
//! address expands: `ErrorNameResolutionNoResults`).

use super::people::contacts_matching;
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
            id: base64::engine::general_purpose::STANDARD
                .encode(format!("directory:{}", u.username)),
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
