use super::*;
use crate::attribute::MailboxAttribute;
use crate::command::{Section, SectionText, Tag};
use crate::datetime::ImapDateTime;
use crate::flag::Flag;
use crate::response::*;
use crate::sequence::NumberSet;

fn tag(t: &str) -> Tag {
    Tag::new(t).unwrap()
}

/// Encodes `response` and compares the exact bytes.
fn check(response: Response, expected: &str) {
    check_with(ResponseEncoder::new(false), response, expected);
}

fn check_with(encoder: ResponseEncoder, response: Response, expected: &str) {
    let mut out = Vec::new();
    encoder.encode(&mut out, &response);
    assert_eq!(String::from_utf8_lossy(&out), expected);
}

fn data(d: Data) -> Response {
    Response::Data(d)
}

fn uids(n: &[u32]) -> NumberSet {
    NumberSet::from_ordered(n.iter().copied())
}

#[test]
fn status_responses_with_and_without_codes() {
    check(
        Response::Status(StatusResponse::tagged(
            tag("a1"),
            Status::Ok,
            "LOGIN completed",
        )),
        "a1 OK LOGIN completed\r\n",
    );
    check(
        Response::Status(StatusResponse::untagged(Status::PreAuth, "ready")),
        "* PREAUTH ready\r\n",
    );
    check(
        Response::Status(
            StatusResponse::tagged(tag("a2"), Status::No, "no such mailbox")
                .with_code(ResponseCode::TryCreate),
        ),
        "a2 NO [TRYCREATE] no such mailbox\r\n",
    );
    check(
        Response::Status(
            StatusResponse::untagged(Status::Bye, "").with_code(ResponseCode::Unavailable),
        ),
        "* BYE [UNAVAILABLE]\r\n",
    );
    check(
        Response::Status(StatusResponse::tagged(
            tag("a3"),
            Status::Bad,
            "bad\r\n* OK forged",
        )),
        "a3 BAD bad  * OK forged\r\n",
    );
}

#[test]
fn every_simple_response_code_has_its_wire_name() {
    let table = [
        (ResponseCode::Alert, "ALERT"),
        (ResponseCode::Parse, "PARSE"),
        (ResponseCode::ReadOnly, "READ-ONLY"),
        (ResponseCode::ReadWrite, "READ-WRITE"),
        (ResponseCode::TryCreate, "TRYCREATE"),
        (ResponseCode::UidNotSticky, "UIDNOTSTICKY"),
        (ResponseCode::NoModSeq, "NOMODSEQ"),
        (ResponseCode::Closed, "CLOSED"),
        (ResponseCode::AlreadyExists, "ALREADYEXISTS"),
        (ResponseCode::NonExistent, "NONEXISTENT"),
        (ResponseCode::AuthenticationFailed, "AUTHENTICATIONFAILED"),
        (ResponseCode::AuthorizationFailed, "AUTHORIZATIONFAILED"),
        (ResponseCode::Unavailable, "UNAVAILABLE"),
        (ResponseCode::ServerBug, "SERVERBUG"),
        (ResponseCode::Cannot, "CANNOT"),
        (ResponseCode::Limit, "LIMIT"),
        (ResponseCode::OverQuota, "OVERQUOTA"),
        (ResponseCode::InUse, "INUSE"),
        (ResponseCode::ExpungeIssued, "EXPUNGEISSUED"),
        (ResponseCode::TooBig, "TOOBIG"),
        (ResponseCode::UnknownCte, "UNKNOWN-CTE"),
        (ResponseCode::CompressionActive, "COMPRESSIONACTIVE"),
        (ResponseCode::ContactAdmin, "CONTACTADMIN"),
        (ResponseCode::PrivacyRequired, "PRIVACYREQUIRED"),
        (ResponseCode::NoPerm, "NOPERM"),
        (ResponseCode::Expired, "EXPIRED"),
        (ResponseCode::ClientBug, "CLIENTBUG"),
        (ResponseCode::Corruption, "CORRUPTION"),
        (ResponseCode::HasChildren, "HASCHILDREN"),
        (ResponseCode::UseAttr, "USEATTR"),
        (ResponseCode::NotSaved, "NOTSAVED"),
    ];
    for (code, name) in table {
        check(
            Response::Status(StatusResponse::tagged(tag("t"), Status::No, "x").with_code(code)),
            &format!("t NO [{name}] x\r\n"),
        );
    }
}

