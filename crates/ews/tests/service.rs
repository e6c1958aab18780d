//! The EWS module over a real groxide-exmdb started in-process: SOAP
//! requests as clients send them, answers read back with the module's own
//! namespace-aware reader.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use groxide_ews::xml::{Element, EwsElement, NS_SOAP, NS_TYPES, parse};
use harness::{Harness, Session, envelope, message};

/// One response message of an answer.
#[derive(Debug)]
struct Reply(Element);

impl Reply {
    fn code(&self) -> &str {
        self.0.m("ResponseCode").unwrap().text.trim()
    }
    fn ok(&self) -> &Element {
        assert_eq!(self.code(), "NoError", "{:#?}", self.0);
        &self.0
    }
}

fn descendants<'e>(e: &'e Element, ns: &str, name: &str, out: &mut Vec<&'e Element>) {
    for c in &e.children {
        if c.is(ns, name) {
            out.push(c);
        }
        descendants(c, ns, name, out);
    }
}

fn all<'e>(e: &'e Element, name: &str) -> Vec<&'e Element> {
    let mut out = Vec::new();
    descendants(e, NS_TYPES, name, &mut out);
    out
}

fn texts(e: &Element, name: &str) -> Vec<String> {
    all(e, name)
        .iter()
        .map(|x| x.text.trim().to_string())
        .collect()
}

trait Calls {
    async fn call(&self, body: &str) -> Vec<Reply>;
    async fn folder_id(&self, name: &str) -> String;
    async fn find(
        &self,
        folder: &str,
        offset: usize,
        max: usize,
    ) -> (Vec<String>, Vec<String>, bool);
    async fn sync(
        &self,
        folder: &str,
        state: &str,
        max: usize,
    ) -> (String, bool, Vec<(String, String)>);
}

