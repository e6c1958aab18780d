use std::num::{NonZeroU32, NonZeroU64};

use super::*;
use crate::attribute::MailboxAttribute;
use crate::command::*;
use crate::datetime::{ImapDate, ImapDateTime};
use crate::flag::Flag;
use crate::limits::DEFAULT_LIMITS;
use crate::sequence::{SeqNumber, SeqRange, SequenceSet};

fn parse(input: &str) -> Result<Command, CommandError> {
    parse_command(input.as_bytes(), &DEFAULT_LIMITS)
}

/// Parses `tag SP input CRLF` and compares the body.
fn check(input: &str, expected: CommandBody) {
    let line = format!("t1 {input}\r\n");
    let input = short(input);
    match parse(&line) {
        Ok(cmd) => {
            assert_eq!(cmd.tag.as_str(), "t1");
            assert_eq!(cmd.body, expected, "{input}");
        }
        Err(e) => panic!("{input}: {e}"),
    }
}

/// Parses `tag SP input CRLF` and compares the error message.
fn check_err(input: &str, message: &str) {
    let line = format!("t1 {input}\r\n");
    let input = short(input);
    match parse(&line) {
        Ok(cmd) => panic!("{input}: parsed as {cmd:?}"),
        Err(e) => assert_eq!(e.to_string(), message, "{input}"),
    }
}

/// The input shortened for assertion messages.
fn short(input: &str) -> String {
    input.chars().take(80).collect()
}

fn set(text: &str) -> SequenceSet {
    let mut c = crate::lexer::Cursor::new(text.as_bytes(), &[], &DEFAULT_LIMITS);
    crate::sequence::parse_sequence_set(&mut c).unwrap()
}

fn mb(name: &str) -> Mailbox {
    Mailbox::new(name)
}

fn fetch(uid: bool, seq: &str, items: FetchItems) -> CommandBody {
    CommandBody::Fetch(FetchCommand {
        uid,
        set: set(seq),
        items,
        changed_since: None,
        vanished: false,
    })
}

fn search(criteria: Vec<SearchKey>) -> CommandBody {
    CommandBody::Search(SearchCommand {
        uid: false,
        return_options: None,
        charset: None,
        criteria,
    })
}

fn date(y: u16, m: u8, d: u8) -> ImapDate {
    ImapDate::new(y, m, d).unwrap()
}

#[test]
fn simple_commands_parse_case_insensitively() {
    check("CAPABILITY", CommandBody::Capability);
    check("noop", CommandBody::Noop);
    check("Logout", CommandBody::Logout);
    check("STARTTLS", CommandBody::StartTls);
    check("NAMESPACE", CommandBody::Namespace);
    check("IDLE", CommandBody::Idle);
    check("CHECK", CommandBody::Check);
    check("CLOSE", CommandBody::Close);
    check("UNSELECT", CommandBody::Unselect);
    check("EXPUNGE", CommandBody::Expunge);
}

#[test]
fn login_takes_atoms_quoted_strings_and_literals() {
    check(
        "LOGIN alice secret",
        CommandBody::Login {
            username: b"alice".to_vec(),
            password: b"secret".to_vec(),
        },
    );
    check(
        "LOGIN \"al ice\" {6}\r\nse\"c t",
        CommandBody::Login {
            username: b"al ice".to_vec(),
            password: b"se\"c t".to_vec(),
        },
    );
}

#[test]
fn authenticate_decodes_initial_response_and_equals_means_empty() {
    check(
        "AUTHENTICATE PLAIN",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Plain,
            initial_response: None,
        },
    );
    check(
        "authenticate plain AGFsaWNlAHNlY3JldA==",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Plain,
            initial_response: Some(b"\0alice\0secret".to_vec()),
        },
    );
    check(
        "AUTHENTICATE LOGIN =",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Login,
            initial_response: Some(Vec::new()),
        },
    );
    check(
        "AUTHENTICATE XOAUTH2",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Other("XOAUTH2".into()),
            initial_response: None,
        },
    );
    check_err(
        "AUTHENTICATE PLAIN AGFsaWNl!",
        "unexpected characters after the command arguments",
    );
    check_err("AUTHENTICATE PLAIN AGF", "invalid base64 data");
}

