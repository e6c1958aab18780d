//! The operations, dispatched by the body's element name. Every operation
//! answers inside its own `…Response` element; an operation this server
//! does not do (or does not know) answers there with an error code.

/// The loop every operation on a list of objects shares: runs `$body`
/// (the body of an async block, `$item` bound to each child of `op`'s
/// `m:$list` element) and collects one result per child; a missing list
/// answers the whole operation `$name` with an error and returns. (A macro,
/// not an async closure: the handler's future must stay `Send`.)
macro_rules! each_of {
    ($op:expr, $list:expr, $w:expr, $name:expr, |$item:ident| $body:block) => {
        match $crate::ops::list_of($op, $list) {
            Err(e) => {
                $crate::ops::refuse($w, $name, e);
                return;
            }
            Ok(children) => {
                let mut results = Vec::new();
                for $item in children {
                    results.push(async $body.await);
                }
                results
            }
        }
    };
}

mod attachment;
mod convert;
mod folder;
mod groupware;
mod item;
mod meeting;
mod meeting_mail;
pub(crate) mod notify;
mod oof;
mod people;
mod persona;
mod send;
mod startup;
mod sync;
mod user_config;

use crate::mailbox::Mailbox;
use crate::response::{EwsError, ItemResults, ResponseCode, write_messages};
use crate::soap::SoapRequest;
use crate::xml::{Element, EwsElement, NS_MESSAGES, XmlWriter};

/// Operations of the EWS schema this server knows but does not do yet:
/// they get `ErrorInvalidOperation` in their own response element.
const NOT_YET: &[&str] = &[
    "MoveFolder",
    "CopyFolder",
    "GetDelegate",
    "GetRoomLists",
    "GetInboxRules",
    "FindConversation",
    "GetConversationItems",
    "ArchiveItem",
    "UploadItems",
    "ExportItems",
];

pub(crate) async fn dispatch(mb: &mut Mailbox<'_>, request: &SoapRequest, w: &mut XmlWriter) {
    let op = &request.operation;
    if op.ns != NS_MESSAGES {
        refuse(
            w,
            &op.name,
            EwsError::new(
                ResponseCode::ErrorInvalidRequest,
                format!("{} is not an EWS operation", op.name),
            ),
        );
        return;
    }
    tracing::debug!(
        operation = op.name,
        version = request.version,
        "EWS request"
    );
    match op.name.as_str() {
        "ConvertId" => convert::convert_id(mb, op, w).await,
        "GetFolder" => folder::get_folder(mb, op, w).await,
        "FindFolder" => folder::find_folder(mb, op, w).await,
        "CreateFolder" => folder::create_folder(mb, op, w).await,
        "DeleteFolder" => folder::delete_folder(mb, op, w).await,
        "UpdateFolder" => folder::update_folder(mb, op, w).await,
        "EmptyFolder" => folder::empty_folder(mb, op, w).await,
        "SyncFolderHierarchy" => sync::sync_folder_hierarchy(mb, op, w).await,
        "SyncFolderItems" => groupware::sync_folder_items(mb, op, w).await,
        "FindItem" => groupware::find_item(mb, op, w).await,
        "GetItem" => groupware::get_item(mb, op, w).await,
        "UpdateItem" => groupware::update_item(mb, op, w).await,
        "DeleteItem" => groupware::delete_item(mb, op, w).await,
        "MoveItem" => item::copy_item(mb, op, w, true).await,
        "CopyItem" => item::copy_item(mb, op, w, false).await,
        "CreateItem" => groupware::create_item(mb, op, w).await,
        "MarkAllItemsAsRead" => item::mark_all_read(mb, op, w).await,
        "MarkAsJunk" => item::mark_as_junk(mb, op, w).await,
        "SendItem" => send::send_item(mb, op, w).await,
        "GetAttachment" => attachment::get_attachment(mb, op, w).await,
        "CreateAttachment" => attachment::create_attachment(mb, op, w).await,
        "DeleteAttachment" => attachment::delete_attachment(mb, op, w).await,
        "GetUserAvailabilityRequest" => people::get_user_availability(mb, op, w).await,
        "ResolveNames" => people::resolve_names(mb, op, w).await,
        "GetServerTimeZones" => people::get_server_time_zones(mb, op, w).await,
        "Subscribe" => notify::subscribe(mb, op, w).await,
        "GetEvents" => notify::get_events(mb, op, w).await,
        "Unsubscribe" => notify::unsubscribe(mb, op, w).await,
        "GetStreamingEvents" => notify::get_streaming_events_unstreamed(w),
        "GetUserOofSettingsRequest" => oof::get_user_oof_settings(mb, op, w).await,
        "SetUserOofSettingsRequest" => oof::set_user_oof_settings(mb, op, w).await,
        // Start-up questions of Outlook for Mac and Evolution.
        "GetAppManifests" => startup::get_app_manifests(mb, op, w).await,
        "GetServiceConfiguration" => startup::get_service_configuration(mb, op, w).await,
        "GetUserPhoto" => startup::get_user_photo(mb, op, w).await,
        "GetUserConfiguration" => user_config::get_user_configuration(mb, op, w).await,
        "CreateUserConfiguration" => user_config::put_user_configuration(mb, op, w, false).await,
        "UpdateUserConfiguration" => user_config::put_user_configuration(mb, op, w, true).await,
        "DeleteUserConfiguration" => user_config::delete_user_configuration(mb, op, w).await,
        "FindPeople" => persona::find_people(mb, op, w).await,
        "GetPersona" => persona::get_persona(mb, op, w).await,
        "ExpandDL" => persona::expand_dl(mb, op, w).await,
        name if NOT_YET.contains(&name) => {
            refuse(w, name, EwsError::unsupported(name));
        }
        name => {
            refuse(
                w,
                name,
                EwsError::new(
                    ResponseCode::ErrorInvalidRequest,
                    format!("{name} is not an operation of this server"),
                ),
            );
        }
    }
}

/// The response element name of an operation (`GetUserOofSettingsRequest`
/// answers in `GetUserOofSettingsResponse`).
fn response_name(op: &str) -> &str {
    op.strip_suffix("Request").unwrap_or(op)
}

/// Answers a whole operation with one error.
pub(crate) fn refuse(w: &mut XmlWriter, op: &str, e: EwsError) {
    let results: ItemResults<()> = vec![Err(e)];
    write_messages(w, response_name(op), &results, |_, _| {});
}

/// The children of an `m:` element (e.g. `FolderIds`), or an error naming it.
pub(crate) fn list_of<'e>(op: &'e Element, name: &str) -> Result<&'e [Element], EwsError> {
    op.m(name)
        .map(|e| e.children.as_slice())
        .ok_or_else(|| EwsError::invalid(format!("{name} is missing")))
}
