//! Serialising commands to the wire: the client side of the codec, used by
//! round-trip tests and test clients. [`parse_command`](crate::parse_command)
//! of the output gives the command back.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::command::{
    AppendContent, AppendForm, Command, CommandBody, FetchItem, FetchItems, ListReturnOption,
    ListSelectOption, ModSeqEntryKind, Partial, SearchKey, SearchReturnOption, SelectParams,
    SortKey, StatusItem, StoreAction, ThreadAlgorithm,
};
use crate::encode::section::{write_binary_section, write_section};
use crate::encode::string::{is_atom, is_quotable, write_astring, write_quoted};
use crate::flag::write_flag_list;
use crate::lexer::is_list_char;
use crate::num::{write_u32, write_u64};
use crate::sequence::write_sequence_set;

/// How the serialiser writes literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralMode {
    /// `{N}`: the client waits for `+` after each literal header.
    Synchronizing,
    /// `{N+}` (LITERAL+/LITERAL-).
    NonSynchronizing,
}

/// A serialised command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedCommand {
    /// The whole command including its final CRLF.
    pub bytes: Vec<u8>,
    /// Offsets just after each synchronising literal header, where the
    /// client must wait for the server's `+` before sending on.
    pub continuation_points: Vec<usize>,
}

struct Writer {
    out: Vec<u8>,
    mode: LiteralMode,
    waits: Vec<usize>,
}

impl Command {
    /// Serialises the command. Strings are written as atoms, quoted
    /// strings (UTF-8 allowed) or literals, whichever the content allows.
    /// Streamed APPEND content has no bytes here: only its literal header
    /// is written.
    pub fn encode(&self, mode: LiteralMode) -> EncodedCommand {
        let mut w = Writer {
            out: Vec::with_capacity(64),
            mode,
            waits: Vec::new(),
        };
        w.raw(self.tag.as_str().as_bytes());
        w.raw(b" ");
        w.body(&self.body);
        w.raw(b"\r\n");
        EncodedCommand {
            bytes: w.out,
            continuation_points: w.waits,
        }
    }
}

impl Writer {
    fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn literal(&mut self, data: &[u8], binary: bool) {
        self.literal_header(data.len() as u64, binary);
        self.out.extend_from_slice(data);
    }

    fn literal_header(&mut self, len: u64, binary: bool) {
        if binary {
            self.out.push(b'~');
        }
        self.out.push(b'{');
        write_u64(&mut self.out, len);
        if self.mode == LiteralMode::NonSynchronizing {
            self.out.push(b'+');
        }
        self.out.extend_from_slice(b"}\r\n");
        if self.mode == LiteralMode::Synchronizing {
            self.waits.push(self.out.len());
        }
    }

    /// A `string`: quoted when possible, else a literal.
    fn string(&mut self, bytes: &[u8]) {
        if is_quotable(bytes, true) {
            write_quoted(&mut self.out, bytes);
        } else {
            self.literal(bytes, false);
        }
    }

    /// An `astring`: atom, quoted or literal.
    fn astring(&mut self, bytes: &[u8]) {
        if is_quotable(bytes, true) {
            write_astring(&mut self.out, bytes, true);
        } else {
            self.literal(bytes, false);
        }
    }

    /// A `list-mailbox`: list-chars unquoted, else a string.
    fn list_mailbox(&mut self, text: &str) {
        if !text.is_empty() && text.bytes().all(is_list_char) {
            self.raw(text.as_bytes());
        } else {
            self.string(text.as_bytes());
        }
    }

    fn sp_astring(&mut self, bytes: &[u8]) {
        self.raw(b" ");
        self.astring(bytes);
    }

    fn number(&mut self, n: u64) {
        write_u64(&mut self.out, n);
    }