#[test]
fn inbox_is_case_insensitive_but_other_names_are_not() {
    check(
        "SELECT inbox",
        CommandBody::Select {
            mailbox: mb("INBOX"),
            params: SelectParams::default(),
        },
    );
    check(
        "DELETE Inbox/Sub",
        CommandBody::Delete {
            mailbox: mb("Inbox/Sub"),
        },
    );
    assert_eq!(mb("Inbox/Sub").as_str(), "Inbox/Sub");
    check(
        "RENAME \"a b\" c",
        CommandBody::Rename {
            from: mb("a b"),
            to: mb("c"),
        },
    );
    check(
        "SUBSCRIBE \"Grüße\"",
        CommandBody::Subscribe {
            mailbox: mb("Grüße"),
        },
    );
    check(
        "UNSUBSCRIBE x",
        CommandBody::Unsubscribe { mailbox: mb("x") },
    );
}

#[test]
fn select_takes_condstore_and_qresync_parameters() {
    check(
        "SELECT INBOX (CONDSTORE)",
        CommandBody::Select {
            mailbox: mb("INBOX"),
            params: SelectParams {
                condstore: true,
                qresync: None,
            },
        },
    );
    let q = QresyncParams {
        uid_validity: NonZeroU32::new(67890007).unwrap(),
        mod_seq: NonZeroU64::new(90060115194045000).unwrap(),
        known_uids: Some(set("41:211,214:541")),
        seq_match: None,
    };
    check(
        "EXAMINE INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541))",
        CommandBody::Examine {
            mailbox: mb("INBOX"),
            params: SelectParams {
                condstore: false,
                qresync: Some(q),
            },
        },
    );
    let q = QresyncParams {
        uid_validity: NonZeroU32::new(67890007).unwrap(),
        mod_seq: NonZeroU64::new(90060115194045000).unwrap(),
        known_uids: Some(set("1:29997")),
        seq_match: Some((
            set("5000,7500,9000,9990:9999"),
            set("15000,22500,27000,29970,29973,29976,29979"),
        )),
    };
    check(
        "SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979)))",
        CommandBody::Select {
            mailbox: mb("INBOX"),
            params: SelectParams {
                condstore: false,
                qresync: Some(q),
            },
        },
    );
    check_err("SELECT INBOX (QRESYNC (0 5))", "number out of range");
    check_err("SELECT INBOX (QRESYNC (1 5 1:*))", "invalid sequence set");
    check_err("SELECT INBOX (FOO)", "unknown select parameter FOO");
    check_err("SELECT INBOX ()", "expected select parameters");
}

