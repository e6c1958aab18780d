//! Round trips over generated commands: `parse(encode(cmd)) == cmd`, both
//! through `parse_command` and through the `Receiver` framing.

#![allow(clippy::unwrap_used)] // generators build values that are valid by construction

use std::num::{NonZeroU32, NonZeroU64};

use groxide_imap_proto::*;
use proptest::collection::vec;
use proptest::prelude::*;

const MAX64: u64 = i64::MAX as u64;

fn tag() -> impl Strategy<Value = Tag> {
    "[A-Za-z0-9.]{1,8}".prop_map(|t| Tag::new(&t).unwrap())
}

/// Any text IMAP can carry in a string (no NUL).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]{0,8}",
        "[ -~]{0,12}",
        "[^\u{0}]{0,12}",
        Just("NIL".to_string()),
        Just("INBOX".to_string()),
        Just("a\r\nb".to_string()),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![text().prop_map(String::into_bytes), vec(1u8..=255, 0..20)]
}

fn atom() -> impl Strategy<Value = String> {
    "[A-Za-z0-9$_.-]{1,10}"
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    text().prop_map(Mailbox::new)
}

fn seq_number() -> impl Strategy<Value = SeqNumber> {
    prop_oneof![
        4 => any::<NonZeroU32>().prop_map(SeqNumber::Value),
        4 => (1u32..100).prop_map(|n| SeqNumber::Value(NonZeroU32::new(n).unwrap())),
        1 => Just(SeqNumber::Largest),
    ]
}

fn sequence_set() -> impl Strategy<Value = SequenceSet> {
    prop_oneof![
        8 => vec((seq_number(), seq_number()).prop_map(|(start, end)| SeqRange { start, end }), 1..5)
            .prop_map(SequenceSet::Ranges),
        1 => Just(SequenceSet::Saved),
    ]
}

fn known_set() -> impl Strategy<Value = SequenceSet> {
    vec((1u32..1000, 1u32..1000), 1..4).prop_map(|r| {
        SequenceSet::Ranges(
            r.into_iter()
                .map(|(a, b)| SeqRange {
                    start: SeqNumber::Value(NonZeroU32::new(a).unwrap()),
                    end: SeqNumber::Value(NonZeroU32::new(b).unwrap()),
                })
                .collect(),
        )
    })
}

fn flag() -> impl Strategy<Value = Flag> {
    prop_oneof![
        Just(Flag::Seen),
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Draft),
        Just(Flag::Recent),
        atom().prop_map(Flag::Keyword),
        "X[A-Za-z0-9]{0,6}".prop_map(Flag::Extension),
    ]
}

fn date() -> impl Strategy<Value = ImapDate> {
    (1u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| ImapDate::new(y, m, d).unwrap())
}

fn date_time() -> impl Strategy<Value = ImapDateTime> {
    (date(), 0u8..24, 0u8..60, 0u8..61, -1439i16..=1439)
        .prop_map(|(d, h, m, s, z)| ImapDateTime::new(d, h, m, s, z).unwrap())
}

