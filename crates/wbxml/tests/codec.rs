//! The codec on hand-picked documents: the [MS-ASWBXML] example, the XML
//! form, the builders and what the encoder does with values WBXML cannot
//! carry as they are.

use groxide_wbxml::{
    AirSync, AirSyncBase, CodePage, ComposeMail, Contacts, Content, Element, Email,
    FolderHierarchy, ItemOperations, Limits, Tag, XmlError, decode, encode,
};

fn xml(text: &str) -> Element {
    match Element::from_xml(text, &Limits::default()) {
        Ok(el) => el,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn xml_err(text: &str) -> XmlError {
    match Element::from_xml(text, &Limits::default()) {
        Ok(el) => panic!("accepted: {el:?}"),
        Err(e) => e,
    }
}

/// [MS-ASWBXML] §3.1 ("server response that contains a new contact"): the
/// XML as the spec prints it (namespaces without the colon) and the start
/// of the WBXML it gives.
#[test]
fn the_spec_example_encodes_to_the_spec_bytes() {
    let spec_xml = r#"<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:airsyncbase="AirSyncBase" xmlns:contacts="Contacts">
 <Collections> <Collection> <Class>Contacts</Class> <SyncKey>2</SyncKey>
 <CollectionId>2</CollectionId> <Status>1</Status> <Commands> <Add>
 <ServerId>2:1</ServerId> <ApplicationData> <airsyncbase:Body>
 <airsyncbase:Type>1</airsyncbase:Type>
 <airsyncbase:EstimatedDataSize>0</airsyncbase:EstimatedDataSize>
 <airsyncbase:Truncated>1</airsyncbase:Truncated> </airsyncbase:Body>
 <contacts:FileAs>Funk, Don</contacts:FileAs> <contacts:FirstName>Don</contacts:FirstName>
 <contacts:LastName>Funk</contacts:LastName>
 <airsyncbase:NativeBodyType>1</airsyncbase:NativeBodyType> </ApplicationData> </Add>
 </Commands> </Collection> </Collections> </Sync>"#;
    let spec_bytes: &[u8] = &[
        0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x50, 0x03, 0x43, 0x6F, 0x6E, 0x74, 0x61, 0x63,
        0x74, 0x73, 0x00, 0x01, 0x4B, 0x03, 0x32, 0x00, 0x01, 0x52, 0x03, 0x32, 0x00, 0x01, 0x4E,
        0x03, 0x31, 0x00, 0x01, 0x56, 0x47, 0x4D, 0x03, 0x32, 0x3A, 0x31, 0x00, 0x01, 0x5D, 0x00,
        0x11, 0x4A, 0x46, 0x03, 0x31, 0x00, 0x01, 0x4C, 0x03, 0x30, 0x00, 0x01, 0x4D, 0x03, 0x31,
        0x00, 0x01, 0x01, 0x00, 0x01, 0x5E, 0x03, 0x46, 0x75, 0x6E, 0x6B,
    ];
    let tree = xml(spec_xml);
    let bytes = encode(&tree);
    assert_eq!(&bytes[..spec_bytes.len()], spec_bytes);
    assert_eq!(decode(&bytes, &Limits::default()), Ok(tree.clone()));

    let add = tree
        .descendant(&[
            AirSync::Collections.into(),
            AirSync::Collection.into(),
            AirSync::Commands.into(),
            AirSync::Add.into(),
        ])
        .expect("Add");
    let data = add
        .child(AirSync::ApplicationData)
        .expect("ApplicationData");
    assert_eq!(data.child_text(Contacts::FileAs), Some("Funk, Don"));
    assert_eq!(
        data.child(AirSyncBase::Body)
            .and_then(|b| b.child_text(AirSyncBase::Type)),
        Some("1")
    );
    assert_eq!(
        data.child_by_name("Contacts:", "LastName")
            .and_then(Element::text),
        Some("Funk")
    );
    assert_eq!(data.child_by_name("Contacts:", "NoSuchTag"), None);
}

#[test]
fn to_xml_declares_each_page_once_and_reads_back() {
    let tree = Element::with_children(
        AirSync::Sync,
        [Element::with_children(
            AirSync::Collections,
            [Element::with_children(
                AirSync::Collection,
                [
                    Element::with_text(AirSync::SyncKey, "1 < 2 & \"3\""),
                    Element::empty(AirSync::GetChanges),
                    Element::with_children(
                        AirSync::Commands,
                        [Element::with_children(
                            AirSync::Add,
                            [
                                Element::with_text(AirSync::ClientId, ""),
                                Element::with_children(
                                    AirSync::ApplicationData,
                                    [
                                        Element::with_text(
                                            Email::Subject,
                                            "  two  spaces\tand a tab\r\n",
                                        ),
                                        Element::with_children(
                                            AirSyncBase::Body,
                                            [
                                                Element::with_text(AirSyncBase::Type, "1"),
                                                Element::with_opaque(
                                                    AirSyncBase::Data,
                                                    b"plain text".to_vec(),
                                                ),
                                            ],
                                        ),
                                        Element::with_opaque(
                                            Email::MIMEData,
                                            vec![0x00, 0xFF, b']', b']', b'>'],
                                        ),
                                    ],
                                ),
                            ],
                        )],
                    ),
                ],
            )],
        )],
    );
    let expected = r#"<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync:" xmlns:email="Email:" xmlns:airsyncbase="AirSyncBase:">
  <Collections>
    <Collection>
      <SyncKey>1 &lt; 2 &amp; "3"</SyncKey>
      <GetChanges/>
      <Commands>
        <Add>
          <ClientId></ClientId>
          <ApplicationData>
            <email:Subject>  two  spaces	and a tab&#xD;
</email:Subject>
            <airsyncbase:Body>
              <airsyncbase:Type>1</airsyncbase:Type>
              <airsyncbase:Data><![CDATA[plain text]]></airsyncbase:Data>
            </airsyncbase:Body>
            <email:MIMEData opaque="hex">00ff5d5d3e</email:MIMEData>
          </ApplicationData>
        </Add>
      </Commands>
    </Collection>
  </Collections>
</Sync>
"#;
    assert_eq!(tree.to_xml(), expected);
    assert_eq!(xml(expected), tree);

    let redacted = tree.to_xml_redacted();
    assert!(
        redacted.contains("<SyncKey>[11 bytes]</SyncKey>"),
        "{redacted}"
    );
    assert!(redacted.contains("<email:MIMEData>[opaque, 5 bytes]</email:MIMEData>"));
    assert!(!redacted.contains("plain text"));
}

#[test]
fn from_xml_reads_eas_xml_as_clients_and_the_spec_write_it() {
    // Default namespace switched per element (libwbxml's output), a DOCTYPE,
    // comments, CDATA for opaque data and character references.
    let tree = xml(r#"<?xml version="1.0"?>
<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
<!-- a comment -->
<SendMail xmlns="ComposeMail:">
  <ClientId>&#x31;&#50;&lt;</ClientId>
  <SaveInSentItems/>
  <Mime><![CDATA[Subject: hi

body]]></Mime>
</SendMail>"#);
    assert_eq!(
        tree,
        Element::with_children(
            ComposeMail::SendMail,
            [
                Element::with_text(ComposeMail::ClientId, "12<"),
                Element::empty(ComposeMail::SaveInSentItems),
                Element::with_opaque(ComposeMail::Mime, b"Subject: hi\n\nbody".to_vec()),
            ]
        )
    );

    let tree = xml(r#"<FolderSync xmlns="FolderHierarchy"><SyncKey>0</SyncKey></FolderSync>"#);
    assert_eq!(tree.tag, FolderHierarchy::FolderSync);
    let tree = xml(
        r#"<i:ItemOperations xmlns:i="ItemOperations:"><i:Fetch><i:Store>Mailbox</i:Store></i:Fetch></i:ItemOperations>"#,
    );
    assert_eq!(
        tree.child(ItemOperations::Fetch)
            .and_then(|f| f.child_text(ItemOperations::Store)),
        Some("Mailbox")
    );
}

#[test]
fn from_xml_refuses_what_eas_xml_cannot_be() {
    let cases: &[(&str, &str)] = &[
        ("<Sync/>", "in no namespace"),
        (
            r#"<Sync xmlns="AirSync:"><x:Subject/></Sync>"#,
            "not declared",
        ),
        (
            r#"<Sync xmlns="Nope:"/>"#,
            "\"Nope:\" at byte 0 is not an EAS code page",
        ),
        (r#"<Sync xmlns="airsync:"/>"#, "is not an EAS code page"),
        (
            r#"<Sync xmlns="AirSync:"><Bogus/></Sync>"#,
            "code page 0 (AirSync) has no tag Bogus",
        ),
        (
            r#"<Sync xmlns="AirSync:" a="1"/>"#,
            "attribute a at byte 0 is not allowed",
        ),
        (
            r#"<Sync xmlns="AirSync:">text<Status>1</Status></Sync>"#,
            "AirSync:Sync mixes",
        ),
        (
            r#"<Status xmlns="AirSync:">1<![CDATA[2]]></Status>"#,
            "AirSync:Status mixes",
        ),
        (
            r#"<Status xmlns="AirSync:" opaque="hex">0g</Status>"#,
            "does not hold hex digits",
        ),
        (
            r#"<Status xmlns="AirSync:" opaque="hex">abc</Status>"#,
            "does not hold hex digits",
        ),
        (
            r#"<Status xmlns="AirSync:">&nbsp;</Status>"#,
            "unknown entity &nbsp;",
        ),
        (
            r#"<Status xmlns="AirSync:"/><Status xmlns="AirSync:"/>"#,
            "second root element",
        ),
        (
            r#"<Status xmlns="AirSync:"/>tail"#,
            "text outside the root element",
        ),
        (
            r#"<Sync xmlns="AirSync:"><Status>"#,
            "input ends inside AirSync:Status",
        ),
        (r#"<Sync xmlns="AirSync:"></Status>"#, "XML syntax error"),
        ("<!-- nothing -->", "no root element"),
    ];
    for (text, message) in cases {
        let error = xml_err(text).to_string();
        assert!(
            error.contains(message),
            "{text}: {error:?} lacks {message:?}"
        );
    }
}

#[test]
fn from_xml_enforces_the_limits() {
    let limits = Limits {
        max_depth: 2,
        max_elements: 3,
        max_string_bytes: 4,
        max_opaque_bytes: 2,
        max_input_bytes: 200,
    };
    let cases: &[(&str, &str)] = &[
        (
            r#"<Sync xmlns="AirSync:"><Collections><Collection/></Collections></Sync>"#,
            "deeper than 2",
        ),
        (
            r#"<Sync xmlns="AirSync:"><Status/><Status/><Status/></Sync>"#,
            "more than 3 elements",
        ),
        (
            r#"<Status xmlns="AirSync:">12345</Status>"#,
            "exceeds 4 bytes",
        ),
        (
            r#"<Status xmlns="AirSync:"><![CDATA[123]]></Status>"#,
            "exceeds 2 bytes",
        ),
        (
            r#"<Status xmlns="AirSync:" opaque="hex">010203</Status>"#,
            "exceeds 2 bytes",
        ),
    ];
    for (text, message) in cases {
        let error = Element::from_xml(text, &limits)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(message),
            "{text}: {error:?} lacks {message:?}"
        );
    }
    let big = format!(r#"<Status xmlns="AirSync:">{}</Status>"#, "1".repeat(200));
    assert_eq!(
        Element::from_xml(&big, &limits),
        Err(XmlError::TooLarge {
            len: big.len(),
            limit: 200
        })
    );
}

#[test]
fn builders_keep_text_and_children_apart() {
    let mut status = Element::with_text(AirSync::Status, "1");
    let err = status.push(Element::empty(AirSync::Status)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "AirSync:Status holds text; EAS elements cannot mix it with child elements"
    );
    let mut data = Element::with_opaque(AirSyncBase::Data, vec![1]);
    assert!(data.push(Element::empty(AirSync::Status)).is_err());

    let mut add = Element::empty(AirSync::Add);
    add.push(Element::with_text(AirSync::ServerId, "1:1"))
        .expect("push to empty");
    add.push(Element::with_text(AirSync::ServerId, "1:2"))
        .expect("push to parent");
    let ids: Vec<_> = add
        .children_named(AirSync::ServerId)
        .filter_map(Element::text)
        .collect();
    assert_eq!(ids, ["1:1", "1:2"]);
    assert_eq!(add.element_count(), 3);
    assert!(add.is(AirSync::Add));
    assert_eq!(add.page(), CodePage::AirSync);

    assert_eq!(
        Element::with_children(AirSync::Add, []).content,
        Content::Empty
    );
    assert_eq!(
        Element::with_text(AirSync::ServerId, "a\0b").text(),
        Some("a\u{FFFD}b")
    );
}

#[test]
fn encode_switches_pages_only_when_the_page_changes() {
    let tree = Element::with_children(
        AirSync::ApplicationData,
        [
            Element::with_text(Email::To, "a"),
            Element::with_text(Email::Cc, "b"),
            Element::empty(AirSyncBase::Body),
            Element::empty(AirSync::Status),
        ],
    );
    let bytes = encode(&tree);
    assert_eq!(
        bytes,
        [
            0x03, 0x01, 0x6A, 0x00, // header
            0x5D, // ApplicationData with content (page 0 is current)
            0x00, 0x02, 0x56, 0x03, b'a', 0x00, 0x01, // SWITCH_PAGE 2, To "a"
            0x57, 0x03, b'b', 0x00, 0x01, // Cc "b", no switch
            0x00, 0x11, 0x0A, // SWITCH_PAGE 17, Body without content
            0x00, 0x00, 0x0E, // SWITCH_PAGE 0, Status without content
            0x01, // END ApplicationData
        ]
    );
}

#[test]
fn encode_maps_what_wbxml_cannot_carry_and_decode_reads_it_back() {
    // A NUL put straight into the content is written as U+FFFD.
    let tree = Element {
        tag: Tag::from(AirSync::SyncKey),
        content: Content::Text("a\0b".to_owned()),
    };
    let back = decode(&encode(&tree), &Limits::default()).expect("decode");
    assert_eq!(back.text(), Some("a\u{FFFD}b"));

    // No children is the same document as no content.
    let tree = Element {
        tag: AirSync::Add.into(),
        content: Content::Children(Vec::new()),
    };
    assert_eq!(encode(&tree), encode(&Element::empty(AirSync::Add)));

    // Empty strings and empty opaque data survive.
    for tree in [
        Element::with_text(AirSync::SyncKey, ""),
        Element::with_opaque(AirSyncBase::Data, Vec::new()),
    ] {
        assert_eq!(decode(&encode(&tree), &Limits::default()), Ok(tree));
    }
}