#[test]
fn fetch_items_macros_sections_and_partials_parse() {
    check("FETCH 1:* ALL", fetch(false, "1:*", FetchItems::All));
    check("FETCH 1 fast", fetch(false, "1", FetchItems::Fast));
    check("FETCH 1 FULL", fetch(false, "1", FetchItems::Full));
    check(
        "FETCH 2 UID",
        fetch(false, "2", FetchItems::List(vec![FetchItem::Uid])),
    );
    check(
        "UID FETCH 1:* (FLAGS BODY.PEEK[])",
        fetch(
            true,
            "1:*",
            FetchItems::List(vec![
                FetchItem::Flags,
                FetchItem::BodySection {
                    peek: true,
                    section: Section::default(),
                    partial: None,
                },
            ]),
        ),
    );
    check(
        "FETCH 3 (BODY[1.2.HEADER.FIELDS (From \"To\")]<0.100> BODY[4.MIME] BODY[TEXT] BODY[HEADER.FIELDS.NOT (X)])",
        fetch(
            false,
            "3",
            FetchItems::List(vec![
                FetchItem::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![1, 2],
                        text: Some(SectionText::HeaderFields(vec!["From".into(), "To".into()])),
                    },
                    partial: Some(Partial {
                        offset: 0,
                        length: NonZeroU64::new(100).unwrap(),
                    }),
                },
                FetchItem::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![4],
                        text: Some(SectionText::Mime),
                    },
                    partial: None,
                },
                FetchItem::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::Text),
                    },
                    partial: None,
                },
                FetchItem::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::HeaderFieldsNot(vec!["X".into()])),
                    },
                    partial: None,
                },
            ]),
        ),
    );
    check(
        "FETCH 1 (ENVELOPE BODYSTRUCTURE BODY INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT MODSEQ)",
        fetch(
            false,
            "1",
            FetchItems::List(vec![
                FetchItem::Envelope,
                FetchItem::BodyStructure,
                FetchItem::Body,
                FetchItem::InternalDate,
                FetchItem::Rfc822,
                FetchItem::Rfc822Header,
                FetchItem::Rfc822Size,
                FetchItem::Rfc822Text,
                FetchItem::ModSeq,
            ]),
        ),
    );
    check(
        "FETCH 1 (BINARY[1.2]<5.10> BINARY.PEEK[] BINARY.SIZE[3])",
        fetch(
            false,
            "1",
            FetchItems::List(vec![
                FetchItem::Binary {
                    peek: false,
                    part: vec![1, 2],
                    partial: Some(Partial {
                        offset: 5,
                        length: NonZeroU64::new(10).unwrap(),
                    }),
                },
                FetchItem::Binary {
                    peek: true,
                    part: vec![],
                    partial: None,
                },
                FetchItem::BinarySize { part: vec![3] },
            ]),
        ),
    );
}

#[test]
fn fetch_modifiers_changedsince_and_vanished() {
    check(
        "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
        CommandBody::Fetch(FetchCommand {
            uid: true,
            set: set("1:*"),
            items: FetchItems::List(vec![FetchItem::Flags]),
            changed_since: Some(12345),
            vanished: true,
        }),
    );
    check_err(
        "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
        "invalid VANISHED without UID FETCH and CHANGEDSINCE",
    );
    check_err(
        "UID FETCH 1:* (FLAGS) (VANISHED)",
        "invalid VANISHED without UID FETCH and CHANGEDSINCE",
    );
}

#[test]
fn malformed_fetches_name_the_problem() {
    check_err("FETCH 1 (FLAGS", "unexpected end of command");
    check_err("FETCH 1 (FLAGS UID]", "expected SP");
    check_err("FETCH 1 BODY[1.MIMEX]", "unknown section MIMEX");
    check_err("FETCH 1 BODY[MIME]", "unknown section MIME");
    check_err("FETCH 1 BODY[0]", "invalid section part number");
    check_err("FETCH 1 BODY[]<1.0>", "number out of range");
    check_err("FETCH 1 FOO", "unknown fetch item FOO");
    check_err("FETCH 0 FLAGS", "invalid sequence set");
    check_err("FETCH 1,x FLAGS", "invalid sequence set");
    check_err("FETCH 1 ()", "expected fetch items");
    check_err("FETCH", "unexpected end of command");
}

#[test]
fn saved_search_result_is_a_sequence_set() {
    check(
        "FETCH $ (UID)",
        fetch(false, "$", FetchItems::List(vec![FetchItem::Uid])),
    );
    check(
        "UID COPY $ Archive",
        CommandBody::Copy {
            uid: true,
            set: SequenceSet::Saved,
            mailbox: mb("Archive"),
        },
    );
    check(
        "SEARCH $ SEEN",
        search(vec![
            SearchKey::SequenceSet(SequenceSet::Saved),
            SearchKey::Seen,
        ]),
    );
    check_err("FETCH $,1 FLAGS", "invalid sequence set");
}