fn search_key() -> impl Strategy<Value = SearchKey> {
    let leaf = prop_oneof![
        Just(SearchKey::All),
        Just(SearchKey::Answered),
        Just(SearchKey::Deleted),
        Just(SearchKey::Draft),
        Just(SearchKey::Flagged),
        Just(SearchKey::New),
        Just(SearchKey::Old),
        Just(SearchKey::Recent),
        Just(SearchKey::Seen),
        Just(SearchKey::Unanswered),
        Just(SearchKey::Undeleted),
        Just(SearchKey::Undraft),
        Just(SearchKey::Unflagged),
        Just(SearchKey::Unseen),
        bytes().prop_map(SearchKey::Bcc),
        bytes().prop_map(SearchKey::Body),
        bytes().prop_map(SearchKey::Cc),
        bytes().prop_map(SearchKey::From),
        bytes().prop_map(SearchKey::Subject),
        bytes().prop_map(SearchKey::Text),
        bytes().prop_map(SearchKey::To),
        date().prop_map(SearchKey::Before),
        date().prop_map(SearchKey::On),
        date().prop_map(SearchKey::Since),
        date().prop_map(SearchKey::SentBefore),
        date().prop_map(SearchKey::SentOn),
        date().prop_map(SearchKey::SentSince),
        (text(), bytes()).prop_map(|(field, value)| SearchKey::Header { field, value }),
        atom().prop_map(SearchKey::Keyword),
        atom().prop_map(SearchKey::Unkeyword),
        (0..=MAX64).prop_map(SearchKey::Larger),
        (0..=MAX64).prop_map(SearchKey::Smaller),
        (1u32..).prop_map(SearchKey::Older),
        (1u32..).prop_map(SearchKey::Younger),
        sequence_set().prop_map(SearchKey::Uid),
        sequence_set().prop_map(SearchKey::SequenceSet),
        (
            proptest::option::of((
                flag(),
                prop_oneof![
                    Just(ModSeqEntryKind::Private),
                    Just(ModSeqEntryKind::Shared),
                    Just(ModSeqEntryKind::All)
                ]
            )),
            0..=MAX64
        )
            .prop_map(|(entry, modseq)| SearchKey::ModSeq {
                entry: entry.map(|(flag, kind)| ModSeqEntry { flag, kind }),
                modseq,
            }),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| SearchKey::Not(Box::new(k))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| SearchKey::Or(Box::new(a), Box::new(b))),
            vec(inner, 1..4).prop_map(SearchKey::And),
        ]
    })
}

fn return_options() -> impl Strategy<Value = Option<Vec<SearchReturnOption>>> {
    proptest::option::of(vec(
        prop_oneof![
            Just(SearchReturnOption::Min),
            Just(SearchReturnOption::Max),
            Just(SearchReturnOption::All),
            Just(SearchReturnOption::Count),
            Just(SearchReturnOption::Save),
        ],
        0..4,
    ))
}

fn section() -> impl Strategy<Value = Section> {
    let names = || vec(text(), 1..3);
    (
        vec(1u32.., 0..3),
        proptest::option::of(prop_oneof![
            Just(SectionText::Header),
            names().prop_map(SectionText::HeaderFields),
            names().prop_map(SectionText::HeaderFieldsNot),
            Just(SectionText::Text),
            Just(SectionText::Mime),
        ]),
    )
        .prop_map(|(part, text)| {
            let text = if part.is_empty() && text == Some(SectionText::Mime) {
                None
            } else {
                text
            };
            Section { part, text }
        })
}

fn partial() -> impl Strategy<Value = Option<Partial>> {
    proptest::option::of((0..=MAX64, 1..=MAX64).prop_map(|(offset, len)| Partial {
        offset,
        length: NonZeroU64::new(len).unwrap(),
    }))
}

fn fetch_item() -> impl Strategy<Value = FetchItem> {
    prop_oneof![
        Just(FetchItem::Envelope),
        Just(FetchItem::Flags),
        Just(FetchItem::InternalDate),
        Just(FetchItem::Rfc822),
        Just(FetchItem::Rfc822Header),
        Just(FetchItem::Rfc822Size),
        Just(FetchItem::Rfc822Text),
        Just(FetchItem::Body),
        Just(FetchItem::BodyStructure),
        Just(FetchItem::Uid),
        Just(FetchItem::ModSeq),
        (any::<bool>(), section(), partial()).prop_map(|(peek, section, partial)| {
            FetchItem::BodySection {
                peek,
                section,
                partial,
            }
        }),
        (any::<bool>(), vec(1u32.., 0..3), partial()).prop_map(|(peek, part, partial)| {
            FetchItem::Binary {
                peek,
                part,
                partial,
            }
        }),
        vec(1u32.., 0..3).prop_map(|part| FetchItem::BinarySize { part }),
    ]
}

