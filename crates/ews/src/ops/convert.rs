//! ConvertId: ids of this server are EwsIds; an EwsId converts to itself
//! once it is checked to be one of this mailbox's folder or item ids.
//! exchangelib probes the server with a dummy id here and reads the
//! version from the answer's header.

use crate::ids::{FolderKey, ItemKey};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};

pub(crate) async fn convert_id(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let destination = op.attr("DestinationFormat").unwrap_or("EwsId").to_string();
    let sources: Vec<&Element> = op
        .m("SourceIds")
        .map(|s| s.children.iter().filter(|c| c.ns == NS_TYPES).collect())
        .unwrap_or_default();
    let mut results = Vec::new();
    for s in sources {
        results.push(convert_one(mb, s, &destination).await);
    }
    if results.is_empty() {
        results.push(Err(EwsError::invalid("SourceIds is empty")));
    }
    write_messages(w, "ConvertId", &results, |w, (id, mailbox)| {
        w.empty(
            "m:AlternateId",
            &[
                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
                ("xsi:type", "t:AlternateIdType"),
                ("Format", "EwsId"),
                ("Id", id),
                ("Mailbox", mailbox),
            ],
        );
    });
}

async fn convert_one(
    mb: &mut Mailbox<'_>,
    source: &Element,
    destination: &str,
) -> Result<(String, String), EwsError> {
    let format = source.attr("Format").unwrap_or_default();
    let id = source.attr("Id").unwrap_or_default();
    let mailbox = source.attr("Mailbox").unwrap_or_default().to_string();
    if !matches!(format, "EwsId" | "EwsLegacyId") || destination != "EwsId" {
        return Err(EwsError::new(
            ResponseCode::ErrorInvalidIdMalformed,
            format!("only EwsId converts here, not {format} to {destination}"),
        ));
    }
    let store = match (ItemKey::decode(id), FolderKey::decode(id)) {
        (Ok(k), _) => k.store,
        (_, Ok(k)) => k.store,
        (Err(e), _) => return Err(e),
    };
    mb.check_store(store).await?;
    Ok((id.to_string(), mailbox))
}