#[test]
fn store_forms_parse() {
    let store = |uid, action, silent, flags, unchanged_since| {
        CommandBody::Store(StoreCommand {
            uid,
            set: set("1:3"),
            unchanged_since,
            action,
            silent,
            flags,
        })
    };
    check(
        "STORE 1:3 FLAGS (\\Seen)",
        store(false, StoreAction::Replace, false, vec![Flag::Seen], None),
    );
    check(
        "UID STORE 1:3 +FLAGS.SILENT (\\Deleted $Junk)",
        store(
            true,
            StoreAction::Add,
            true,
            vec![Flag::Deleted, Flag::Keyword("$Junk".into())],
            None,
        ),
    );
    check(
        "STORE 1:3 -FLAGS \\Flagged \\Draft",
        store(
            false,
            StoreAction::Remove,
            false,
            vec![Flag::Flagged, Flag::Draft],
            None,
        ),
    );
    check(
        "STORE 1:3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)",
        store(
            false,
            StoreAction::Add,
            true,
            vec![Flag::Deleted],
            Some(320162338),
        ),
    );
    check(
        "STORE 1:3 FLAGS ()",
        store(false, StoreAction::Replace, false, vec![], None),
    );
    check_err("STORE 1:3 LABELS (x)", "unknown store item LABELS");
    check_err(
        "STORE 1:3 (UNCHANGEDSINCE x) FLAGS (\\Seen)",
        "expected number",
    );
}

#[test]
fn copy_move_and_uid_expunge_parse() {
    check(
        "COPY 2:4 MEETING",
        CommandBody::Copy {
            uid: false,
            set: set("2:4"),
            mailbox: mb("MEETING"),
        },
    );
    check(
        "MOVE 1 Trash",
        CommandBody::Move {
            uid: false,
            set: set("1"),
            mailbox: mb("Trash"),
        },
    );
    check(
        "UID MOVE 5:* \"Deleted Items\"",
        CommandBody::Move {
            uid: true,
            set: set("5:*"),
            mailbox: mb("Deleted Items"),
        },
    );
    check(
        "UID EXPUNGE 3000:3002",
        CommandBody::UidExpunge {
            uids: set("3000:3002"),
        },
    );
    check_err("UID NOOP", "unknown command NOOP");
}

#[test]
fn search_keys_cover_every_rfc_key() {
    check(
        "SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
        search(vec![
            SearchKey::All,
            SearchKey::Answered,
            SearchKey::Deleted,
            SearchKey::Draft,
            SearchKey::Flagged,
            SearchKey::New,
            SearchKey::Old,
            SearchKey::Recent,
            SearchKey::Seen,
            SearchKey::Unanswered,
            SearchKey::Undeleted,
            SearchKey::Undraft,
            SearchKey::Unflagged,
            SearchKey::Unseen,
        ]),
    );
    check(
        "SEARCH BCC a BODY \"b c\" CC d FROM e SUBJECT {3}\r\nf g TEXT h TO i",
        search(vec![
            SearchKey::Bcc(b"a".to_vec()),
            SearchKey::Body(b"b c".to_vec()),
            SearchKey::Cc(b"d".to_vec()),
            SearchKey::From(b"e".to_vec()),
            SearchKey::Subject(b"f g".to_vec()),
            SearchKey::Text(b"h".to_vec()),
            SearchKey::To(b"i".to_vec()),
        ]),
    );
    check(
        "SEARCH BEFORE 1-Feb-1994 ON \"01-Feb-1994\" SINCE 1-feb-1994 SENTBEFORE 2-Mar-2000 SENTON 2-Mar-2000 SENTSINCE 29-Feb-2024",
        search(vec![
            SearchKey::Before(date(1994, 2, 1)),
            SearchKey::On(date(1994, 2, 1)),
            SearchKey::Since(date(1994, 2, 1)),
            SearchKey::SentBefore(date(2000, 3, 2)),
            SearchKey::SentOn(date(2000, 3, 2)),
            SearchKey::SentSince(date(2024, 2, 29)),
        ]),
    );
    check(
        "SEARCH HEADER Message-ID \"<x@y>\" KEYWORD $Junk UNKEYWORD NonJunk LARGER 100 SMALLER 5000000000 OLDER 60 YOUNGER 3600",
        search(vec![
            SearchKey::Header {
                field: "Message-ID".into(),
                value: b"<x@y>".to_vec(),
            },
            SearchKey::Keyword("$Junk".into()),
            SearchKey::Unkeyword("NonJunk".into()),
            SearchKey::Larger(100),
            SearchKey::Smaller(5_000_000_000),
            SearchKey::Older(60),
            SearchKey::Younger(3600),
        ]),
    );
    check(
        "SEARCH UID 1:5,7 2:4 NOT SEEN OR FROM a (TO b CC c)",
        search(vec![
            SearchKey::Uid(set("1:5,7")),
            SearchKey::SequenceSet(set("2:4")),
            SearchKey::Not(Box::new(SearchKey::Seen)),
            SearchKey::Or(
                Box::new(SearchKey::From(b"a".to_vec())),
                Box::new(SearchKey::And(vec![
                    SearchKey::To(b"b".to_vec()),
                    SearchKey::Cc(b"c".to_vec()),
                ])),
            ),
        ]),
    );
}