fn fetch() -> impl Strategy<Value = CommandBody> {
    (
        any::<bool>(),
        sequence_set(),
        prop_oneof![
            Just(FetchItems::All),
            Just(FetchItems::Fast),
            Just(FetchItems::Full),
            vec(fetch_item(), 1..5).prop_map(FetchItems::List),
        ],
        proptest::option::of(1..=MAX64),
        any::<bool>(),
    )
        .prop_map(|(uid, set, items, changed_since, vanished)| {
            let vanished = vanished && uid && changed_since.is_some();
            CommandBody::Fetch(FetchCommand {
                uid,
                set,
                items,
                changed_since,
                vanished,
            })
        })
}

fn status_items() -> impl Strategy<Value = Vec<StatusItem>> {
    vec(proptest::sample::select(StatusItem::ALL.to_vec()), 1..5)
}

fn list() -> impl Strategy<Value = CommandBody> {
    (
        vec(
            prop_oneof![
                Just(ListSelectOption::Subscribed),
                Just(ListSelectOption::Remote),
                Just(ListSelectOption::RecursiveMatch),
                Just(ListSelectOption::SpecialUse),
            ],
            0..3,
        ),
        text(),
        vec(prop_oneof!["[A-Za-z%*/]{1,6}", text()], 1..3),
        vec(
            prop_oneof![
                Just(ListReturnOption::Subscribed),
                Just(ListReturnOption::Children),
                Just(ListReturnOption::SpecialUse),
                status_items().prop_map(ListReturnOption::Status),
            ],
            0..3,
        ),
    )
        .prop_map(|(mut selection, reference, patterns, return_options)| {
            let has_base = selection.iter().any(|o| {
                matches!(
                    o,
                    ListSelectOption::Subscribed | ListSelectOption::SpecialUse
                )
            });
            if !has_base {
                selection.retain(|o| *o != ListSelectOption::RecursiveMatch);
            }
            CommandBody::List(ListCommand {
                selection,
                reference,
                patterns,
                return_options,
            })
        })
}

fn select_params() -> impl Strategy<Value = SelectParams> {
    (
        any::<bool>(),
        proptest::option::of((
            any::<NonZeroU32>(),
            (1..=MAX64).prop_map(|n| NonZeroU64::new(n).unwrap()),
            proptest::option::of(known_set()),
            proptest::option::of((known_set(), known_set())),
        )),
    )
        .prop_map(|(condstore, q)| SelectParams {
            condstore,
            qresync: q.map(
                |(uid_validity, mod_seq, known_uids, seq_match)| QresyncParams {
                    uid_validity,
                    mod_seq,
                    known_uids,
                    seq_match,
                },
            ),
        })
}

fn append() -> impl Strategy<Value = CommandBody> {
    (
        mailbox(),
        vec(
            (
                vec(flag(), 0..3),
                proptest::option::of(date_time()),
                prop_oneof![
                    Just(AppendForm::Literal),
                    Just(AppendForm::Binary),
                    Just(AppendForm::Utf8)
                ],
                vec(any::<u8>(), 0..40),
            )
                .prop_map(|(flags, internal_date, form, data)| AppendMessage {
                    flags,
                    internal_date,
                    form,
                    content: AppendContent::Inline(data),
                }),
            1..3,
        ),
    )
        .prop_map(|(mailbox, messages)| CommandBody::Append(AppendCommand { mailbox, messages }))
}

fn sort_key() -> impl Strategy<Value = SortKey> {
    proptest::sample::select(vec![
        SortKey::Arrival,
        SortKey::Cc,
        SortKey::Date,
        SortKey::From,
        SortKey::Size,
        SortKey::Subject,
        SortKey::To,
        SortKey::DisplayFrom,
        SortKey::DisplayTo,
    ])
}

fn charset() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_ -]{1,10}"
}

fn attribute() -> impl Strategy<Value = MailboxAttribute> {
    prop_oneof![
        Just(MailboxAttribute::All),
        Just(MailboxAttribute::Archive),
        Just(MailboxAttribute::Drafts),
        Just(MailboxAttribute::Flagged),
        Just(MailboxAttribute::Junk),
        Just(MailboxAttribute::Sent),
        Just(MailboxAttribute::Trash),
        Just(MailboxAttribute::Important),
        "X[A-Za-z]{0,5}".prop_map(MailboxAttribute::Extension),
    ]
}