#[test]
fn response_codes_with_arguments() {
    let check_code = |code: ResponseCode, expected: &str| {
        check(
            Response::Status(StatusResponse::untagged(Status::Ok, "done").with_code(code)),
            &format!("* OK [{expected}] done\r\n"),
        );
    };
    check_code(ResponseCode::BadCharset(vec![]), "BADCHARSET");
    check_code(
        ResponseCode::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]),
        "BADCHARSET (UTF-8 US-ASCII)",
    );
    check_code(
        ResponseCode::Capability(vec!["IMAP4rev1".into(), "IDLE".into(), "AUTH=PLAIN".into()]),
        "CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN",
    );
    check_code(
        ResponseCode::PermanentFlags(vec![
            PermanentFlag::Flag(Flag::Deleted),
            PermanentFlag::Flag(Flag::Seen),
            PermanentFlag::AnyKeyword,
        ]),
        "PERMANENTFLAGS (\\Deleted \\Seen \\*)",
    );
    check_code(ResponseCode::UidNext(4392), "UIDNEXT 4392");
    check_code(
        ResponseCode::UidValidity(3857529045),
        "UIDVALIDITY 3857529045",
    );
    check_code(ResponseCode::Unseen(12), "UNSEEN 12");
    check_code(
        ResponseCode::AppendUid {
            uid_validity: 38505,
            uids: uids(&[3955]),
        },
        "APPENDUID 38505 3955",
    );
    check_code(
        ResponseCode::CopyUid {
            uid_validity: 38505,
            source: uids(&[304, 319, 320]),
            destination: uids(&[3956, 3957, 3958]),
        },
        "COPYUID 38505 304,319:320 3956:3958",
    );
    check_code(
        ResponseCode::HighestModSeq(715194045007),
        "HIGHESTMODSEQ 715194045007",
    );
    check_code(ResponseCode::Modified(uids(&[7, 9])), "MODIFIED 7,9");
    check_code(
        ResponseCode::Other {
            name: "X-FOO".into(),
            text: Some("a]b".into()),
        },
        "X-FOO a b",
    );
}

#[test]
fn continuation_requests() {
    check(
        Response::Continue(ContinueRequest::Text {
            code: None,
            text: "Ready".into(),
        }),
        "+ Ready\r\n",
    );
    check(
        Response::Continue(ContinueRequest::Base64(Vec::new())),
        "+ \r\n",
    );
    check(
        Response::Continue(ContinueRequest::Base64(b"Username:".to_vec())),
        "+ VXNlcm5hbWU6\r\n",
    );
    check(
        Response::Continue(ContinueRequest::Text {
            code: Some(ResponseCode::Alert),
            text: "idling".into(),
        }),
        "+ [ALERT] idling\r\n",
    );
}

#[test]
fn mailbox_state_data() {
    check(data(Data::Exists(172)), "* 172 EXISTS\r\n");
    check(data(Data::Recent(1)), "* 1 RECENT\r\n");
    check(data(Data::Expunge(44)), "* 44 EXPUNGE\r\n");
    check(
        data(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ])),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    );
    check(
        data(Data::Capability(vec![
            "IMAP4rev1".into(),
            "STARTTLS".into(),
        ])),
        "* CAPABILITY IMAP4rev1 STARTTLS\r\n",
    );
    check(
        data(Data::Enabled(vec!["CONDSTORE".into()])),
        "* ENABLED CONDSTORE\r\n",
    );
    check(data(Data::Enabled(vec![])), "* ENABLED\r\n");
}

#[test]
fn list_responses_with_attributes_delimiter_and_extended_items() {
    let list = |attributes, delimiter, mailbox: &str, extended| ListResponse {
        kind: ListKind::List,
        attributes,
        delimiter,
        mailbox: mailbox.into(),
        extended,
    };
    check(
        data(Data::List(list(
            vec![MailboxAttribute::HasNoChildren],
            Some('/'),
            "INBOX",
            vec![],
        ))),
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
    );
    check(
        data(Data::List(list(
            vec![MailboxAttribute::NonExistent, MailboxAttribute::Subscribed],
            Some('.'),
            "Foo",
            vec![ListExtendedItem::ChildInfo(vec!["SUBSCRIBED".into()])],
        ))),
        "* LIST (\\NonExistent \\Subscribed) \".\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
    );
    check(
        data(Data::List(list(
            vec![],
            Some('\\'),
            "New",
            vec![ListExtendedItem::OldName("Old".into())],
        ))),
        "* LIST () \"\\\\\" \"New\" (\"OLDNAME\" (\"Old\"))\r\n",
    );
    check(
        data(Data::List(ListResponse {
            kind: ListKind::Lsub,
            attributes: vec![
                MailboxAttribute::Sent,
                MailboxAttribute::Extension("X-Custom".into()),
            ],
            delimiter: None,
            mailbox: "Sent".into(),
            extended: vec![],
        })),
        "* LSUB (\\Sent \\X-Custom) NIL \"Sent\"\r\n",
    );
}