#[test]
fn search_modseq_with_and_without_entry() {
    check(
        "SEARCH MODSEQ 620162338",
        search(vec![SearchKey::ModSeq {
            entry: None,
            modseq: 620162338,
        }]),
    );
    check(
        "SEARCH OR NOT MODSEQ 720162338 LARGER 50000 MODSEQ \"/flags/\\\\draft\" all 620162338",
        search(vec![
            SearchKey::Or(
                Box::new(SearchKey::Not(Box::new(SearchKey::ModSeq {
                    entry: None,
                    modseq: 720162338,
                }))),
                Box::new(SearchKey::Larger(50000)),
            ),
            SearchKey::ModSeq {
                entry: Some(ModSeqEntry {
                    flag: Flag::Draft,
                    kind: ModSeqEntryKind::All,
                }),
                modseq: 620162338,
            },
        ]),
    );
    check_err(
        "SEARCH MODSEQ \"/x/\\\\draft\" all 1",
        "invalid MODSEQ entry name",
    );
}

#[test]
fn search_charset_and_esearch_return_options() {
    check(
        "UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET UTF-8 SUBJECT \"Grüße\"",
        CommandBody::Search(SearchCommand {
            uid: true,
            return_options: Some(vec![
                SearchReturnOption::Min,
                SearchReturnOption::Max,
                SearchReturnOption::Count,
                SearchReturnOption::All,
                SearchReturnOption::Save,
            ]),
            charset: Some("UTF-8".into()),
            criteria: vec![SearchKey::Subject("Grüße".as_bytes().to_vec())],
        }),
    );
    check(
        "SEARCH RETURN () ALL",
        CommandBody::Search(SearchCommand {
            uid: false,
            return_options: Some(vec![]),
            charset: None,
            criteria: vec![SearchKey::All],
        }),
    );
    check_err(
        "SEARCH RETURN (FOO) ALL",
        "unknown search return option FOO",
    );
}

#[test]
fn malformed_searches_name_the_problem() {
    check_err("SEARCH FOO", "unknown search key FOO");
    check_err(
        "SEARCH BEFORE 31-Feb-2020",
        "invalid date (expected d-Mon-yyyy)",
    );
    check_err(
        "SEARCH BEFORE 1-Feb-94",
        "invalid date (expected d-Mon-yyyy)",
    );
    check_err("SEARCH ()", "expected search key");
    check_err("SEARCH", "unexpected end of command");
    check_err("SEARCH OR SEEN", "unexpected end of command");
    check_err("SEARCH SUBJECT \"unterminated", "expected closing quote");
}