fn body() -> impl Strategy<Value = CommandBody> {
    prop_oneof![
        prop_oneof![
            Just(CommandBody::Capability),
            Just(CommandBody::Noop),
            Just(CommandBody::Logout),
            Just(CommandBody::StartTls),
            Just(CommandBody::Namespace),
            Just(CommandBody::Idle),
            Just(CommandBody::Check),
            Just(CommandBody::Close),
            Just(CommandBody::Unselect),
            Just(CommandBody::Expunge),
        ],
        (
            prop_oneof![
                Just(AuthMechanism::Plain),
                Just(AuthMechanism::Login),
                "X-[A-Z0-9]{1,6}".prop_map(AuthMechanism::Other),
            ],
            proptest::option::of(vec(any::<u8>(), 0..30)),
        )
            .prop_map(|(mechanism, initial_response)| CommandBody::Authenticate {
                mechanism,
                initial_response
            }),
        (bytes(), bytes())
            .prop_map(|(username, password)| CommandBody::Login { username, password }),
        proptest::option::of(vec((text(), proptest::option::of(text())), 0..3))
            .prop_map(|parameters| CommandBody::Id { parameters }),
        vec(
            prop_oneof![
                Just(EnableCapability::CondStore),
                Just(EnableCapability::QResync),
                Just(EnableCapability::Utf8Accept),
                Just(EnableCapability::Imap4Rev2),
                "X-[A-Z0-9]{1,6}".prop_map(EnableCapability::Other),
            ],
            1..4,
        )
        .prop_map(|capabilities| CommandBody::Enable { capabilities }),
        (mailbox(), select_params())
            .prop_map(|(mailbox, params)| CommandBody::Select { mailbox, params }),
        (mailbox(), select_params())
            .prop_map(|(mailbox, params)| CommandBody::Examine { mailbox, params }),
        (mailbox(), vec(attribute(), 0..3)).prop_map(|(mailbox, special_use)| {
            CommandBody::Create {
                mailbox,
                special_use,
            }
        }),
        mailbox().prop_map(|mailbox| CommandBody::Delete { mailbox }),
        (mailbox(), mailbox()).prop_map(|(from, to)| CommandBody::Rename { from, to }),
        mailbox().prop_map(|mailbox| CommandBody::Subscribe { mailbox }),
        mailbox().prop_map(|mailbox| CommandBody::Unsubscribe { mailbox }),
        list(),
        (text(), text()).prop_map(|(reference, pattern)| CommandBody::Lsub { reference, pattern }),
        (mailbox(), status_items())
            .prop_map(|(mailbox, items)| CommandBody::Status { mailbox, items }),
        append(),
        text().prop_map(|root| CommandBody::GetQuota { root }),
        mailbox().prop_map(|mailbox| CommandBody::GetQuotaRoot { mailbox }),
        (
            text(),
            vec(
                ("[A-Z]{1,8}", 0..=MAX64)
                    .prop_map(|(resource, limit)| QuotaLimit { resource, limit }),
                0..3
            )
        )
            .prop_map(|(root, limits)| CommandBody::SetQuota { root, limits }),
        "[A-Z]{1,8}".prop_map(|algorithm| CommandBody::Compress { algorithm }),
        sequence_set().prop_map(|uids| CommandBody::UidExpunge { uids }),
        (
            any::<bool>(),
            return_options(),
            proptest::option::of(charset()),
            vec(search_key(), 1..4)
        )
            .prop_map(
                |(uid, return_options, charset, criteria)| CommandBody::Search(SearchCommand {
                    uid,
                    return_options,
                    charset,
                    criteria
                })
            ),
        fetch(),
        (
            any::<bool>(),
            sequence_set(),
            proptest::option::of(0..=MAX64),
            prop_oneof![
                Just(StoreAction::Replace),
                Just(StoreAction::Add),
                Just(StoreAction::Remove)
            ],
            any::<bool>(),
            vec(flag(), 0..4),
        )
            .prop_map(|(uid, set, unchanged_since, action, silent, flags)| {
                CommandBody::Store(StoreCommand {
                    uid,
                    set,
                    unchanged_since,
                    action,
                    silent,
                    flags,
                })
            }),
        (any::<bool>(), sequence_set(), mailbox())
            .prop_map(|(uid, set, mailbox)| CommandBody::Copy { uid, set, mailbox }),
        (any::<bool>(), sequence_set(), mailbox())
            .prop_map(|(uid, set, mailbox)| CommandBody::Move { uid, set, mailbox }),
        (
            any::<bool>(),
            return_options(),
            vec(
                (any::<bool>(), sort_key())
                    .prop_map(|(reverse, key)| SortCriterion { reverse, key }),
                1..4
            ),
            charset(),
            vec(search_key(), 1..3),
        )
            .prop_map(
                |(uid, return_options, criteria, charset, search)| CommandBody::Sort(SortCommand {
                    uid,
                    return_options,
                    criteria,
                    charset,
                    search
                })
            ),
        (
            any::<bool>(),
            prop_oneof![
                Just(ThreadAlgorithm::OrderedSubject),
                Just(ThreadAlgorithm::References),
                "X[A-Z]{1,6}".prop_map(ThreadAlgorithm::Other),
            ],
            charset(),
            vec(search_key(), 1..3),
        )
            .prop_map(|(uid, algorithm, charset, search)| CommandBody::Thread(
                ThreadCommand {
                    uid,
                    algorithm,
                    charset,
                    search
                }
            )),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    (tag(), body()).prop_map(|(tag, body)| Command { tag, body })
}

/// Feeds `bytes` to a receiver that buffers APPEND data and accepts any
/// literal, collecting the commands.
fn receive(bytes: &[u8]) -> Vec<Result<Command, ReceiveError>> {
    let limits = ReceiverLimits {
        non_sync_literals: NonSyncLiterals::Any,
        ..ReceiverLimits::default()
    };
    let mut rx = Receiver::buffering_appends(limits);
    rx.feed(bytes);
    let mut out = Vec::new();
    loop {
        match rx.receive() {
            Ok(Received::NeedMore) => return out,
            Ok(Received::Command(c)) => out.push(Ok(c)),
            Ok(_) => {}
            Err(e) => out.push(Err(e)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsing_a_serialised_command_gives_it_back(cmd in command()) {
        for mode in [LiteralMode::Synchronizing, LiteralMode::NonSynchronizing] {
            let encoded = cmd.encode(mode);
            let parsed = parse_command(&encoded.bytes, &ReceiverLimits::default());
            prop_assert_eq!(parsed.as_ref(), Ok(&cmd), "{}", String::from_utf8_lossy(&encoded.bytes));
        }
    }

    #[test]
    fn the_receiver_frames_serialised_commands_back(cmds in vec(command(), 1..4)) {
        let mut stream = Vec::new();
        for c in &cmds {
            stream.extend(c.encode(LiteralMode::Synchronizing).bytes);
        }
        let received = receive(&stream);
        let expected: Vec<Result<Command, ReceiveError>> = cmds.into_iter().map(Ok).collect();
        prop_assert_eq!(received, expected);
    }
}

#[test]
fn continuation_points_follow_each_synchronising_literal_header() {
    let cmd = Command {
        tag: Tag::new("a1").unwrap(),
        body: CommandBody::Login {
            username: b"a\r\nb".to_vec(),
            password: b"\xff".to_vec(),
        },
    };
    let encoded = cmd.encode(LiteralMode::Synchronizing);
    assert_eq!(encoded.bytes, b"a1 LOGIN {4}\r\na\r\nb {1}\r\n\xff\r\n");
    assert_eq!(encoded.continuation_points, vec![14, 24]);
    let plus = cmd.encode(LiteralMode::NonSynchronizing);
    assert_eq!(plus.bytes, b"a1 LOGIN {4+}\r\na\r\nb {1+}\r\n\xff\r\n");
    assert!(plus.continuation_points.is_empty());
}