#[test]
fn mailbox_names_with_8bit_are_literals_unless_utf8_is_enabled() {
    let response = data(Data::Status {
        mailbox: "Entwürfe".into(),
        items: vec![StatusValue::Messages(3)],
    });
    check(
        response.clone(),
        "* STATUS {9}\r\nEntwürfe (MESSAGES 3)\r\n",
    );
    check_with(
        ResponseEncoder::new(true),
        response,
        "* STATUS \"Entwürfe\" (MESSAGES 3)\r\n",
    );
}

#[test]
fn status_response_lists_every_item() {
    check(
        data(Data::Status {
            mailbox: "blurdybloop".into(),
            items: vec![
                StatusValue::Messages(231),
                StatusValue::Recent(0),
                StatusValue::UidNext(44292),
                StatusValue::UidValidity(1),
                StatusValue::Unseen(3),
                StatusValue::Deleted(2),
                StatusValue::Size(123456789012),
                StatusValue::HighestModSeq(7011231777),
                StatusValue::AppendLimit(Some(10240)),
                StatusValue::AppendLimit(None),
                StatusValue::DeletedStorage(77),
            ],
        }),
        "* STATUS \"blurdybloop\" (MESSAGES 231 RECENT 0 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 3 DELETED 2 \
         SIZE 123456789012 HIGHESTMODSEQ 7011231777 APPENDLIMIT 10240 APPENDLIMIT NIL DELETED-STORAGE 77)\r\n",
    );
}