#[test]
fn deep_search_nesting_is_refused() {
    let deep = "NOT ".repeat(100) + "SEEN";
    check_err(
        &format!("SEARCH {deep}"),
        "nesting too deep (max 32 levels)",
    );
    let parens = "(".repeat(100) + "SEEN" + &")".repeat(100);
    check_err(
        &format!("SEARCH {parens}"),
        "nesting too deep (max 32 levels)",
    );
    let ok = "NOT ".repeat(31) + "SEEN";
    assert!(parse(&format!("t SEARCH {ok}\r\n")).is_ok());
}

#[test]
fn too_many_tokens_are_refused() {
    let keys = vec!["SEEN"; DEFAULT_LIMITS.max_tokens + 1].join(" ");
    check_err(&format!("SEARCH {keys}"), "too many arguments (max 32768)");
}

#[test]
fn sort_and_thread_parse() {
    check(
        "UID SORT (REVERSE DATE SUBJECT) UTF-8 SINCE 1-Feb-1994",
        CommandBody::Sort(SortCommand {
            uid: true,
            return_options: None,
            criteria: vec![
                SortCriterion {
                    reverse: true,
                    key: SortKey::Date,
                },
                SortCriterion {
                    reverse: false,
                    key: SortKey::Subject,
                },
            ],
            charset: "UTF-8".into(),
            search: vec![SearchKey::Since(date(1994, 2, 1))],
        }),
    );
    check(
        "SORT RETURN (MIN COUNT) (ARRIVAL DISPLAYFROM) US-ASCII ALL",
        CommandBody::Sort(SortCommand {
            uid: false,
            return_options: Some(vec![SearchReturnOption::Min, SearchReturnOption::Count]),
            criteria: vec![
                SortCriterion {
                    reverse: false,
                    key: SortKey::Arrival,
                },
                SortCriterion {
                    reverse: false,
                    key: SortKey::DisplayFrom,
                },
            ],
            charset: "US-ASCII".into(),
            search: vec![SearchKey::All],
        }),
    );
    check(
        "THREAD REFERENCES UTF-8 ALL",
        CommandBody::Thread(ThreadCommand {
            uid: false,
            algorithm: ThreadAlgorithm::References,
            charset: "UTF-8".into(),
            search: vec![SearchKey::All],
        }),
    );
    check(
        "UID THREAD orderedsubject \"UTF-8\" SEEN UNDELETED",
        CommandBody::Thread(ThreadCommand {
            uid: true,
            algorithm: ThreadAlgorithm::OrderedSubject,
            charset: "UTF-8".into(),
            search: vec![SearchKey::Seen, SearchKey::Undeleted],
        }),
    );
    check_err("SORT () UTF-8 ALL", "expected sort criteria");
    check_err("SORT (WEIGHT) UTF-8 ALL", "unknown sort key WEIGHT");
    check_err("SORT (DATE) UTF-8", "unexpected end of command");
}

