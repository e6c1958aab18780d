//! What Outlook for Mac and Evolution ask once at start-up, answered with
//! what this server has: GetAppManifests (no add-ins installed),
//! GetServiceConfiguration (mail tips off, no unified messaging, no
//! protection rules; the internal domain is the user's) and GetUserPhoto
//! (no photos are kept: the empty answer).

use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_error};
use crate::xml::{Element, EwsElement, NS_MESSAGES, XmlWriter};

/// Largest message the mail tips announce (groxide's default
/// `mail_max_length` is larger; clients only use it to warn).
const MAIL_TIPS_MAX_MESSAGE: &str = "52428800";

pub(crate) async fn get_app_manifests(_mb: &mut Mailbox<'_>, _op: &Element, w: &mut XmlWriter) {
    // A single response message (not a ResponseMessages list); `Apps`
    // is the Exchange 2013 SP1+ form, empty: no add-ins are installed.
    w.open("m:GetAppManifestsResponse", &[("ResponseClass", "Success")])
        .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
        .empty("m:Apps", &[])
        .close();
}

pub(crate) async fn get_service_configuration(
    mb: &mut Mailbox<'_>,
    op: &Element,
    w: &mut XmlWriter,
) {
    let Some(asked) = op.m("RequestedConfiguration") else {
        return write_error(
            w,
            "m:GetServiceConfigurationResponse",
            &EwsError::invalid("RequestedConfiguration is missing"),
        );
    };
    let names: Vec<&str> = asked
        .children
        .iter()
        .filter(|c| c.ns == NS_MESSAGES && c.name == "ConfigurationName")
        .map(|c| c.text.trim())
        .collect();
    let domain = mb
        .user
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    w.open(
        "m:GetServiceConfigurationResponse",
        &[("ResponseClass", "Success")],
    )
    .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
    .open("m:ResponseMessages", &[]);
    let message = "m:ServiceConfigurationResponseMessageType";
    for name in names {
        match name {
            "MailTips" => {
                w.open(message, &[("ResponseClass", "Success")])
                    .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
                    .open("m:MailTipsConfiguration", &[])
                    .leaf("t:MailTipsEnabled", "false")
                    .leaf("t:MaxRecipientsPerGetMailTipsRequest", "0")
                    .leaf("t:MaxMessageSize", MAIL_TIPS_MAX_MESSAGE)
                    .leaf("t:LargeAudienceThreshold", "25")
                    .leaf("t:ShowExternalRecipientCount", "false");
                internal_domains(w, &domain);
                w.leaf("t:PolicyTipsEnabled", "false")
                    .leaf("t:LargeAudienceCap", "0")
                    .close()
                    .close();
            }
            "UnifiedMessagingConfiguration" => {
                w.open(message, &[("ResponseClass", "Success")])
                    .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
                    .open("m:UnifiedMessagingConfiguration", &[])
                    .leaf("t:UmEnabled", "false")
                    .leaf("t:PlayOnPhoneDialString", "")
                    .leaf("t:PlayOnPhoneEnabled", "false")
                    .close()
                    .close();
            }
            "ProtectionRules" => {
                w.open(message, &[("ResponseClass", "Success")])
                    .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
                    .open(
                        "m:ProtectionRulesConfiguration",
                        &[("RefreshInterval", "24")],
                    )
                    .empty("t:Rules", &[]);
                internal_domains(w, &domain);
                w.close().close();
            }
            other => write_error(
                w,
                message,
                &EwsError::unsupported(format!("the service configuration {other}")),
            ),
        }
    }
    w.close().close();
}

fn internal_domains(w: &mut XmlWriter, domain: &str) {
    w.open("t:InternalDomains", &[]);
    if !domain.is_empty() {
        w.empty(
            "t:Domain",
            &[("Name", domain), ("IncludeSubdomains", "false")],
        );
    }
    w.close();
}

pub(crate) async fn get_user_photo(_mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    if op.m("Email").is_none_or(|e| e.text.trim().is_empty()) {
        return write_error(
            w,
            "m:GetUserPhotoResponse",
            &EwsError::invalid("Email is missing"),
        );
    }
    // No photos are kept for anyone: nothing has changed, no picture.
    w.open("m:GetUserPhotoResponse", &[("ResponseClass", "Success")])
        .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
        .leaf("t:HasChanged", "false")
        .empty("m:PictureData", &[])
        .close();
}