#[test]
fn search_esearch_sort_and_vanished() {
    check(
        data(Data::Search {
            numbers: vec![2, 84, 882],
            modseq: None,
        }),
        "* SEARCH 2 84 882\r\n",
    );
    check(
        data(Data::Search {
            numbers: vec![],
            modseq: None,
        }),
        "* SEARCH\r\n",
    );
    check(
        data(Data::Search {
            numbers: vec![2, 5],
            modseq: Some(917162500),
        }),
        "* SEARCH 2 5 (MODSEQ 917162500)\r\n",
    );
    check(
        data(Data::Sort {
            numbers: vec![5, 3, 4, 1, 2],
            modseq: None,
        }),
        "* SORT 5 3 4 1 2\r\n",
    );
    check(
        data(Data::ESearch(ESearchResponse {
            tag: Some(tag("A282")),
            uid: true,
            min: Some(2),
            max: Some(882),
            count: Some(5),
            all: Some(uids(&[2, 10, 11, 12, 882])),
            modseq: Some(917162500),
        })),
        "* ESEARCH (TAG \"A282\") UID MIN 2 MAX 882 COUNT 5 ALL 2,10:12,882 MODSEQ 917162500\r\n",
    );
    check(
        data(Data::ESearch(ESearchResponse {
            tag: Some(tag("A283")),
            count: Some(0),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"A283\") COUNT 0\r\n",
    );
    check(
        data(Data::Vanished {
            earlier: true,
            uids: uids(&[41, 42, 43, 100, 200, 201]),
        }),
        "* VANISHED (EARLIER) 41:43,100,200:201\r\n",
    );
    check(
        data(Data::Vanished {
            earlier: false,
            uids: uids(&[405]),
        }),
        "* VANISHED 405\r\n",
    );
}

#[test]
fn thread_trees_are_written_as_nested_lists() {
    let leaf = |n| ThreadNode {
        message: Some(n),
        children: vec![],
    };
    let node = |n, children| ThreadNode {
        message: Some(n),
        children,
    };
    // RFC 5256 example: (2)(3 6 (4 23)(44 7 96))
    let roots = vec![
        leaf(2),
        node(
            3,
            vec![node(
                6,
                vec![
                    node(4, vec![leaf(23)]),
                    node(44, vec![node(7, vec![leaf(96)])]),
                ],
            )],
        ),
    ];
    check(
        data(Data::Thread(roots)),
        "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
    );
    // A missing parent with two replies: ((3)(5))
    let dummy = ThreadNode {
        message: None,
        children: vec![leaf(3), leaf(5)],
    };
    check(data(Data::Thread(vec![dummy])), "* THREAD ((3)(5))\r\n");
    check(data(Data::Thread(vec![])), "* THREAD\r\n");
}

#[test]
fn very_long_reply_chains_do_not_recurse() {
    let mut node = ThreadNode {
        message: Some(100_000),
        children: vec![],
    };
    for n in (1..100_000).rev() {
        node = ThreadNode {
            message: Some(n),
            children: vec![node],
        };
    }
    let mut out = Vec::new();
    ResponseEncoder::new(false).data(&mut out, &Data::Thread(vec![node]));
    assert!(out.starts_with(b"* THREAD (1 2 3 "));
    assert!(out.ends_with(b" 99999 100000)\r\n"));
}

#[test]
fn namespace_id_and_quota() {
    let ns = |prefix: &str, delimiter| NamespaceDescription {
        prefix: prefix.into(),
        delimiter,
        extensions: vec![],
    };
    check(
        data(Data::Namespace {
            personal: vec![ns("", Some('/'))],
            other: vec![ns("Other Users/", Some('/'))],
            shared: vec![],
        }),
        "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL\r\n",
    );
    check(
        data(Data::Namespace {
            personal: vec![NamespaceDescription {
                prefix: "".into(),
                delimiter: Some('/'),
                extensions: vec![("X-PARAM".into(), vec!["FLAG1".into(), "FLAG2".into()])],
            }],
            other: vec![],
            shared: vec![],
        }),
        "* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n",
    );
    check(
        data(Data::Id(Some(vec![
            ("name".into(), Some("groxide".into())),
            ("support-url".into(), None),
        ]))),
        "* ID (\"name\" \"groxide\" \"support-url\" NIL)\r\n",
    );
    check(data(Data::Id(None)), "* ID NIL\r\n");
    check(
        data(Data::Quota {
            root: "".into(),
            resources: vec![
                QuotaResource {
                    name: "STORAGE".into(),
                    usage: 10,
                    limit: 512,
                },
                QuotaResource {
                    name: "MESSAGE".into(),
                    usage: 2,
                    limit: 100,
                },
            ],
        }),
        "* QUOTA \"\" (STORAGE 10 512 MESSAGE 2 100)\r\n",
    );
    check(
        data(Data::QuotaRoot {
            mailbox: "INBOX".into(),
            roots: vec!["".into(), "user.x".into()],
        }),
        "* QUOTAROOT \"INBOX\" \"\" user.x\r\n",
    );
}

#[test]
fn fetch_responses_write_each_item_kind() {
    let date = ImapDateTime::parse(b"17-Jul-1996 02:44:25 -0700").unwrap();
    let section = Section {
        part: vec![1, 2],
        text: Some(SectionText::HeaderFields(vec!["From".into(), "X Y".into()])),
    };
    check(
        data(Data::Fetch(FetchResponse {
            seq: 12,
            items: vec![
                FetchValue::Uid(4827313),
                FetchValue::Flags(vec![
                    Flag::Seen,
                    Flag::Recent,
                    Flag::Keyword("$Junk".into()),
                ]),
                FetchValue::InternalDate(date),
                FetchValue::Rfc822Size(44827),
                FetchValue::ModSeq(12121231000),
                FetchValue::Envelope(b"(NIL \"subject\" NIL NIL NIL NIL NIL NIL NIL NIL)".to_vec()),
                FetchValue::BodyStructure(
                    b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)".to_vec(),
                ),
                FetchValue::Section {
                    name: FetchBodyName::Body {
                        section: section.clone(),
                        origin: Some(0),
                    },
                    data: Some(b"From: a\r\n\r\n".to_vec()),
                },
                FetchValue::Section {
                    name: FetchBodyName::Binary {
                        part: vec![3],
                        origin: None,
                    },
                    data: Some(b"a\0b".to_vec()),
                },
                FetchValue::Section {
                    name: FetchBodyName::Rfc822Text,
                    data: None,
                },
                FetchValue::BinarySize {
                    part: vec![3],
                    size: 3,
                },
            ],
        })),
        "* 12 FETCH (UID 4827313 FLAGS (\\Seen \\Recent $Junk) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
         RFC822.SIZE 44827 MODSEQ (12121231000) ENVELOPE (NIL \"subject\" NIL NIL NIL NIL NIL NIL NIL NIL) \
         BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1) \
         BODY[1.2.HEADER.FIELDS (From \"X Y\")]<0> {11}\r\nFrom: a\r\n\r\n BINARY[3] ~{3}\r\na\0b RFC822.TEXT NIL \
         BINARY.SIZE[3] 3)\r\n",
    );
}

#[test]
fn fetch_writer_streams_a_body_between_items() {
    let mut out = Vec::new();
    let mut flushed = Vec::new();
    let mut w = FetchWriter::start(&mut out, 3, false);
    w.uid(&mut out, 9);
    w.literal_header(&mut out, &FetchBodyName::Rfc822, 4, false);
    flushed.append(&mut out);
    flushed.extend_from_slice(b"ABCD"); // streamed from the content file
    w.rfc822_size(&mut out, 4);
    w.finish(&mut out);
    flushed.append(&mut out);
    assert_eq!(
        flushed,
        b"* 3 FETCH (UID 9 RFC822 {4}\r\nABCD RFC822.SIZE 4)\r\n"
    );
}

#[test]
fn partial_fetch_origin_is_written_in_angle_brackets() {
    let mut out = Vec::new();
    let mut w = FetchWriter::start(&mut out, 1, false);
    let name = FetchBodyName::Body {
        section: Section {
            part: vec![],
            text: Some(SectionText::Text),
        },
        origin: Some(100),
    };
    w.section(&mut out, &name, Some(b"short"));
    w.finish(&mut out);
    assert_eq!(out, b"* 1 FETCH (BODY[TEXT]<100> \"short\")\r\n");
}

#[test]
fn large_capability_and_list_transcript_snapshot() {
    let enc = ResponseEncoder::new(false);
    let mut out = Vec::new();
    let responses = vec![
        Response::Status(
            StatusResponse::untagged(Status::Ok, "groxide ready").with_code(
                ResponseCode::Capability(
                    [
                        "IMAP4rev1",
                        "IMAP4rev2",
                        "LITERAL+",
                        "SASL-IR",
                        "ID",
                        "ENABLE",
                        "IDLE",
                        "NAMESPACE",
                        "UNSELECT",
                        "UIDPLUS",
                        "MOVE",
                        "CHILDREN",
                        "SPECIAL-USE",
                        "LIST-EXTENDED",
                        "LIST-STATUS",
                        "STATUS=SIZE",
                        "CONDSTORE",
                        "QRESYNC",
                        "ESEARCH",
                        "SEARCHRES",
                        "SORT",
                        "THREAD=REFERENCES",
                        "THREAD=ORDEREDSUBJECT",
                        "BINARY",
                        "APPENDLIMIT=67108864",
                        "QUOTA",
                        "COMPRESS=DEFLATE",
                        "UTF8=ACCEPT",
                        "AUTH=PLAIN",
                        "AUTH=LOGIN",
                    ]
                    .map(String::from)
                    .to_vec(),
                ),
            ),
        ),
        data(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ])),
        data(Data::Exists(18)),
        Response::Status(
            StatusResponse::untagged(Status::Ok, "Flags permitted").with_code(
                ResponseCode::PermanentFlags(vec![
                    PermanentFlag::Flag(Flag::Seen),
                    PermanentFlag::AnyKeyword,
                ]),
            ),
        ),
        Response::Status(
            StatusResponse::untagged(Status::Ok, "UIDs valid")
                .with_code(ResponseCode::UidValidity(3857529045)),
        ),
        Response::Status(
            StatusResponse::untagged(Status::Ok, "Predicted next UID")
                .with_code(ResponseCode::UidNext(4392)),
        ),
        Response::Status(
            StatusResponse::untagged(Status::Ok, "Highest")
                .with_code(ResponseCode::HighestModSeq(715194045007)),
        ),
        Response::Status(
            StatusResponse::tagged(tag("A142"), Status::Ok, "SELECT completed")
                .with_code(ResponseCode::ReadWrite),
        ),
    ];
    for r in &responses {
        enc.encode(&mut out, r);
    }
    insta::assert_snapshot!(String::from_utf8_lossy(&out));
}