#[test]
fn list_basic_and_extended_forms_parse() {
    let list = |selection, reference: &str, patterns: &[&str], return_options| {
        CommandBody::List(ListCommand {
            selection,
            reference: reference.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            return_options,
        })
    };
    check("LIST \"\" *", list(vec![], "", &["*"], vec![]));
    check("LIST \"\" \"\"", list(vec![], "", &[""], vec![]));
    check("LIST ~/Mail/ %", list(vec![], "~/Mail/", &["%"], vec![]));
    check(
        "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX* \"Other Users/%\")",
        list(
            vec![
                ListSelectOption::Subscribed,
                ListSelectOption::RecursiveMatch,
            ],
            "",
            &["INBOX*", "Other Users/%"],
            vec![],
        ),
    );
    check(
        "LIST (SPECIAL-USE REMOTE) \"\" * RETURN (CHILDREN SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))",
        list(
            vec![ListSelectOption::SpecialUse, ListSelectOption::Remote],
            "",
            &["*"],
            vec![
                ListReturnOption::Children,
                ListReturnOption::Subscribed,
                ListReturnOption::SpecialUse,
                ListReturnOption::Status(vec![
                    StatusItem::Messages,
                    StatusItem::Unseen,
                    StatusItem::Size,
                ]),
            ],
        ),
    );
    check("LIST \"\" % RETURN ()", list(vec![], "", &["%"], vec![]));
    check_err(
        "LIST (RECURSIVEMATCH) \"\" *",
        "invalid RECURSIVEMATCH without another selection option",
    );
    check_err(
        "LIST (REMOTE RECURSIVEMATCH) \"\" *",
        "invalid RECURSIVEMATCH without another selection option",
    );
    check_err("LIST (FOO) \"\" *", "unknown list selection option FOO");
    check_err("LIST \"\" * (CHILDREN)", "expected RETURN");
    check(
        "LSUB \"#news.\" \"comp.mail.*\"",
        CommandBody::Lsub {
            reference: "#news.".into(),
            pattern: "comp.mail.*".into(),
        },
    );
}

#[test]
fn status_items_include_extension_items() {
    check(
        "STATUS blurdybloop (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT DELETED-STORAGE)",
        CommandBody::Status {
            mailbox: mb("blurdybloop"),
            items: StatusItem::ALL.to_vec(),
        },
    );
    check_err("STATUS x ()", "expected status items");
    check_err("STATUS x (WHATEVER)", "unknown status item WHATEVER");
}

#[test]
fn create_takes_special_use_attributes() {
    check(
        "CREATE owatagusiam/",
        CommandBody::Create {
            mailbox: mb("owatagusiam/"),
            special_use: vec![],
        },
    );
    check(
        "CREATE MySpecialArchive (USE (\\Archive \\Drafts))",
        CommandBody::Create {
            mailbox: mb("MySpecialArchive"),
            special_use: vec![MailboxAttribute::Archive, MailboxAttribute::Drafts],
        },
    );
    check_err("CREATE x (COLOR red)", "unknown create parameter COLOR");
}

#[test]
fn append_forms_parse_with_inline_data() {
    let message = |flags, internal_date, form, data: &[u8]| AppendMessage {
        flags,
        internal_date,
        form,
        content: AppendContent::Inline(data.to_vec()),
    };
    check(
        "APPEND saved-messages (\\Seen) \"07-Feb-1994 21:52:25 -0800\" {5}\r\nHello",
        CommandBody::Append(AppendCommand {
            mailbox: mb("saved-messages"),
            messages: vec![message(
                vec![Flag::Seen],
                ImapDateTime::parse(b"07-Feb-1994 21:52:25 -0800"),
                AppendForm::Literal,
                b"Hello",
            )],
        }),
    );
    check(
        "APPEND INBOX ~{3}\r\na\0b UTF8 (~{2}\r\nhi) () {0}\r\n",
        CommandBody::Append(AppendCommand {
            mailbox: mb("INBOX"),
            messages: vec![
                message(vec![], None, AppendForm::Binary, b"a\0b"),
                message(vec![], None, AppendForm::Utf8, b"hi"),
                message(vec![], None, AppendForm::Literal, b""),
            ],
        }),
    );
    check_err("APPEND INBOX", "unexpected end of command");
    check_err(
        "APPEND INBOX \"bad date\" {1}\r\nx",
        "invalid date-time (expected \"dd-Mon-yyyy hh:mm:ss +zzzz\")",
    );
    check_err("APPEND INBOX hello", "expected message literal");
}

