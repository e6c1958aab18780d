//! What Outlook for Mac and Evolution ask at start-up, over a real
//! in-process groxide-exmdb: the answers are the schema's single-message
//! (or per-configuration) shapes, never errors for operations a client
//! cannot do without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use groxide_ews::xml::{Element, EwsElement, NS_SOAP, NS_TYPES, parse};
use harness::{Harness, Session, envelope};

/// The body's response element of one operation.
async fn answer(s: &Session<'_>, body: &str) -> Element {
    let (fault, doc) = s.h.ews.answer(&s.who, envelope(body).as_bytes()).await;
    assert!(!fault, "fault: {doc}");
    let root = parse(doc.as_bytes()).unwrap();
    root.child(NS_SOAP, "Body").unwrap().children[0].clone()
}

fn code(e: &Element) -> &str {
    e.m("ResponseCode").unwrap().text.trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_questions_get_sane_schema_shaped_answers() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;

    let apps = answer(
        &bob,
        "<m:GetAppManifests><m:ApiVersionSupported>1.1</m:ApiVersionSupported>\
         <m:SchemaVersionSupported>1.1</m:SchemaVersionSupported></m:GetAppManifests>",
    )
    .await;
    assert_eq!(apps.name, "GetAppManifestsResponse");
    assert_eq!(apps.attr("ResponseClass"), Some("Success"));
    assert_eq!(code(&apps), "NoError");
    assert!(apps.m("Apps").unwrap().children.is_empty());

    let config = answer(
        &bob,
        "<m:GetServiceConfiguration><m:RequestedConfiguration>\
         <m:ConfigurationName>MailTips</m:ConfigurationName>\
         <m:ConfigurationName>UnifiedMessagingConfiguration</m:ConfigurationName>\
         <m:ConfigurationName>ProtectionRules</m:ConfigurationName>\
         <m:ConfigurationName>PolicyNudges</m:ConfigurationName>\
         </m:RequestedConfiguration></m:GetServiceConfiguration>",
    )
    .await;
    assert_eq!(code(&config), "NoError");
    let messages = &config.m("ResponseMessages").unwrap().children;
    assert!(
        messages
            .iter()
            .all(|m| m.name == "ServiceConfigurationResponseMessageType")
    );
    let codes: Vec<&str> = messages.iter().map(code).collect();
    assert_eq!(
        codes,
        ["NoError", "NoError", "NoError", "ErrorInvalidOperation"]
    );
    let tips = messages[0].m("MailTipsConfiguration").unwrap();
    assert_eq!(tips.t_text("MailTipsEnabled"), Some("false"));
    let domains = tips.t("InternalDomains").unwrap();
    assert_eq!(
        domains.children[0].attr("Name"),
        Some("example.test"),
        "{domains:#?}"
    );
    let names: Vec<&str> = tips.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "MailTipsEnabled",
            "MaxRecipientsPerGetMailTipsRequest",
            "MaxMessageSize",
            "LargeAudienceThreshold",
            "ShowExternalRecipientCount",
            "InternalDomains",
            "PolicyTipsEnabled",
            "LargeAudienceCap",
        ]
    );
    assert_eq!(
        messages[1]
            .m("UnifiedMessagingConfiguration")
            .unwrap()
            .t_text("UmEnabled"),
        Some("false")
    );
    let rules = messages[2].m("ProtectionRulesConfiguration").unwrap();
    assert!(rules.attr("RefreshInterval").is_some());
    assert!(rules.t("Rules").unwrap().children.is_empty());

    let photo = answer(
        &bob,
        "<m:GetUserPhoto><m:Email>bob@example.test</m:Email>\
         <m:SizeRequested>HR96x96</m:SizeRequested></m:GetUserPhoto>",
    )
    .await;
    assert_eq!(photo.name, "GetUserPhotoResponse");
    assert_eq!(code(&photo), "NoError");
    assert_eq!(
        photo.child(NS_TYPES, "HasChanged").map(|e| e.text.trim()),
        Some("false")
    );
    assert!(photo.m("PictureData").unwrap().text.is_empty());
    let no_email = answer(&bob, "<m:GetUserPhoto/>").await;
    assert_eq!(no_email.attr("ResponseClass"), Some("Error"));

    let people = answer(
        &bob,
        "<m:FindPeople><m:IndexedPageItemView MaxEntriesReturned=\"10\" Offset=\"0\" BasePoint=\"Beginning\"/>\
         <m:ParentFolderId><t:DistinguishedFolderId Id=\"directory\"/></m:ParentFolderId>\
         <m:QueryString>bob</m:QueryString></m:FindPeople>",
    )
    .await;
    assert_eq!(people.name, "FindPeopleResponse");
    assert_eq!(code(&people), "NoError");
    assert!(people.m("TotalNumberOfPeopleInView").is_some());
    let expand = answer(
        &bob,
        "<m:ExpandDL><m:Mailbox><t:EmailAddress>all@example.test</t:EmailAddress></m:Mailbox></m:ExpandDL>",
    )
    .await;
    let m = &expand.m("ResponseMessages").unwrap().children[0];
    assert_eq!(code(m), "ErrorNameResolutionNoResults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_configuration_is_kept_per_folder_and_name() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let create = |folder: &str, xml: &str| {
        format!(
            "<m:CreateUserConfiguration><m:UserConfiguration>\
             <t:UserConfigurationName Name=\"CategoryList\"><t:DistinguishedFolderId Id=\"{folder}\"/></t:UserConfigurationName>\
             <t:XmlData>{xml}</t:XmlData></m:UserConfiguration></m:CreateUserConfiguration>"
        )
    };
    let get = |folder: &str| {
        format!(
            "<m:GetUserConfiguration><m:UserConfigurationName Name=\"CategoryList\">\
             <t:DistinguishedFolderId Id=\"{folder}\"/></m:UserConfigurationName>\
             <m:UserConfigurationProperties>All</m:UserConfigurationProperties></m:GetUserConfiguration>"
        )
    };
    let first = |e: &Element| e.m("ResponseMessages").unwrap().children[0].clone();
    let r = first(&answer(&bob, &create("calendar", "PGEvPg==")).await);
    assert_eq!(code(&r), "NoError");
    let again = first(&answer(&bob, &create("calendar", "PGEvPg==")).await);
    assert_eq!(code(&again), "ErrorItemSave");
    let bad = first(&answer(&bob, &create("inbox", "not base64!")).await);
    assert_eq!(code(&bad), "ErrorInvalidRequest");
    let got = first(&answer(&bob, &get("calendar")).await);
    assert_eq!(code(&got), "NoError");
    let config = got.m("UserConfiguration").unwrap();
    assert_eq!(config.t_text("XmlData"), Some("PGEvPg=="));
    assert_eq!(
        config.t("UserConfigurationName").unwrap().attr("Name"),
        Some("CategoryList")
    );
    // The same name in another folder is another configuration.
    let other = first(&answer(&bob, &get("inbox")).await);
    assert_eq!(code(&other), "ErrorItemNotFound");
}