impl Calls for Session<'_> {
    /// Sends one operation; returns its response messages.
    async fn call(&self, body: &str) -> Vec<Reply> {
        let (fault, doc) = self
            .h
            .ews
            .answer(&self.who, envelope(body).as_bytes())
            .await;
        assert!(!fault, "fault: {doc}");
        let root = parse(doc.as_bytes()).unwrap();
        let header = root.child(NS_SOAP, "Header").unwrap();
        let info = header.t("ServerVersionInfo").unwrap();
        assert_eq!(info.attr("MajorVersion"), Some("15"));
        let response = &root.child(NS_SOAP, "Body").unwrap().children[0];
        assert!(response.name.ends_with("Response"), "{doc}");
        response
            .m("ResponseMessages")
            .unwrap()
            .children
            .iter()
            .cloned()
            .map(Reply)
            .collect()
    }

    async fn folder_id(&self, name: &str) -> String {
        let r = self
            .call(&format!(
                "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>\
                 <m:FolderIds><t:DistinguishedFolderId Id=\"{name}\"/></m:FolderIds></m:GetFolder>"
            ))
            .await;
        all(r[0].ok(), "FolderId")[0]
            .attr("Id")
            .unwrap()
            .to_string()
    }

    /// FindItem in a folder, newest first: (item ids, subjects, IncludesLastItemInRange).
    async fn find(
        &self,
        folder: &str,
        offset: usize,
        max: usize,
    ) -> (Vec<String>, Vec<String>, bool) {
        let r = self
            .call(&format!(
                "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
                 <t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/></t:AdditionalProperties></m:ItemShape>\
                 <m:IndexedPageItemView MaxEntriesReturned=\"{max}\" Offset=\"{offset}\" BasePoint=\"Beginning\"/>\
                 <m:SortOrder><t:FieldOrder Order=\"Descending\"><t:FieldURI FieldURI=\"item:DateTimeReceived\"/></t:FieldOrder></m:SortOrder>\
                 <m:ParentFolderIds><t:DistinguishedFolderId Id=\"{folder}\"/></m:ParentFolderIds></m:FindItem>"
            ))
            .await;
        let root = r[0].ok().m("RootFolder").unwrap();
        let ids = all(root, "ItemId")
            .iter()
            .map(|e| e.attr("Id").unwrap().to_string())
            .collect();
        (
            ids,
            texts(root, "Subject"),
            root.attr("IncludesLastItemInRange") == Some("true"),
        )
    }

    /// One SyncFolderItems call: (state, last, [(change, item id)]).
    async fn sync(
        &self,
        folder: &str,
        state: &str,
        max: usize,
    ) -> (String, bool, Vec<(String, String)>) {
        let state = if state.is_empty() {
            String::new()
        } else {
            format!("<m:SyncState>{state}</m:SyncState>")
        };
        let r = self
            .call(&format!(
                "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
                 <m:SyncFolderId><t:DistinguishedFolderId Id=\"{folder}\"/></m:SyncFolderId>{state}\
                 <m:MaxChangesReturned>{max}</m:MaxChangesReturned></m:SyncFolderItems>"
            ))
            .await;
        let m = r[0].ok();
        let changes = m
            .m("Changes")
            .unwrap()
            .children
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    all(c, "ItemId")[0].attr("Id").unwrap().to_string(),
                )
            })
            .collect();
        (
            m.m("SyncState").unwrap().text.clone(),
            m.m("IncludesLastItemInRange").unwrap().text == "true",
            changes,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batched_get_folder_answers_every_distinguished_name_without_a_fault() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let names = [
        "msgfolderroot",
        "inbox",
        "deleteditems",
        "archive",
        "conversationhistory",
        "recipientcache",
        "calendar",
        "no-such-name",
    ];
    let ids: String = names
        .iter()
        .map(|n| format!("<t:DistinguishedFolderId Id=\"{n}\"/>"))
        .collect();
    let r = bob
        .call(&format!(
            "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>\
             <m:FolderIds>{ids}</m:FolderIds></m:GetFolder>"
        ))
        .await;
    let codes: Vec<&str> = r.iter().map(Reply::code).collect();
    assert_eq!(
        codes,
        [
            "NoError",
            "NoError",
            "NoError",
            "ErrorFolderNotFound",
            "ErrorFolderNotFound",
            "ErrorFolderNotFound",
            "NoError",
            "ErrorFolderNotFound"
        ]
    );
    assert_eq!(texts(r[1].ok(), "DisplayName"), ["Inbox"]);
    assert_eq!(texts(r[2].ok(), "DisplayName"), ["Deleted Items"]);
    assert_eq!(all(r[6].ok(), "CalendarFolder").len(), 1);
    // The folder id is stable: asking again gives the same id.
    assert_eq!(bob.folder_id("inbox").await, bob.folder_id("inbox").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_item_pages_newest_first_and_get_item_gives_the_stored_bytes() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    for (i, s) in ["first", "second", "third"].iter().enumerate() {
        bob.deliver(
            &message(s, "Mon, 1 Jan 2024 10:00:00 +0000"),
            1_700_000_000 + i as i64 * 60,
        )
        .await;
    }
    let (ids, subjects, last) = bob.find("inbox", 0, 2).await;
    assert_eq!(subjects, ["third", "second"]);
    assert!(!last);
    let (_, rest, last) = bob.find("inbox", 2, 2).await;
    assert_eq!(rest, ["first"]);
    assert!(last);

    let r = bob
        .call(&format!(
            "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties>\
             <t:FieldURI FieldURI=\"item:MimeContent\"/></t:AdditionalProperties></m:ItemShape>\
             <m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:GetItem>",
            ids[0]
        ))
        .await;
    let m = r[0].ok();
    let mime = texts(m, "MimeContent");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&mime[0])
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bytes).contains("Subject: third\r\n"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(texts(m, "Subject"), ["third"]);
    assert_eq!(texts(m, "IsRead"), ["false"]);
    assert_eq!(texts(m, "EmailAddress")[0], "alice@remote.test");
    assert_eq!(texts(m, "DateTimeReceived"), ["2023-11-14T22:15:20Z"]);
    assert_eq!(texts(m, "ItemClass"), ["IPM.Note"]);
    assert_eq!(texts(m, "Body"), ["Hello, third."]);

    // A restriction on IsRead after marking one read.
    let r = bob
        .call(&format!(
            "<m:UpdateItem ConflictResolution=\"AutoResolve\" MessageDisposition=\"SaveOnly\"><m:ItemChanges>\
             <t:ItemChange><t:ItemId Id=\"{}\"/><t:Updates><t:SetItemField><t:FieldURI FieldURI=\"message:IsRead\"/>\
             <t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange>\
             </m:ItemChanges></m:UpdateItem>",
            ids[1]
        ))
        .await;
    r[0].ok();
    let r = bob
        .call(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape>\
             <m:Restriction><t:IsEqualTo><t:FieldURI FieldURI=\"message:IsRead\"/>\
             <t:FieldURIOrConstant><t:Constant Value=\"false\"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>",
        )
        .await;
    let mut unread = texts(r[0].ok(), "Subject");
    unread.sort();
    assert_eq!(unread, ["first", "third"]);

    // Text restrictions read the messages' properties.
    let find = |restriction: &str| {
        format!(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
             <t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/></t:AdditionalProperties></m:ItemShape>\
             <m:Restriction>{restriction}</m:Restriction>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>"
        )
    };
    let table = [
        (
            "<t:Contains ContainmentMode=\"Substring\" ContainmentComparison=\"IgnoreCase\">\
             <t:FieldURI FieldURI=\"item:Subject\"/><t:Constant Value=\"IR\"/></t:Contains>",
            vec!["third", "first"],
        ),
        (
            "<t:IsEqualTo><t:FieldURI FieldURI=\"item:Subject\"/>\
             <t:FieldURIOrConstant><t:Constant Value=\"second\"/></t:FieldURIOrConstant></t:IsEqualTo>",
            vec!["second"],
        ),
        (
            "<t:And><t:Contains ContainmentMode=\"Prefixed\" ContainmentComparison=\"Exact\">\
             <t:FieldURI FieldURI=\"item:Subject\"/><t:Constant Value=\"th\"/></t:Contains>\
             <t:IsEqualTo><t:FieldURI FieldURI=\"message:IsRead\"/>\
             <t:FieldURIOrConstant><t:Constant Value=\"false\"/></t:FieldURIOrConstant></t:IsEqualTo></t:And>",
            vec!["third"],
        ),
    ];
    for (restriction, want) in table {
        let r = bob.call(&find(restriction)).await;
        assert_eq!(texts(r[0].ok(), "Subject"), want, "{restriction}");
    }
    let r = bob
        .call(&find(
            "<t:Excludes><t:FieldURI FieldURI=\"item:Subject\"/><t:Bitmask Value=\"1\"/></t:Excludes>",
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorUnsupportedQueryFilter");
}

/// The named element children of the first item in a response message.
fn item_fields(m: &Element) -> Vec<String> {
    let item = all(m, "Message")[0];
    item.children.iter().map(|c| c.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shape_shows_the_properties_it_names_and_no_more() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let raw = "From: Alice Sender <alice@remote.test>\r\nTo: Bob <bob@example.test>\r\n\
        Cc: Carol <carol@remote.test>\r\nSubject: with a file\r\n\
        Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <file@remote.test>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n\
        --b\r\nContent-Type: application/octet-stream\r\n\
        Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\nxyz\r\n--b--\r\n";
    bob.deliver(raw.as_bytes(), 1_700_000_000).await;
    let (ids, _, _) = bob.find("inbox", 0, 1).await;
    let shape = |base: &str, extra: &[&str]| {
        let extra: String = extra
            .iter()
            .map(|f| format!("<t:FieldURI FieldURI=\"{f}\"/>"))
            .collect();
        format!(
            "<m:ItemShape><t:BaseShape>{base}</t:BaseShape>\
             <t:AdditionalProperties>{extra}</t:AdditionalProperties></m:ItemShape>"
        )
    };
    let get = |shape: String| {
        format!(
            "<m:GetItem>{shape}<m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:GetItem>",
            ids[0]
        )
    };

    let r = bob.call(&get(shape("Default", &[]))).await;
    let m = r[0].ok();
    assert_eq!(texts(m, "Subject"), ["with a file"]);
    assert_eq!(
        texts(all(m, "From")[0], "EmailAddress"),
        ["alice@remote.test"]
    );
    assert_eq!(
        texts(all(m, "ToRecipients")[0], "EmailAddress"),
        ["bob@example.test"]
    );
    assert_eq!(texts(all(m, "CcRecipients")[0], "Name"), ["Carol"]);
    assert_eq!(texts(m, "HasAttachments"), ["true"]);
    assert_eq!(texts(m, "DateTimeReceived"), ["2023-11-14T22:13:20Z"]);
    assert_eq!(texts(m, "DateTimeSent"), ["2024-01-01T10:00:00Z"]);
    assert_eq!(texts(m, "InternetMessageId"), ["<file@remote.test>"]);
    assert_eq!(texts(m, "Body"), ["See the file."]);
    assert_eq!(texts(m, "DisplayTo"), ["Bob"]);

    // IdOnly: the id and nothing else; an extra property: that one too.
    let r = bob.call(&get(shape("IdOnly", &[]))).await;
    assert_eq!(item_fields(r[0].ok()), ["ItemId"]);
    let r = bob.call(&get(shape("IdOnly", &["item:Body"]))).await;
    assert_eq!(item_fields(r[0].ok()), ["ItemId", "Body"]);
    assert_eq!(texts(r[0].ok(), "Body"), ["See the file."]);
    let r = bob
        .call(&get(shape(
            "IdOnly",
            &["message:ToRecipients", "item:Attachments"],
        )))
        .await;
    assert_eq!(
        item_fields(r[0].ok()),
        ["ItemId", "Attachments", "ToRecipients"]
    );
    assert_eq!(texts(r[0].ok(), "Name"), ["a.bin", "Bob"]);

    // FindItem and SyncFolderItems show the same properties for a shape.
    let list = shape(
        "IdOnly",
        &[
            "item:Subject",
            "message:From",
            "item:DateTimeReceived",
            "message:IsRead",
            "item:Size",
            "item:HasAttachments",
        ],
    );
    let want = [
        "ItemId",
        "Subject",
        "DateTimeReceived",
        "Size",
        "HasAttachments",
        "From",
        "IsRead",
    ];
    let r = bob
        .call(&format!(
            "<m:FindItem Traversal=\"Shallow\">{list}\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>"
        ))
        .await;
    assert_eq!(item_fields(r[0].ok()), want);
    assert_eq!(texts(r[0].ok(), "HasAttachments"), ["true"]);
    let r = bob
        .call(&format!(
            "<m:SyncFolderItems>{list}\
             <m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>\
             <m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>"
        ))
        .await;
    assert_eq!(item_fields(r[0].ok()), want);
    assert_eq!(texts(r[0].ok(), "Subject"), ["with a file"]);
    let r = bob
        .call(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>\
             <m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>\
             <m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>",
        )
        .await;
    assert_eq!(
        texts(all(r[0].ok(), "ToRecipients")[0], "EmailAddress"),
        ["bob@example.test"]
    );
    // IdOnly with entry fields alone: answered from the listing, same fields.
    let r = bob
        .call(&format!(
            "<m:SyncFolderItems>{}\
             <m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>\
             <m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>",
            shape("IdOnly", &["message:IsRead", "item:Size"])
        ))
        .await;
    assert_eq!(item_fields(r[0].ok()), ["ItemId", "Size", "IsRead"]);
    assert_eq!(texts(r[0].ok(), "IsRead"), ["false"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_item_pages_follow_arrivals_and_removals_between_pages() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    for (i, s) in ["first", "second", "third"].iter().enumerate() {
        bob.deliver(
            &message(s, "Mon, 1 Jan 2024 10:00:00 +0000"),
            1_700_000_000 + i as i64 * 60,
        )
        .await;
    }
    // Read page by page: the pages share one listing of the folder.
    assert_eq!(bob.find("inbox", 0, 2).await.1, ["third", "second"]);
    assert_eq!(bob.find("inbox", 2, 2).await.1, ["first"]);
    // A new arrival is on the first page at once, and the paging goes on
    // over four.
    bob.deliver(
        &message("fourth", "Mon, 1 Jan 2024 10:00:00 +0000"),
        1_700_000_000 + 3 * 60,
    )
    .await;
    let (_, subjects, last) = bob.find("inbox", 0, 2).await;
    assert_eq!(subjects, ["fourth", "third"]);
    assert!(!last);
    let (ids, subjects, last) = bob.find("inbox", 2, 2).await;
    assert_eq!(subjects, ["second", "first"]);
    assert!(last);
    // A removal leaves the pages at once.
    let r = bob
        .call(&format!(
            "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:DeleteItem>",
            ids[0]
        ))
        .await;
    r[0].ok();
    let (_, subjects, last) = bob.find("inbox", 2, 2).await;
    assert_eq!(subjects, ["first"]);
    assert!(last);
    // Without a SortOrder the view is the same (Exchange's default).
    let r = bob
        .call(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
             <t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/></t:AdditionalProperties></m:ItemShape>\
             <m:IndexedPageItemView MaxEntriesReturned=\"10\" Offset=\"0\" BasePoint=\"Beginning\"/>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>",
        )
        .await;
    assert_eq!(texts(r[0].ok(), "Subject"), ["fourth", "third", "first"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_folder_items_pages_creations_then_reports_updates_and_deletions() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    for i in 0..5 {
        bob.deliver(
            &message(&format!("m{i}"), "Mon, 1 Jan 2024 10:00:00 +0000"),
            0,
        )
        .await;
    }
    let mut state = String::new();
    let mut created = Vec::new();
    let mut pages = 0;
    loop {
        let (s, last, changes) = bob.sync("inbox", &state, 2).await;
        assert!(changes.len() <= 2);
        for (kind, id) in changes {
            assert_eq!(kind, "Create");
            created.push(id);
        }
        state = s;
        pages += 1;
        if last {
            break;
        }
        assert!(pages < 10, "sync never ends");
    }
    assert_eq!(created.len(), 5);
    let (s, last, changes) = bob.sync("inbox", &state, 2).await;
    assert!(last && changes.is_empty(), "{changes:?}");
    state = s;

    // One read, one hard-deleted, one new.
    let r = bob
        .call(&format!(
            "<m:UpdateItem MessageDisposition=\"SaveOnly\" ConflictResolution=\"AlwaysOverwrite\"><m:ItemChanges>\
             <t:ItemChange><t:ItemId Id=\"{}\"/><t:Updates><t:SetItemField><t:FieldURI FieldURI=\"message:IsRead\"/>\
             <t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange>\
             </m:ItemChanges></m:UpdateItem>",
            created[0]
        ))
        .await;
    r[0].ok();
    let r = bob
        .call(&format!(
            "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:DeleteItem>",
            created[1]
        ))
        .await;
    r[0].ok();
    bob.deliver(&message("late", "Mon, 1 Jan 2024 10:00:00 +0000"), 0)
        .await;
    let (s, last, changes) = bob.sync("inbox", &state, 100).await;
    assert!(last);
    let kinds: Vec<&str> = changes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["Create", "Update", "Delete"], "{changes:?}");
    assert_eq!(changes[1].1.split_at(10).0, created[0].split_at(10).0);
    assert_eq!(changes[2].1, created[1]);
    // Deleted items are gone for the client: GetItem says so.
    let r = bob
        .call(&format!(
            "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
             <m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:GetItem>",
            created[1]
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorItemNotFound");
    let (_, last, changes) = bob.sync("inbox", &s, 100).await;
    assert!(last);
    assert!(
        changes.iter().all(|(k, _)| k == "Update"),
        "only repeats of updates may follow: {changes:?}"
    );
    // A state of another folder is refused.
    let r = bob
        .call(&format!(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
             <m:SyncFolderId><t:DistinguishedFolderId Id=\"drafts\"/></m:SyncFolderId>\
             <m:SyncState>{s}</m:SyncState><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>"
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorInvalidSyncStateData");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_unimplemented_operations_get_ews_errors_not_faults() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let r = bob.call("<m:Frobnicate/>").await;
    assert_eq!(r[0].code(), "ErrorInvalidRequest");
    assert_eq!(r[0].0.name, "FrobnicateResponseMessage");
    let r = bob.call("<m:GetStreamingEvents/>").await;
    assert_eq!(r[0].code(), "ErrorInvalidOperation");
    let r = bob.call("<m:GetRoomLists/>").await;
    assert_eq!(r[0].0.name, "GetRoomListsResponseMessage");
    assert_eq!(r[0].code(), "ErrorInvalidOperation");
    let r = bob.call("<m:GetFolder/>").await;
    assert_eq!(r[0].code(), "ErrorInvalidRequest");
    // exchangelib's version probe: a dummy id, answered with an error and the version header.
    let r = bob
        .call(
            "<m:ConvertId DestinationFormat=\"EntryId\"><m:SourceIds>\
             <t:AlternateId Format=\"EwsId\" Id=\"DUMMY\" Mailbox=\"DUMMY\"/></m:SourceIds></m:ConvertId>",
        )
        .await;
    assert_eq!(r[0].code(), "ErrorInvalidIdMalformed");
    // A body that is no envelope is a fault.
    let (fault, doc) = h.ews.answer(&bob.who, b"<html/>").await;
    assert!(fault);
    assert!(doc.contains("ErrorSchemaValidation"), "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_of_another_users_store_are_refused() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let eve = h.user("eve@example.test").await;
    bob.deliver(&message("private", "Mon, 1 Jan 2024 10:00:00 +0000"), 0)
        .await;
    let bobs_inbox = bob.folder_id("inbox").await;
    let (ids, _, _) = bob.find("inbox", 0, 10).await;
    let r = eve
        .call(&format!(
            "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>\
             <m:FolderIds><t:FolderId Id=\"{bobs_inbox}\"/></m:FolderIds></m:GetFolder>"
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorAccessDenied");
    let r = eve
        .call(&format!(
            "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:DeleteItem>",
            ids[0]
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorAccessDenied");
    let r = eve
        .call(
            "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>\
             <t:DistinguishedFolderId Id=\"inbox\"><t:Mailbox><t:EmailAddress>bob@example.test</t:EmailAddress>\
             </t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>",
        )
        .await;
    assert_eq!(r[0].code(), "ErrorAccessDenied");
    assert_eq!(bob.find("inbox", 0, 10).await.0.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_are_created_renamed_and_deleted_and_the_hierarchy_sync_follows() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let hierarchy = |state: &str| {
        let state = if state.is_empty() {
            String::new()
        } else {
            format!("<m:SyncState>{state}</m:SyncState>")
        };
        format!(
            "<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape>{state}</m:SyncFolderHierarchy>"
        )
    };
    let r = bob.call(&hierarchy("")).await;
    let first = r[0].ok();
    assert_eq!(first.m("IncludesLastFolderInRange").unwrap().text, "true");
    let names = texts(first, "DisplayName");
    for n in [
        "Inbox",
        "Drafts",
        "Sent Items",
        "Deleted Items",
        "Junk Email",
        "Calendar",
    ] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    let state = first.m("SyncState").unwrap().text.clone();

    let root = bob.folder_id("msgfolderroot").await;
    let r = bob
        .call(&format!(
            "<m:CreateFolder><m:ParentFolderId><t:FolderId Id=\"{root}\"/></m:ParentFolderId>\
             <m:Folders><t:Folder><t:DisplayName>Projects</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>"
        ))
        .await;
    let projects = all(r[0].ok(), "FolderId")[0]
        .attr("Id")
        .unwrap()
        .to_string();
    let r = bob.call(&hierarchy(&state)).await;
    let m = r[0].ok();
    let changes = &m.m("Changes").unwrap().children;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].name, "Create");
    assert_eq!(texts(&changes[0], "DisplayName"), ["Projects"]);
    let state = m.m("SyncState").unwrap().text.clone();

    let r = bob
        .call(&format!(
            "<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id=\"{projects}\"/><t:Updates>\
             <t:SetFolderField><t:FieldURI FieldURI=\"folder:DisplayName\"/><t:Folder><t:DisplayName>Archive 2024</t:DisplayName></t:Folder>\
             </t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>"
        ))
        .await;
    r[0].ok();
    let r = bob.call(&hierarchy(&state)).await;
    let m = r[0].ok();
    let changes = &m.m("Changes").unwrap().children;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].name, "Update");
    assert_eq!(texts(&changes[0], "DisplayName"), ["Archive 2024"]);
    let state = m.m("SyncState").unwrap().text.clone();

    let r = bob
        .call(&format!(
            "<m:DeleteFolder DeleteType=\"HardDelete\"><m:FolderIds><t:FolderId Id=\"{projects}\"/>\
             <t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:DeleteFolder>"
        ))
        .await;
    assert_eq!(r[0].code(), "NoError");
    assert_eq!(r[1].code(), "ErrorDeleteDistinguishedFolder");
    let r = bob.call(&hierarchy(&state)).await;
    let changes = &r[0].ok().m("Changes").unwrap().children;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].name, "Delete");
    assert_eq!(
        all(&changes[0], "FolderId")[0].attr("Id"),
        Some(projects.as_str())
    );

    // FindFolder Deep sees the whole visible tree; Shallow only children.
    let find = |traversal: &str| {
        format!(
            "<m:FindFolder Traversal=\"{traversal}\"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"root\"/></m:ParentFolderIds></m:FindFolder>"
        )
    };
    let shallow = texts(bob.call(&find("Shallow")).await[0].ok(), "DisplayName");
    let deep = texts(bob.call(&find("Deep")).await[0].ok(), "DisplayName");
    assert!(
        shallow.contains(&"Top of Information Store".to_string()),
        "{shallow:?}"
    );
    assert!(!shallow.contains(&"Inbox".to_string()));
    assert!(deep.contains(&"Inbox".to_string()), "{deep:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_created_moved_copied_marked_and_emptied() {
    use base64::Engine as _;
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let raw = message("uploaded", "Tue, 2 Jan 2024 10:00:00 +0000");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let r = bob
        .call(&format!(
            "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:SavedItemFolderId><t:DistinguishedFolderId Id=\"inbox\"/>\
             </m:SavedItemFolderId><m:Items><t:Message><t:MimeContent CharacterSet=\"UTF-8\">{b64}</t:MimeContent>\
             <t:IsRead>false</t:IsRead></t:Message></m:Items></m:CreateItem>"
        ))
        .await;
    let id = all(r[0].ok(), "ItemId")[0].attr("Id").unwrap().to_string();
    let drafts = bob.folder_id("drafts").await;
    let r = bob
        .call(&format!(
            "<m:CopyItem><m:ToFolderId><t:FolderId Id=\"{drafts}\"/></m:ToFolderId>\
             <m:ItemIds><t:ItemId Id=\"{id}\"/></m:ItemIds></m:CopyItem>"
        ))
        .await;
    let copy = all(r[0].ok(), "ItemId")[0].attr("Id").unwrap().to_string();
    assert_ne!(copy, id);
    let r = bob
        .call(&format!(
            "<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id=\"junkemail\"/></m:ToFolderId>\
             <m:ItemIds><t:ItemId Id=\"{id}\"/></m:ItemIds></m:MoveItem>"
        ))
        .await;
    let moved = all(r[0].ok(), "ItemId")[0].attr("Id").unwrap().to_string();
    assert!(bob.find("inbox", 0, 10).await.0.is_empty());
    assert_eq!(bob.find("junkemail", 0, 10).await.1, ["uploaded"]);
    assert_eq!(bob.find("drafts", 0, 10).await.1, ["uploaded"]);
    // The old id names nothing now.
    let r = bob
        .call(&format!(
            "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
             <m:ItemIds><t:ItemId Id=\"{id}\"/><t:ItemId Id=\"{moved}\"/></m:ItemIds></m:GetItem>"
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorItemNotFound");
    r[1].ok();
    // MoveToDeletedItems puts it into Deleted Items.
    let r = bob
        .call(&format!(
            "<m:DeleteItem DeleteType=\"MoveToDeletedItems\"><m:ItemIds><t:ItemId Id=\"{moved}\"/></m:ItemIds></m:DeleteItem>"
        ))
        .await;
    r[0].ok();
    assert_eq!(bob.find("deleteditems", 0, 10).await.1, ["uploaded"]);

    // MarkAllItemsAsRead, then EmptyFolder.
    for s in ["a", "b"] {
        bob.deliver(&message(s, "Tue, 2 Jan 2024 10:00:00 +0000"), 0)
            .await;
    }
    let r = bob
        .call(
            "<m:MarkAllItemsAsRead><m:ReadFlag>true</m:ReadFlag><m:SuppressReadReceipts>true</m:SuppressReadReceipts>\
             <m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:MarkAllItemsAsRead>",
        )
        .await;
    r[0].ok();
    let r = bob
        .call(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
             <t:AdditionalProperties><t:FieldURI FieldURI=\"message:IsRead\"/></t:AdditionalProperties></m:ItemShape>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>",
        )
        .await;
    assert_eq!(texts(r[0].ok(), "IsRead"), ["true", "true"]);
    let r = bob
        .call(
            "<m:EmptyFolder DeleteType=\"HardDelete\" DeleteSubFolders=\"false\">\
             <m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:EmptyFolder>",
        )
        .await;
    r[0].ok();
    assert!(bob.find("inbox", 0, 10).await.0.is_empty());

    // A message made from properties.
    let r = bob
        .call(
            "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:Items><t:Message><t:Subject>Grüße</t:Subject>\
             <t:Body BodyType=\"Text\">Hallo</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>eve@example.test</t:EmailAddress>\
             </t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>",
        )
        .await;
    r[0].ok();
    let drafts = bob.find("drafts", 0, 10).await.1;
    assert!(drafts.contains(&"Grüße".to_string()), "{drafts:?}");
    // Without an outgoing relay, sending is refused and nothing is stored.
    let r = bob
        .call(
            "<m:CreateItem MessageDisposition=\"SendAndSaveCopy\"><m:Items><t:Message><t:Subject>x</t:Subject>\
             </t:Message></m:Items></m:CreateItem>",
        )
        .await;
    assert_eq!(r[0].code(), "ErrorMessageSubmissionBlocked");
    assert!(bob.find("sentitems", 0, 10).await.1.is_empty());
}

/// A small deterministic generator for the model test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// The server's inbox now: item id → read.
async fn inbox_now(bob: &Session<'_>) -> std::collections::BTreeMap<String, bool> {
    let r = bob
        .call(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
             <t:AdditionalProperties><t:FieldURI FieldURI=\"message:IsRead\"/></t:AdditionalProperties></m:ItemShape>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>",
        )
        .await;
    let items = all(r[0].ok(), "Message");
    items
        .iter()
        .map(|m| {
            (
                m.t("ItemId").unwrap().attr("Id").unwrap().to_string(),
                m.t_text("IsRead") == Some("true"),
            )
        })
        .collect()
}

/// One SyncFolderItems page applied to the client's model; returns (state, last).
async fn sync_page(
    bob: &Session<'_>,
    state: &str,
    max: u64,
    model: &mut std::collections::BTreeMap<String, bool>,
) -> (String, bool) {
    let s = if state.is_empty() {
        String::new()
    } else {
        format!("<m:SyncState>{state}</m:SyncState>")
    };
    let r = bob
        .call(&format!(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>\
             <t:FieldURI FieldURI=\"message:IsRead\"/></t:AdditionalProperties></m:ItemShape>\
             <m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>{s}\
             <m:MaxChangesReturned>{max}</m:MaxChangesReturned></m:SyncFolderItems>"
        ))
        .await;
    let m = r[0].ok();
    let changes = &m.m("Changes").unwrap().children;
    assert!(
        changes.len() as u64 <= max,
        "{} changes for max {max}",
        changes.len()
    );
    for c in changes {
        let id = all(c, "ItemId")[0].attr("Id").unwrap().to_string();
        let read = all(c, "IsRead").first().map(|e| e.text.trim() == "true");
        match c.name.as_str() {
            "Create" => {
                assert!(!model.contains_key(&id), "created twice: {id}");
                model.insert(id, read.unwrap());
            }
            "Update" => {
                assert!(model.contains_key(&id), "update of an unknown item {id}");
                model.insert(id, read.unwrap());
            }
            "Delete" => {
                // A message that arrived and went within one round may be
                // deleted without having been sent: the client ignores it.
                model.remove(&id);
            }
            other => panic!("unexpected change {other}"),
        }
    }
    (
        m.m("SyncState").unwrap().text.clone(),
        m.m("IncludesLastItemInRange").unwrap().text == "true",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_following_sync_folder_items_ends_with_the_servers_inbox() {
    let h = Harness::start().await;
    for seed in 1..=4u64 {
        let bob = h.user(&format!("model{seed}@example.test")).await;
        let mut rng = Lcg(seed);
        let mut model = std::collections::BTreeMap::new();
        let mut state = String::new();
        let mut n = 0;
        for _ in 0..40 {
            match rng.next(6) {
                0 | 1 => {
                    for _ in 0..=rng.next(3) {
                        n += 1;
                        bob.deliver(
                            &message(&format!("m{n}"), "Tue, 2 Jan 2024 10:00:00 +0000"),
                            0,
                        )
                        .await;
                    }
                }
                2 => {
                    let now = inbox_now(&bob).await;
                    if let Some((id, read)) = now.iter().nth(rng.next(now.len() as u64) as usize) {
                        let r = bob
                            .call(&format!(
                                "<m:UpdateItem MessageDisposition=\"SaveOnly\" ConflictResolution=\"AlwaysOverwrite\">\
                                 <m:ItemChanges><t:ItemChange><t:ItemId Id=\"{id}\"/><t:Updates><t:SetItemField>\
                                 <t:FieldURI FieldURI=\"message:IsRead\"/><t:Message><t:IsRead>{}</t:IsRead></t:Message>\
                                 </t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
                                !read
                            ))
                            .await;
                        r[0].ok();
                    }
                }
                3 => {
                    let now = inbox_now(&bob).await;
                    if let Some(id) = now.keys().nth(rng.next(now.len() as u64) as usize) {
                        let how = if rng.next(2) == 0 {
                            "HardDelete"
                        } else {
                            "MoveToDeletedItems"
                        };
                        let r = bob
                            .call(&format!(
                                "<m:DeleteItem DeleteType=\"{how}\"><m:ItemIds><t:ItemId Id=\"{id}\"/></m:ItemIds></m:DeleteItem>"
                            ))
                            .await;
                        r[0].ok();
                    }
                }
                _ => {
                    let (s, _) = sync_page(&bob, &state, 1 + rng.next(4), &mut model).await;
                    state = s;
                }
            }
        }
        for _ in 0..100 {
            let (s, last) = sync_page(&bob, &state, 1 + rng.next(4), &mut model).await;
            state = s;
            if last {
                break;
            }
        }
        assert_eq!(model, inbox_now(&bob).await, "seed {seed}");
    }
}

/// The events of a `GetEvents` answer: (event element, ItemId or FolderId).
fn events_of(reply: &Reply) -> Vec<(String, String)> {
    let n = reply.ok().m("Notification").unwrap();
    n.children
        .iter()
        .filter(|e| e.name.ends_with("Event"))
        .map(|e| {
            let id = e
                .t("ItemId")
                .or_else(|| e.t("FolderId"))
                .and_then(|i| i.attr("Id"))
                .unwrap_or("")
                .to_string();
            (e.name.clone(), id)
        })
        .collect()
}

fn last_watermark(reply: &Reply) -> String {
    let n = reply.ok().m("Notification").unwrap();
    texts(n, "Watermark").pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_subscription_reports_deliveries_moves_and_deletions_once() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let inbox = bob.folder_id("inbox").await;
    let r = bob
        .call(
            "<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></t:FolderIds>\
             <t:EventTypes><t:EventType>NewMailEvent</t:EventType><t:EventType>CreatedEvent</t:EventType>\
             <t:EventType>MovedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType></t:EventTypes>\
             <t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>",
        )
        .await;
    let id = r[0].ok().m("SubscriptionId").unwrap().text.clone();
    let mut mark = r[0].ok().m("Watermark").unwrap().text.clone();
    let get = |mark: String| {
        let id = id.clone();
        let bob = &bob;
        async move {
            bob.call(&format!(
                "<m:GetEvents><m:SubscriptionId>{id}</m:SubscriptionId><m:Watermark>{mark}</m:Watermark></m:GetEvents>"
            ))
            .await
        }
    };
    let r = get(mark.clone()).await;
    assert_eq!(
        events_of(&r[0])
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>(),
        ["StatusEvent"]
    );

    bob.deliver(&message("hello", "Mon, 1 Jan 2024 10:00:00 +0000"), 0)
        .await;
    let r = get(mark.clone()).await;
    let events = events_of(&r[0]);
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["CreatedEvent", "NewMailEvent"]);
    let item = events[0].1.clone();
    // Not acknowledged: the same events again.
    assert_eq!(events_of(&get(mark.clone()).await[0]), events);
    mark = last_watermark(&r[0]);
    let r = get(mark.clone()).await;
    assert_eq!(events_of(&r[0])[0].0, "StatusEvent");

    // Into the trash (a move), then a hard deletion there is out of scope.
    let r = bob
        .call(&format!(
            "<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id=\"deleteditems\"/></m:ToFolderId>\
             <m:ItemIds><t:ItemId Id=\"{item}\"/></m:ItemIds></m:MoveItem>"
        ))
        .await;
    r[0].ok();
    let r = get(mark.clone()).await;
    let n = r[0].ok().m("Notification").unwrap();
    let moved = n.t("MovedEvent").expect("a MovedEvent");
    assert_eq!(
        moved.t("OldItemId").unwrap().attr("Id"),
        Some(item.as_str())
    );
    assert_eq!(
        moved.t("OldParentFolderId").unwrap().attr("Id"),
        Some(inbox.as_str())
    );
    mark = last_watermark(&r[0]);

    // Someone else's subscription id, a foreign watermark, and the end.
    let eve = h.user("eve@example.test").await;
    let r = eve
        .call(&format!(
            "<m:GetEvents><m:SubscriptionId>{id}</m:SubscriptionId><m:Watermark>{mark}</m:Watermark></m:GetEvents>"
        ))
        .await;
    assert_eq!(r[0].code(), "ErrorSubscriptionAccessDenied");
    let r = get("AAAA".into()).await;
    assert_eq!(r[0].code(), "ErrorInvalidWatermark");
    let r = bob
        .call(&format!(
            "<m:Unsubscribe><m:SubscriptionId>{id}</m:SubscriptionId></m:Unsubscribe>"
        ))
        .await;
    r[0].ok();
    assert_eq!(get(mark).await[0].code(), "ErrorSubscriptionNotFound");
    assert_eq!(h.ews.subscriptions(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_office_settings_are_kept_in_the_store_and_only_for_the_caller() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let set = "<m:SetUserOofSettingsRequest><t:Mailbox><t:Address>bob@example.test</t:Address></t:Mailbox>\
               <t:UserOofSettings><t:OofState>Scheduled</t:OofState><t:ExternalAudience>None</t:ExternalAudience>\
               <t:Duration><t:StartTime>2030-01-01T00:00:00Z</t:StartTime><t:EndTime>2030-01-08T00:00:00Z</t:EndTime></t:Duration>\
               <t:InternalReply><t:Message>On leave</t:Message></t:InternalReply>\
               <t:ExternalReply><t:Message>Away</t:Message></t:ExternalReply></t:UserOofSettings></m:SetUserOofSettingsRequest>";
    let (fault, doc) = bob.answer(envelope(set).as_bytes()).await;
    assert!(
        !fault && doc.contains("<m:ResponseCode>NoError</m:ResponseCode>"),
        "{doc}"
    );
    let (settings, _) = groxide_rpc::oof::read(&h.client, &bob.dir).await.unwrap();
    assert_eq!(settings.state, groxide_rpc::oof::OofState::Scheduled);
    assert_eq!(settings.internal_reply, "On leave");
    assert!(settings.active(1_893_456_000) && !settings.active(1_894_060_800));

    let get = "<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>bob@example.test</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>";
    let (_, doc) = bob.answer(envelope(get).as_bytes()).await;
    let root = parse(doc.as_bytes()).unwrap();
    let response = &root.child(NS_SOAP, "Body").unwrap().children[0];
    let s = response.t("OofSettings").expect("OofSettings");
    assert_eq!(s.t_text("OofState"), Some("Scheduled"));
    assert_eq!(s.t_text("ExternalAudience"), Some("None"));
    assert_eq!(
        s.t("Duration").unwrap().t_text("StartTime"),
        Some("2030-01-01T00:00:00Z")
    );
    assert_eq!(
        s.t("ExternalReply").unwrap().t_text("Message"),
        Some("Away")
    );

    let (_, doc) = bob
        .answer(envelope(&get.replace("bob@", "eve@")).as_bytes())
        .await;
    assert!(doc.contains("ErrorAccessDenied"), "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_one_occurrence_keeps_the_series_and_drafts_a_reply_for_that_occurrence() {
    use groxide_pim::ical::{ImportOptions, parse_calendar};
    use groxide_rpc::exmdb_client::folder_role;
    use groxide_rpc::items::{Precondition, PutTarget};
    const DEMO: &str = "demo@example.test";
    let h = Harness::start().await;
    let demo = h.user(DEMO).await;
    let series = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n\
        UID:standup-9@remote.test\r\nSEQUENCE:1\r\nDTSTAMP:20261201T090000Z\r\n\
        DTSTART:20261215T140000Z\r\nDTEND:20261215T143000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n\
        SUMMARY:Standup\r\nORGANIZER:mailto:boss@remote.test\r\n\
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:demo@example.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let item = parse_calendar(
        series.as_bytes(),
        &ImportOptions {
            owner: Some(DEMO.into()),
            ..ImportOptions::default()
        },
    )
    .items
    .remove(0)
    .unwrap();
    h.client
        .put_item(
            &demo.dir,
            folder_role("calendar"),
            &item,
            PutTarget::New,
            Precondition::None,
        )
        .await
        .unwrap();
    let view = |from: &str, to: &str| {
        format!(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
             <m:CalendarView StartDate=\"{from}\" EndDate=\"{to}\"/>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"calendar\"/></m:ParentFolderIds></m:FindItem>"
        )
    };
    let r = demo
        .call(&view("2026-12-22T00:00:00Z", "2026-12-23T00:00:00Z"))
        .await;
    let ids: Vec<String> = all(r[0].ok(), "ItemId")
        .iter()
        .map(|e| e.attr("Id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1);

    let r = demo
        .call(&format!(
            "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:Items><t:DeclineItem>\
             <t:ReferenceItemId Id=\"{}\"/></t:DeclineItem></m:Items></m:CreateItem>",
            ids[0]
        ))
        .await;
    let draft = all(r[0].ok(), "ItemId")[0].attr("Id").unwrap().to_string();
    let r = demo
        .call(&format!(
            "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>\
             <t:FieldURI FieldURI=\"item:MimeContent\"/></t:AdditionalProperties></m:ItemShape>\
             <m:ItemIds><t:ItemId Id=\"{draft}\"/></m:ItemIds></m:GetItem>"
        ))
        .await;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&texts(r[0].ok(), "MimeContent")[0])
        .unwrap();
    let reply = String::from_utf8_lossy(&bytes);
    assert!(reply.contains("METHOD:REPLY"), "{reply}");
    assert!(reply.contains("RECURRENCE-ID:20261222T140000Z"), "{reply}");
    assert!(
        reply.contains("ATTENDEE;PARTSTAT=DECLINED:mailto:demo@example.test"),
        "{reply}"
    );
    assert!(!reply.contains("RRULE"), "{reply}");

    // The series stays, every occurrence still in the calendar; only the
    // 22nd carries the decline.
    let r = demo
        .call(&view("2026-12-01T00:00:00Z", "2027-01-31T00:00:00Z"))
        .await;
    assert_eq!(all(r[0].ok(), "ItemId").len(), 4);
    let (items, _) = h
        .client
        .list_items(&demo.dir, folder_role("calendar"))
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let (_, item) = h
        .client
        .get_item(&demo.dir, items[0].message_id)
        .await
        .unwrap();
    let ics = String::from_utf8(item.original.clone().unwrap_or_default())
        .unwrap()
        .replace("\r\n ", "");
    let block = ics
        .split("BEGIN:VEVENT")
        .find(|b| b.contains("RECURRENCE-ID:20261222T140000Z"))
        .unwrap_or_else(|| panic!("no override: {ics}"));
    assert!(block.contains("PARTSTAT=DECLINED"), "{block}");
    assert_eq!(ics.matches("PARTSTAT=ACCEPTED").count(), 1, "{ics}");
}

/// The body's response element of one answer that is no fault.
async fn body_of(s: &Session<'_>, body: &str) -> Element {
    let (fault, doc) = s.answer(envelope(body).as_bytes()).await;
    assert!(!fault, "fault: {doc}");
    let root = parse(doc.as_bytes()).unwrap();
    root.child(NS_SOAP, "Body").unwrap().children[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_persona_answers_a_found_persona_with_its_contact_fields_and_unknown_ids_not_found() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    let made = bob
        .call(
            "<m:CreateItem><m:SavedItemFolderId><t:DistinguishedFolderId Id=\"contacts\"/></m:SavedItemFolderId>\
             <m:Items><t:Contact><t:GivenName>Ada</t:GivenName><t:CompanyName>Analytical Engines</t:CompanyName>\
             <t:EmailAddresses><t:Entry Key=\"EmailAddress1\">ada@partner.test</t:Entry>\
             <t:Entry Key=\"EmailAddress2\">ada@home.test</t:Entry></t:EmailAddresses>\
             <t:PhoneNumbers><t:Entry Key=\"MobilePhone\">+1 555 0100</t:Entry></t:PhoneNumbers>\
             <t:JobTitle>Mathematician</t:JobTitle><t:Surname>Lovelace</t:Surname></t:Contact></m:Items></m:CreateItem>",
        )
        .await;
    made[0].ok();

    let people = body_of(
        &bob,
        "<m:FindPeople><m:IndexedPageItemView MaxEntriesReturned=\"10\" Offset=\"0\" BasePoint=\"Beginning\"/>\
         <m:ParentFolderId><t:DistinguishedFolderId Id=\"contacts\"/></m:ParentFolderId>\
         <m:QueryString>ada</m:QueryString></m:FindPeople>",
    )
    .await;
    let ids: Vec<&str> = all(&people, "PersonaId")
        .iter()
        .filter_map(|p| p.attr("Id"))
        .collect();
    assert_eq!(ids.len(), 1, "{people:#?}");

    let answer = body_of(
        &bob,
        &format!(
            "<m:GetPersona><m:PersonaId Id=\"{}\"/></m:GetPersona>",
            ids[0]
        ),
    )
    .await;
    assert_eq!(answer.name, "GetPersonaResponseMessage");
    assert_eq!(answer.attr("ResponseClass"), Some("Success"));
    let reply = Reply(answer);
    let persona = reply.ok().m("Persona").expect("Persona");
    assert_eq!(persona.t("PersonaId").unwrap().attr("Id"), Some(ids[0]));
    let display = persona.t_text("DisplayName").unwrap_or_default();
    assert!(
        display.contains("Ada") && display.contains("Lovelace"),
        "{persona:#?}"
    );
    assert_eq!(persona.t_text("Title"), Some("Mathematician"));
    assert_eq!(persona.t_text("CompanyName"), Some("Analytical Engines"));
    assert_eq!(
        persona.t("EmailAddress").unwrap().t_text("EmailAddress"),
        Some("ada@partner.test")
    );
    let addresses: Vec<String> = persona
        .t("EmailAddresses")
        .unwrap()
        .children
        .iter()
        .map(|a| a.t_text("EmailAddress").unwrap_or_default().to_string())
        .collect();
    assert_eq!(addresses, ["ada@partner.test", "ada@home.test"]);
    let mobile = persona.t("PhoneNumber").unwrap();
    assert_eq!(mobile.t_text("Number"), Some("+1 555 0100"));
    assert_eq!(mobile.t_text("Type"), Some("Mobile"));
    assert_eq!(
        texts(persona.t("MobilePhones").unwrap(), "Number"),
        ["+1 555 0100"]
    );
    assert_eq!(
        texts(persona.t("CompanyNames").unwrap(), "Value"),
        ["Analytical Engines"]
    );
    assert_eq!(
        texts(persona.t("Titles").unwrap(), "Value"),
        ["Mathematician"]
    );

    // Not a persona: a mail item's id, another store's, nonsense, a
    // directory user nobody has; each is ErrorItemNotFound, never a fault.
    bob.deliver(&message("hello", "Mon, 7 Dec 2026 10:00:00 +0000"), 1)
        .await;
    let (mail, _, _) = bob.find("inbox", 0, 10).await;
    let carol = h.user("carol@example.test").await;
    let foreign = body_of(
        &carol,
        &format!(
            "<m:GetPersona><m:PersonaId Id=\"{}\"/></m:GetPersona>",
            ids[0]
        ),
    )
    .await;
    assert_eq!(Reply(foreign).code(), "ErrorItemNotFound");
    let nobody = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "directory:nobody@example.test",
    );
    for id in [mail[0].as_str(), "bm9uc2Vuc2U=", "%%%", nobody.as_str()] {
        let answer = body_of(
            &bob,
            &format!("<m:GetPersona><m:PersonaId Id=\"{id}\"/></m:GetPersona>"),
        )
        .await;
        assert_eq!(answer.attr("ResponseClass"), Some("Error"), "{id}");
        assert_eq!(Reply(answer).code(), "ErrorItemNotFound", "{id}");
    }
}

/// The answer of a module that keeps no items, to the same request.
async fn answered_afresh(fresh: &groxide_ews::Ews, bob: &Session<'_>, body: &str) -> String {
    let (fault, doc) = fresh.answer(&bob.who, envelope(body).as_bytes()).await;
    assert!(!fault, "{doc}");
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_from_kept_items_read_exactly_as_written_afresh_after_every_change() {
    let h = Harness::start().await;
    let bob = h.user("kept@example.test").await;
    // The same store through a module that writes every item afresh.
    let fresh = groxide_ews::Ews::new(h.client.clone());
    fresh.set_item_cache_size(0);
    for i in 0..6 {
        bob.deliver(
            &message(&format!("m{i}"), "Tue, 2 Jan 2024 10:00:00 +0000"),
            1_700_000_000 + i,
        )
        .await;
    }
    let shape = "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>\
                 <t:FieldURI FieldURI=\"item:Subject\"/><t:FieldURI FieldURI=\"message:From\"/>\
                 <t:FieldURI FieldURI=\"item:DateTimeReceived\"/><t:FieldURI FieldURI=\"message:IsRead\"/>\
                 <t:FieldURI FieldURI=\"item:Size\"/><t:FieldURI FieldURI=\"item:HasAttachments\"/>\
                 <t:FieldURI FieldURI=\"item:Flag\"/></t:AdditionalProperties></m:ItemShape>";
    let find = format!(
        "<m:FindItem Traversal=\"Shallow\">{shape}<m:IndexedPageItemView MaxEntriesReturned=\"100\" \
         Offset=\"0\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>\
         </m:ParentFolderIds></m:FindItem>"
    );
    let sync = format!(
        "<m:SyncFolderItems>{shape}<m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>\
         <m:MaxChangesReturned>100</m:MaxChangesReturned></m:SyncFolderItems>"
    );
    let same = |what: &'static str| {
        let (find, sync) = (&find, &sync);
        let (bob, fresh) = (&bob, &fresh);
        async move {
            for body in [find, sync] {
                // Twice: the second answer comes from the kept items.
                for _ in 0..2 {
                    let (_, kept) = bob.h.ews.answer(&bob.who, envelope(body).as_bytes()).await;
                    assert_eq!(kept, answered_afresh(fresh, bob, body).await, "{what}");
                }
            }
        }
    };
    same("as delivered").await;
    let ids: Vec<String> = {
        let r = bob.call(&find).await;
        all(r[0].ok(), "ItemId")
            .iter()
            .map(|e| e.attr("Id").unwrap().to_string())
            .collect()
    };
    assert_eq!(ids.len(), 6);
    let update = |id: &str, field: &str, value: &str| {
        format!(
            "<m:UpdateItem MessageDisposition=\"SaveOnly\" ConflictResolution=\"AlwaysOverwrite\">\
             <m:ItemChanges><t:ItemChange><t:ItemId Id=\"{id}\"/><t:Updates><t:SetItemField>\
             <t:FieldURI FieldURI=\"{field}\"/><t:Message>{value}</t:Message>\
             </t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
        )
    };
    bob.call(&update(
        &ids[0],
        "message:IsRead",
        "<t:IsRead>true</t:IsRead>",
    ))
    .await[0]
        .ok();
    same("one read").await;
    let r = bob.call(&find).await;
    let read: Vec<String> = texts(r[0].ok(), "IsRead");
    assert_eq!(
        read[0], "true",
        "the kept item was not shown after it changed"
    );
    bob.call(&update(
        &ids[1],
        "item:Flag",
        "<t:Flag><t:FlagStatus>Flagged</t:FlagStatus></t:Flag>",
    ))
    .await[0]
        .ok();
    same("one flagged").await;
    bob.call(&format!(
        "<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id=\"junkemail\"/></m:ToFolderId>\
         <m:ItemIds><t:ItemId Id=\"{}\"/></m:ItemIds></m:MoveItem>",
        ids[2]
    ))
    .await[0]
        .ok();
    same("one moved away").await;
    // Moved back: the same message under a new UID.
    let r = bob
        .call(
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>\
             <m:ParentFolderIds><t:DistinguishedFolderId Id=\"junkemail\"/></m:ParentFolderIds></m:FindItem>",
        )
        .await;
    let junk = all(r[0].ok(), "ItemId")[0].attr("Id").unwrap().to_string();
    bob.call(&format!(
        "<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:ToFolderId>\
         <m:ItemIds><t:ItemId Id=\"{junk}\"/></m:ItemIds></m:MoveItem>"
    ))
    .await[0]
        .ok();
    same("moved back").await;
    bob.deliver(
        &message("late", "Tue, 2 Jan 2024 11:00:00 +0000"),
        1_700_000_100,
    )
    .await;
    same("one more delivered").await;
}