#[test]
fn enable_id_quota_and_compress_parse() {
    check(
        "ENABLE CONDSTORE qresync UTF8=ACCEPT IMAP4rev2 X-FOO",
        CommandBody::Enable {
            capabilities: vec![
                EnableCapability::CondStore,
                EnableCapability::QResync,
                EnableCapability::Utf8Accept,
                EnableCapability::Imap4Rev2,
                EnableCapability::Other("X-FOO".into()),
            ],
        },
    );
    check_err("ENABLE", "expected capability to enable");
    check("ID NIL", CommandBody::Id { parameters: None });
    check(
        "ID (\"name\" \"sodr\" \"version\" NIL)",
        CommandBody::Id {
            parameters: Some(vec![
                ("name".into(), Some("sodr".into())),
                ("version".into(), None),
            ]),
        },
    );
    check(
        "ID ()",
        CommandBody::Id {
            parameters: Some(vec![]),
        },
    );
    check(
        "GETQUOTA \"\"",
        CommandBody::GetQuota {
            root: String::new(),
        },
    );
    check(
        "GETQUOTAROOT INBOX",
        CommandBody::GetQuotaRoot {
            mailbox: mb("INBOX"),
        },
    );
    check(
        "SETQUOTA \"\" (storage 512 MESSAGE 1000)",
        CommandBody::SetQuota {
            root: String::new(),
            limits: vec![
                QuotaLimit {
                    resource: "STORAGE".into(),
                    limit: 512,
                },
                QuotaLimit {
                    resource: "MESSAGE".into(),
                    limit: 1000,
                },
            ],
        },
    );
    check(
        "COMPRESS deflate",
        CommandBody::Compress {
            algorithm: "DEFLATE".into(),
        },
    );
}

#[test]
fn tags_and_command_names_are_validated() {
    let err = |input: &str| parse(input).unwrap_err();
    assert_eq!(err("+1 NOOP\r\n").error, ParseError::InvalidTag);
    assert_eq!(err("a+ NOOP\r\n").error, ParseError::InvalidTag);
    assert_eq!(err("a1\r\n").error, ParseError::MissingCommand);
    assert_eq!(err(" NOOP\r\n").error, ParseError::InvalidTag);
    let long_tag = "a".repeat(65);
    assert_eq!(
        err(&format!("{long_tag} NOOP\r\n")).error,
        ParseError::TagTooLong { max: 64 }
    );
    let e = err("a1 FROB x\r\n");
    assert_eq!(e.tag.as_ref().map(Tag::as_str), Some("a1"));
    assert_eq!(e.to_string(), "unknown command FROB");
    assert_eq!(err("a1 NOOP extra\r\n").error, ParseError::TrailingData);
    assert_eq!(err("a1 NOOP").error, ParseError::UnexpectedEnd);
    assert_eq!(err("a1 NOOP\r\nx").error, ParseError::TrailingData);
}

#[test]
fn string_rules_are_enforced() {
    check_err(
        "LOGIN {3}\r\na\0b x",
        "NUL byte in literal (only binary literals ~{N} may contain NUL)",
    );
    check_err("LOGIN ~{1}\r\na x", "binary literal not allowed here");
    check_err("LOGIN {9}\r\nab x", "literal data missing");
    let e = parse_command(b"t SELECT {2}\r\n\xc3\x28\r\n", &DEFAULT_LIMITS).unwrap_err();
    assert_eq!(e.error, ParseError::InvalidUtf8);
    check_err("LOGIN \"a\\b\" x", "invalid escape in quoted string");
}

#[test]
fn unknown_command_names_are_quoted_safely_in_messages() {
    let long = "X".repeat(100);
    let e = parse(&format!("a {long}\r\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("unknown command {}...", "X".repeat(40))
    );
}

#[test]
fn sequence_ranges_keep_their_written_order() {
    let CommandBody::Fetch(f) = parse("a FETCH 9:7 UID\r\n").unwrap().body else {
        panic!()
    };
    let seven = SeqNumber::Value(NonZeroU32::new(7).unwrap());
    let nine = SeqNumber::Value(NonZeroU32::new(9).unwrap());
    assert_eq!(
        f.set,
        SequenceSet::Ranges(vec![SeqRange {
            start: nine,
            end: seven
        }])
    );
}