    fn body(&mut self, body: &CommandBody) {
        self.raw(body.name().as_bytes());
        match body {
            CommandBody::Capability
            | CommandBody::Noop
            | CommandBody::Logout
            | CommandBody::StartTls
            | CommandBody::Namespace
            | CommandBody::Idle
            | CommandBody::Check
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Expunge => {}
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                self.raw(b" ");
                self.raw(mechanism.as_str().as_bytes());
                match initial_response {
                    Some(data) if data.is_empty() => self.raw(b" ="),
                    Some(data) => {
                        self.raw(b" ");
                        let encoded = STANDARD.encode(data);
                        self.raw(encoded.as_bytes());
                    }
                    None => {}
                }
            }
            CommandBody::Login { username, password } => {
                self.sp_astring(username);
                self.sp_astring(password);
            }
            CommandBody::Id { parameters } => match parameters {
                None => self.raw(b" NIL"),
                Some(fields) => {
                    self.raw(b" (");
                    for (i, (key, value)) in fields.iter().enumerate() {
                        if i > 0 {
                            self.raw(b" ");
                        }
                        self.string(key.as_bytes());
                        self.raw(b" ");
                        match value {
                            Some(v) => self.string(v.as_bytes()),
                            None => self.raw(b"NIL"),
                        }
                    }
                    self.raw(b")");
                }
            },
            CommandBody::Enable { capabilities } => {
                for c in capabilities {
                    self.raw(b" ");
                    self.raw(c.as_str().as_bytes());
                }
            }
            CommandBody::Select { mailbox, params } | CommandBody::Examine { mailbox, params } => {
                self.sp_astring(mailbox.as_str().as_bytes());
                self.select_params(params);
            }
            CommandBody::Create {
                mailbox,
                special_use,
            } => {
                self.sp_astring(mailbox.as_str().as_bytes());
                if !special_use.is_empty() {
                    self.raw(b" (USE (");
                    for (i, a) in special_use.iter().enumerate() {
                        if i > 0 {
                            self.raw(b" ");
                        }
                        a.write(&mut self.out);
                    }
                    self.raw(b"))");
                }
            }
            CommandBody::Delete { mailbox }
            | CommandBody::Subscribe { mailbox }
            | CommandBody::Unsubscribe { mailbox }
            | CommandBody::GetQuotaRoot { mailbox } => self.sp_astring(mailbox.as_str().as_bytes()),
            CommandBody::Rename { from, to } => {
                self.sp_astring(from.as_str().as_bytes());
                self.sp_astring(to.as_str().as_bytes());
            }
            CommandBody::List(list) => {
                self.raw(b" ");
                if !list.selection.is_empty() {
                    self.raw(b"(");
                    for (i, o) in list.selection.iter().enumerate() {
                        if i > 0 {
                            self.raw(b" ");
                        }
                        self.raw(match o {
                            ListSelectOption::Subscribed => b"SUBSCRIBED",
                            ListSelectOption::Remote => b"REMOTE",
                            ListSelectOption::RecursiveMatch => b"RECURSIVEMATCH",
                            ListSelectOption::SpecialUse => b"SPECIAL-USE",
                        });
                    }
                    self.raw(b") ");
                }
                self.astring(list.reference.as_bytes());
                self.raw(b" ");
                match list.patterns.as_slice() {
                    [one] => self.list_mailbox(one),
                    many => {
                        self.raw(b"(");
                        for (i, p) in many.iter().enumerate() {
                            if i > 0 {
                                self.raw(b" ");
                            }
                            self.list_mailbox(p);
                        }
                        self.raw(b")");
                    }
                }
                if !list.return_options.is_empty() {
                    self.raw(b" RETURN (");
                    for (i, o) in list.return_options.iter().enumerate() {
                        if i > 0 {
                            self.raw(b" ");
                        }
                        match o {
                            ListReturnOption::Subscribed => self.raw(b"SUBSCRIBED"),
                            ListReturnOption::Children => self.raw(b"CHILDREN"),
                            ListReturnOption::SpecialUse => self.raw(b"SPECIAL-USE"),
                            ListReturnOption::Status(items) => {
                                self.raw(b"STATUS ");
                                self.status_items(items);
                            }
                        }
                    }
                    self.raw(b")");
                }
            }
            CommandBody::Lsub { reference, pattern } => {
                self.sp_astring(reference.as_bytes());
                self.raw(b" ");
                self.list_mailbox(pattern);
            }
            CommandBody::Status { mailbox, items } => {
                self.sp_astring(mailbox.as_str().as_bytes());
                self.raw(b" ");
                self.status_items(items);
            }
            CommandBody::Append(append) => {
                self.sp_astring(append.mailbox.as_str().as_bytes());
                for message in &append.messages {
                    self.raw(b" ");
                    if !message.flags.is_empty() {
                        write_flag_list(&mut self.out, &message.flags);
                        self.raw(b" ");
                    }
                    if let Some(date) = &message.internal_date {
                        self.raw(b"\"");
                        date.write(&mut self.out);
                        self.raw(b"\" ");
                    }
                    let binary = message.form != AppendForm::Literal;
                    if message.form == AppendForm::Utf8 {
                        self.raw(b"UTF8 (");
                    }
                    match &message.content {
                        AppendContent::Inline(data) => self.literal(data, binary),
                        AppendContent::Streamed { size } => self.literal_header(*size, binary),
                    }
                    if message.form == AppendForm::Utf8 {
                        self.raw(b")");
                    }
                }
            }
            CommandBody::GetQuota { root } => self.sp_astring(root.as_bytes()),
            CommandBody::SetQuota { root, limits } => {
                self.sp_astring(root.as_bytes());
                self.raw(b" (");
                for (i, l) in limits.iter().enumerate() {
                    if i > 0 {
                        self.raw(b" ");
                    }
                    self.raw(l.resource.as_bytes());
                    self.raw(b" ");
                    self.number(l.limit);
                }
                self.raw(b")");
            }
            CommandBody::Compress { algorithm } => {
                self.raw(b" ");
                self.raw(algorithm.as_bytes());
            }
            CommandBody::UidExpunge { uids } => {
                self.raw(b" ");
                write_sequence_set(&mut self.out, uids);
            }
            CommandBody::Search(search) => {
                self.raw(b" ");
                self.return_options(search.return_options.as_deref());
                if let Some(charset) = &search.charset {
                    self.raw(b"CHARSET ");
                    self.charset(charset);
                    self.raw(b" ");
                }
                self.search_keys(&search.criteria);
            }
            CommandBody::Fetch(fetch) => {
                self.raw(b" ");
                write_sequence_set(&mut self.out, &fetch.set);
                self.raw(b" ");
                match &fetch.items {
                    FetchItems::All => self.raw(b"ALL"),
                    FetchItems::Fast => self.raw(b"FAST"),
                    FetchItems::Full => self.raw(b"FULL"),
                    FetchItems::List(items) => {
                        let parens = items.len() != 1;
                        if parens {
                            self.raw(b"(");
                        }
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                self.raw(b" ");
                            }
                            self.fetch_item(item);
                        }
                        if parens {
                            self.raw(b")");
                        }
                    }
                }
                if fetch.changed_since.is_some() || fetch.vanished {
                    self.raw(b" (");
                    if let Some(n) = fetch.changed_since {
                        self.raw(b"CHANGEDSINCE ");
                        self.number(n);
                    }
                    if fetch.vanished {
                        if fetch.changed_since.is_some() {
                            self.raw(b" ");
                        }
                        self.raw(b"VANISHED");
                    }
                    self.raw(b")");
                }
            }
            CommandBody::Store(store) => {
                self.raw(b" ");
                write_sequence_set(&mut self.out, &store.set);
                self.raw(b" ");
                if let Some(n) = store.unchanged_since {
                    self.raw(b"(UNCHANGEDSINCE ");
                    self.number(n);
                    self.raw(b") ");
                }
                self.raw(match store.action {
                    StoreAction::Replace => b"",
                    StoreAction::Add => b"+",
                    StoreAction::Remove => b"-",
                });
                self.raw(if store.silent {
                    b"FLAGS.SILENT "
                } else {
                    b"FLAGS "
                });
                write_flag_list(&mut self.out, &store.flags);
            }
            CommandBody::Copy { set, mailbox, .. } | CommandBody::Move { set, mailbox, .. } => {
                self.raw(b" ");
                write_sequence_set(&mut self.out, set);
                self.sp_astring(mailbox.as_str().as_bytes());
            }
            CommandBody::Sort(sort) => {
                self.raw(b" ");
                self.return_options(sort.return_options.as_deref());
                self.raw(b"(");
                for (i, c) in sort.criteria.iter().enumerate() {
                    if i > 0 {
                        self.raw(b" ");
                    }
                    if c.reverse {
                        self.raw(b"REVERSE ");
                    }
                    self.raw(match c.key {
                        SortKey::Arrival => b"ARRIVAL",
                        SortKey::Cc => b"CC",
                        SortKey::Date => b"DATE",
                        SortKey::From => b"FROM",
                        SortKey::Size => b"SIZE",
                        SortKey::Subject => b"SUBJECT",
                        SortKey::To => b"TO",
                        SortKey::DisplayFrom => b"DISPLAYFROM",
                        SortKey::DisplayTo => b"DISPLAYTO",
                    });
                }
                self.raw(b") ");
                self.charset(&sort.charset);
                self.raw(b" ");
                self.search_keys(&sort.search);
            }
            CommandBody::Thread(thread) => {
                self.raw(b" ");
                self.raw(match &thread.algorithm {
                    ThreadAlgorithm::OrderedSubject => b"ORDEREDSUBJECT",
                    ThreadAlgorithm::References => b"REFERENCES",
                    ThreadAlgorithm::Other(name) => name.as_bytes(),
                });
                self.raw(b" ");
                self.charset(&thread.charset);
                self.raw(b" ");
                self.search_keys(&thread.search);
            }
        }
    }

    fn select_params(&mut self, params: &SelectParams) {
        if !params.condstore && params.qresync.is_none() {
            return;
        }
        self.raw(b" (");
        if params.condstore {
            self.raw(b"CONDSTORE");
        }
        if let Some(q) = &params.qresync {
            if params.condstore {
                self.raw(b" ");
            }
            self.raw(b"QRESYNC (");
            write_u32(&mut self.out, q.uid_validity.get());
            self.raw(b" ");
            self.number(q.mod_seq.get());
            if let Some(known) = &q.known_uids {
                self.raw(b" ");
                write_sequence_set(&mut self.out, known);
            }
            if let Some((seqs, uids)) = &q.seq_match {
                self.raw(b" (");
                write_sequence_set(&mut self.out, seqs);
                self.raw(b" ");
                write_sequence_set(&mut self.out, uids);
                self.raw(b")");
            }
            self.raw(b")");
        }
        self.raw(b")");
    }

    fn status_items(&mut self, items: &[StatusItem]) {
        self.raw(b"(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.raw(b" ");
            }
            self.raw(item.as_str().as_bytes());
        }
        self.raw(b")");
    }

    fn return_options(&mut self, options: Option<&[SearchReturnOption]>) {
        let Some(options) = options else {
            return;
        };
        self.raw(b"RETURN (");
        for (i, o) in options.iter().enumerate() {
            if i > 0 {
                self.raw(b" ");
            }
            self.raw(match o {
                SearchReturnOption::Min => b"MIN",
                SearchReturnOption::Max => b"MAX",
                SearchReturnOption::All => b"ALL",
                SearchReturnOption::Count => b"COUNT",
                SearchReturnOption::Save => b"SAVE",
            });
        }
        self.raw(b") ");
    }

    fn charset(&mut self, charset: &str) {
        if is_atom(charset.as_bytes()) {
            self.raw(charset.as_bytes());
        } else {
            write_quoted(&mut self.out, charset.as_bytes());
        }
    }

    fn fetch_item(&mut self, item: &FetchItem) {
        match item {
            FetchItem::Envelope => self.raw(b"ENVELOPE"),
            FetchItem::Flags => self.raw(b"FLAGS"),
            FetchItem::InternalDate => self.raw(b"INTERNALDATE"),
            FetchItem::Rfc822 => self.raw(b"RFC822"),
            FetchItem::Rfc822Header => self.raw(b"RFC822.HEADER"),
            FetchItem::Rfc822Size => self.raw(b"RFC822.SIZE"),
            FetchItem::Rfc822Text => self.raw(b"RFC822.TEXT"),
            FetchItem::Body => self.raw(b"BODY"),
            FetchItem::BodyStructure => self.raw(b"BODYSTRUCTURE"),
            FetchItem::Uid => self.raw(b"UID"),
            FetchItem::ModSeq => self.raw(b"MODSEQ"),
            FetchItem::BodySection {
                peek,
                section,
                partial,
            } => {
                self.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
                write_section(&mut self.out, section);
                self.partial(partial.as_ref());
            }
            FetchItem::Binary {
                peek,
                part,
                partial,
            } => {
                self.raw(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
                write_binary_section(&mut self.out, part);
                self.partial(partial.as_ref());
            }
            FetchItem::BinarySize { part } => {
                self.raw(b"BINARY.SIZE");
                write_binary_section(&mut self.out, part);
            }
        }
    }

    fn partial(&mut self, partial: Option<&Partial>) {
        if let Some(p) = partial {
            self.raw(b"<");
            self.number(p.offset);
            self.raw(b".");
            self.number(p.length.get());
            self.raw(b">");
        }
    }

    fn search_keys(&mut self, keys: &[SearchKey]) {
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                self.raw(b" ");
            }
            self.search_key(key);
        }
    }

    fn search_key(&mut self, key: &SearchKey) {
        let (name, arg): (&[u8], Option<&[u8]>) = match key {
            SearchKey::All => (b"ALL", None),
            SearchKey::Answered => (b"ANSWERED", None),
            SearchKey::Deleted => (b"DELETED", None),
            SearchKey::Draft => (b"DRAFT", None),
            SearchKey::Flagged => (b"FLAGGED", None),
            SearchKey::New => (b"NEW", None),
            SearchKey::Old => (b"OLD", None),
            SearchKey::Recent => (b"RECENT", None),
            SearchKey::Seen => (b"SEEN", None),
            SearchKey::Unanswered => (b"UNANSWERED", None),
            SearchKey::Undeleted => (b"UNDELETED", None),
            SearchKey::Undraft => (b"UNDRAFT", None),
            SearchKey::Unflagged => (b"UNFLAGGED", None),
            SearchKey::Unseen => (b"UNSEEN", None),
            SearchKey::Bcc(s) => (b"BCC", Some(s)),
            SearchKey::Body(s) => (b"BODY", Some(s)),
            SearchKey::Cc(s) => (b"CC", Some(s)),
            SearchKey::From(s) => (b"FROM", Some(s)),
            SearchKey::Subject(s) => (b"SUBJECT", Some(s)),
            SearchKey::Text(s) => (b"TEXT", Some(s)),
            SearchKey::To(s) => (b"TO", Some(s)),
            SearchKey::Before(d)
            | SearchKey::On(d)
            | SearchKey::Since(d)
            | SearchKey::SentBefore(d)
            | SearchKey::SentOn(d)
            | SearchKey::SentSince(d) => {
                self.raw(match key {
                    SearchKey::Before(_) => b"BEFORE ",
                    SearchKey::On(_) => b"ON ",
                    SearchKey::Since(_) => b"SINCE ",
                    SearchKey::SentBefore(_) => b"SENTBEFORE ",
                    SearchKey::SentOn(_) => b"SENTON ",
                    _ => b"SENTSINCE ",
                });
                d.write(&mut self.out);
                return;
            }
            SearchKey::Header { field, value } => {
                self.raw(b"HEADER");
                self.sp_astring(field.as_bytes());
                self.sp_astring(value);
                return;
            }
            SearchKey::Keyword(k) => (b"KEYWORD ", Some(k.as_bytes())),
            SearchKey::Unkeyword(k) => (b"UNKEYWORD ", Some(k.as_bytes())),
            SearchKey::Larger(n) | SearchKey::Smaller(n) => {
                self.raw(if matches!(key, SearchKey::Larger(_)) {
                    b"LARGER "
                } else {
                    b"SMALLER "
                });
                self.number(*n);
                return;
            }
            SearchKey::Older(n) | SearchKey::Younger(n) => {
                self.raw(if matches!(key, SearchKey::Older(_)) {
                    b"OLDER "
                } else {
                    b"YOUNGER "
                });
                self.number(u64::from(*n));
                return;
            }
            SearchKey::Uid(set) => {
                self.raw(b"UID ");
                write_sequence_set(&mut self.out, set);
                return;
            }
            SearchKey::SequenceSet(set) => {
                write_sequence_set(&mut self.out, set);
                return;
            }
            SearchKey::Not(inner) => {
                self.raw(b"NOT ");
                self.search_key(inner);
                return;
            }
            SearchKey::Or(a, b) => {
                self.raw(b"OR ");
                self.search_key(a);
                self.raw(b" ");
                self.search_key(b);
                return;
            }
            SearchKey::And(keys) => {
                self.raw(b"(");
                self.search_keys(keys);
                self.raw(b")");
                return;
            }
            SearchKey::ModSeq { entry, modseq } => {
                self.raw(b"MODSEQ ");
                if let Some(entry) = entry {
                    let mut name = b"/flags/".to_vec();
                    entry.flag.write(&mut name);
                    write_quoted(&mut self.out, &name);
                    self.raw(match entry.kind {
                        ModSeqEntryKind::Private => b" priv ",
                        ModSeqEntryKind::Shared => b" shared ",
                        ModSeqEntryKind::All => b" all ",
                    });
                }
                self.number(*modseq);
                return;
            }
        };
        self.raw(name);
        match (key, arg) {
            (SearchKey::Keyword(_) | SearchKey::Unkeyword(_), Some(atom)) => self.raw(atom),
            (_, Some(s)) => self.sp_astring(s),
            (_, None) => {}
        }
    }
}
