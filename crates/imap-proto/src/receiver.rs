//! Framing of the client's byte stream into commands: lines, literals and
//! their continuation requests, APPEND message streaming, and
//! resynchronisation after a bad command.
//!
//! The receiver copies each command's line bytes and in-memory literal
//! bytes into one buffer (reused between commands) and parses it once
//! complete. APPEND message literals are, by default, not copied but handed
//! to the session in chunks ([`Received::AppendData`]) so a large message can
//! go straight to a spool file.

use crate::command::{Command, Mailbox, Tag};
use crate::datetime::ImapDateTime;
use crate::error::{ParseError, ReceiveError, ReceiveErrorKind, Recovery};
use crate::flag::Flag;
use crate::lexer::{LiteralHeader, is_tag_char, literal_suffix};
use crate::limits::{LITERAL_MINUS_MAX, NonSyncLiterals, ReceiverLimits};
use crate::parse::{LiteralRole, append_literal_role, check_command_start, parse_framed};

/// Bytes kept from the end of a discarded line to spot a literal
/// announcement there.
const DISCARD_TAIL: usize = 32;

/// Buffers grown beyond this are released after use rather than kept.
const KEEP_CAPACITY: usize = 256 * 1024;

/// What the receiver has for the session.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// A complete command.
    Command(Command),
    /// All input is used up: read from the socket and [`Receiver::feed`].
    NeedMore,
    /// A synchronising literal `{N}` was announced: send a continuation
    /// request (`+ Ready`) and go on feeding; or call
    /// [`Receiver::reject_literal`] and answer the command with `NO`/`BAD`.
    Continue {
        /// The announced size.
        literal_size: u64,
    },
    /// An APPEND message literal starts (streaming mode). Its bytes follow
    /// as [`Received::AppendData`]; then the command goes on and finally
    /// comes as [`Received::Command`] with
    /// [`crate::AppendContent::Streamed`]. When `synchronizing` is true the
    /// session sends `+ Ready` first, or calls [`Receiver::reject_literal`]
    /// and answers `NO` (e.g. `[TRYCREATE]` or `[OVERQUOTA]`).
    AppendLiteral(AppendLiteral),
    /// The next chunk of the current APPEND message literal.
    AppendData(&'a [u8]),
}

/// The start of an APPEND message literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendLiteral {
    /// The APPEND command's tag.
    pub tag: Tag,
    /// The destination mailbox.
    pub mailbox: Mailbox,
    /// Which message of a MULTIAPPEND (from 0).
    pub index: usize,
    /// The message's flags (they precede its literal on the wire).
    pub flags: Vec<Flag>,
    /// The message's internal date, if the client gave one.
    pub internal_date: Option<ImapDateTime>,
    /// Size of the message in bytes.
    pub size: u64,
    /// `~{N}`: a binary literal (may contain NUL).
    pub binary: bool,
    /// `{N}` (the client waits for `+`) rather than `{N+}`.
    pub synchronizing: bool,
}

enum State {
    /// Reading a line of the current command (or the start of the next).
    Line,
    /// Copying an in-memory literal.
    Literal { remaining: usize },
    /// Handing an APPEND message literal to the session.
    Stream { remaining: u64 },
    /// Skipping the rest of a rejected line.
    DiscardLine {
        tail: [u8; DISCARD_TAIL],
        tail_len: usize,
    },
    /// Skipping a literal of a rejected command.
    DiscardLiteral { remaining: u64 },
    /// A fatal error happened; nothing more is read.
    Closed,
}

/// What one step of the state machine produced (owned, so the borrow of
/// the input for `AppendData` is taken only at the end).
enum Event {
    Command(Command),
    NeedMore,
    Continue(u64),
    AppendLiteral(AppendLiteral),
    AppendData(usize, usize),
}

/// A resumable command receiver: feed it bytes, take out commands.
///
/// See the crate documentation for how a session drives it.
pub struct Receiver {
    limits: ReceiverLimits,
    stream_appends: bool,
    input: Vec<u8>,
    read: usize,
    reserved_from: Option<usize>,
    command: Vec<u8>,
    streamed: Vec<usize>,
    line_start: usize,
    line_bytes: usize,
    argument_literal_bytes: usize,
    buffered_message_bytes: u64,
    state: State,
    pending_sync: bool,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("buffered", &(self.input.len() - self.read))
            .field("command_bytes", &self.command.len())
            .finish_non_exhaustive()
    }
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new(ReceiverLimits::default())
    }
}

impl Receiver {
    /// A receiver that streams APPEND message literals to the session.
    pub fn new(limits: ReceiverLimits) -> Self {
        Receiver {
            limits,
            stream_appends: true,
            input: Vec::new(),
            read: 0,
            reserved_from: None,
            command: Vec::new(),
            streamed: Vec::new(),
            line_start: 0,
            line_bytes: 0,
            argument_literal_bytes: 0,
            buffered_message_bytes: 0,
            state: State::Line,
            pending_sync: false,
        }
    }

    /// A receiver that keeps APPEND message literals in the command
    /// ([`crate::AppendContent::Inline`], bounded by
    /// [`ReceiverLimits::max_literal_size`]) instead of streaming them.
    pub fn buffering_appends(limits: ReceiverLimits) -> Self {
        Receiver {
            stream_appends: false,
            ..Receiver::new(limits)
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &ReceiverLimits {
        &self.limits
    }

    /// Replaces the limits (e.g. after ENABLE or login); takes effect for
    /// the next line or literal.
    pub fn set_limits(&mut self, limits: ReceiverLimits) {
        self.limits = limits;
    }

    /// Adds bytes read from the client. Call it after [`Receiver::receive`]
    /// returned [`Received::NeedMore`]; the receiver then holds at most
    /// these bytes plus one command's bounded state.
    pub fn feed(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.compact();
        self.input.extend_from_slice(bytes);
    }

    /// A zeroed buffer of `len` bytes to read socket data into without an
    /// extra copy; follow with [`Receiver::commit_read`].
    pub fn read_buffer(&mut self, len: usize) -> &mut [u8] {
        self.compact();
        let start = self.input.len();
        self.input.resize(start + len, 0);
        self.reserved_from = Some(start);
        &mut self.input[start..]
    }

    /// Keeps the first `filled` bytes of the last [`Receiver::read_buffer`].
    pub fn commit_read(&mut self, filled: usize) {
        if let Some(start) = self.reserved_from.take() {
            let end = (start + filled).min(self.input.len());
            self.input.truncate(end);
        }
        if matches!(self.state, State::Closed) {
            self.input.clear();
            self.read = 0;
        }
    }

    /// Bytes fed but not yet consumed.
    pub fn buffered_len(&self) -> usize {
        self.input.len() - self.read
    }

    /// Removes and returns the bytes fed but not yet consumed. After
    /// STARTTLS they must be discarded (they were sent in clear text); after
    /// COMPRESS they are compressed and go through the decompressor.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.input.split_off(self.read);
        self.input.clear();
        self.read = 0;
        rest
    }

    /// Heap bytes the receiver holds (for limits checks and metrics).
    pub fn heap_bytes(&self) -> usize {
        self.input.capacity()
            + self.command.capacity()
            + self.streamed.capacity() * size_of::<usize>()
    }

    /// After [`Received::Continue`] or a synchronising
    /// [`Received::AppendLiteral`]: drops the command instead of accepting
    /// its literal. The client does not send the literal, so the next line
    /// is a new command. Returns the command's tag, or `None` when there is
    /// no literal waiting for a decision.
    pub fn reject_literal(&mut self) -> Option<Tag> {
        if !self.pending_sync {
            return None;
        }
        self.pending_sync = false;
        let tag = tag_of(&self.command, &self.limits);
        self.reset_command();
        self.state = State::Line;
        tag
    }

    /// Reads one raw line (without CRLF) for the exchanges that are not
    /// commands: the client's answers during AUTHENTICATE and `DONE` after
    /// IDLE. `Ok(None)` means more input is needed. Call it only between
    /// commands (a partial line that [`Receiver::receive`] already buffered is
    /// taken into account); in the middle of a command's literals it fails
    /// with [`ReceiveErrorKind::OutOfOrder`].
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, ReceiveError> {
        match self.state {
            State::Line if self.line_start == 0 => {
                // A partial first line already taken by `receive` belongs to this line.
                if !self.command.is_empty() {
                    let partial = std::mem::take(&mut self.command);
                    self.input.splice(self.read..self.read, partial);
                    self.reset_command();
                }
            }
            State::Closed => return Err(self.close(None, ReceiveErrorKind::Closed)),
            _ => return Err(self.close(None, ReceiveErrorKind::OutOfOrder)),
        }
        let avail = &self.input[self.read..];
        let Some(i) = avail.iter().position(|&b| b == b'\n') else {
            if avail.len() > self.limits.max_line_length {
                self.state = State::DiscardLine {
                    tail: [0; DISCARD_TAIL],
                    tail_len: 0,
                };
                return Err(ReceiveError {
                    tag: None,
                    kind: ReceiveErrorKind::LineTooLong {
                        max: self.limits.max_line_length,
                    },
                    recovery: Recovery::Continue,
                });
            }
            return Ok(None);
        };
        let start = self.read;
        self.read += i + 1;
        let mut line = &self.input[start..start + i];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        Ok(Some(line))
    }

    /// The next thing the session must act on.
    pub fn receive(&mut self) -> Result<Received<'_>, ReceiveError> {
        self.pending_sync = false;
        Ok(match self.step()? {
            Event::Command(command) => Received::Command(command),
            Event::NeedMore => Received::NeedMore,
            Event::Continue(literal_size) => Received::Continue { literal_size },
            Event::AppendLiteral(start) => Received::AppendLiteral(start),
            Event::AppendData(start, end) => Received::AppendData(&self.input[start..end]),
        })
    }

    fn step(&mut self) -> Result<Event, ReceiveError> {
        loop {
            let avail = self.input.len() - self.read;
            match &mut self.state {
                State::Closed => return Err(self.close(None, ReceiveErrorKind::Closed)),
                State::Line => {
                    if let Some(event) = self.step_line()? {
                        return Ok(event);
                    }
                }
                State::Literal { remaining } => {
                    if avail == 0 {
                        return Ok(Event::NeedMore);
                    }
                    let n = (*remaining).min(avail);
                    *remaining -= n;
                    let done = *remaining == 0;
                    self.command
                        .extend_from_slice(&self.input[self.read..self.read + n]);
                    self.read += n;
                    if done {
                        self.line_start = self.command.len();
                        self.state = State::Line;
                    }
                }
                State::Stream { remaining } => {
                    if *remaining == 0 {
                        self.line_start = self.command.len();
                        self.state = State::Line;
                        continue;
                    }
                    if avail == 0 {
                        return Ok(Event::NeedMore);
                    }
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(avail);
                    *remaining -= n as u64;
                    let start = self.read;
                    self.read += n;
                    return Ok(Event::AppendData(start, start + n));
                }
                State::DiscardLiteral { remaining } => {
                    if avail == 0 {
                        return Ok(Event::NeedMore);
                    }
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(avail);
                    *remaining -= n as u64;
                    self.read += n;
                    if *remaining == 0 {
                        self.state = State::DiscardLine {
                            tail: [0; DISCARD_TAIL],
                            tail_len: 0,
                        };
                    }
                }
                State::DiscardLine { tail, tail_len } => {
                    let bytes = &self.input[self.read..];
                    let Some(i) = bytes.iter().position(|&b| b == b'\n') else {
                        push_tail(tail, tail_len, bytes);
                        self.read = self.input.len();
                        return Ok(Event::NeedMore);
                    };
                    push_tail(tail, tail_len, &bytes[..i]);
                    self.read += i + 1;
                    let mut line = &tail[..*tail_len];
                    if let Some(stripped) = line.strip_suffix(b"\r") {
                        line = stripped;
                    }
                    let next = match literal_suffix(line) {
                        Some((_, Ok(h))) if !h.synchronizing => {
                            if h.size > self.limits.max_literal_size {
                                let max = self.limits.max_literal_size;
                                return Err(self.close(
                                    None,
                                    ReceiveErrorKind::LiteralTooLarge { size: h.size, max },
                                ));
                            }
                            State::DiscardLiteral { remaining: h.size }
                        }
                        Some((_, Err(_))) if line.ends_with(b"+}") => {
                            return Err(self
                                .close(None, ReceiveErrorKind::Parse(ParseError::InvalidLiteral)));
                        }
                        // A synchronising literal is never sent: the client waits for `+`.
                        _ => State::Line,
                    };
                    self.state = next;
                }
            }
        }
    }

    /// One step in the `Line` state: `Ok(None)` to go on looping.
    fn step_line(&mut self) -> Result<Option<Event>, ReceiveError> {
        let max_line = self.limits.max_line_length;
        let avail = &self.input[self.read..];
        let Some(i) = avail.iter().position(|&b| b == b'\n') else {
            if self.line_bytes + avail.len() > max_line {
                return Err(self.line_too_long());
            }
            self.command.extend_from_slice(avail);
            self.line_bytes += avail.len();
            self.read = self.input.len();
            return Ok(Some(Event::NeedMore));
        };
        if self.line_bytes + i + 1 > max_line {
            return Err(self.line_too_long());
        }
        self.command.extend_from_slice(&avail[..i]);
        self.read += i + 1;
        self.line_bytes += i + 1;
        if self.command.len() > self.line_start && self.command.last() == Some(&b'\r') {
            self.command.pop();
        }
        if self.command.is_empty() {
            // An empty line between commands carries nothing; skip it.
            self.reset_command();
            return Ok(None);
        }
        let suffix = literal_suffix(&self.command[self.line_start..]);
        self.command.extend_from_slice(b"\r\n");
        match suffix {
            None => self.finish_command().map(Some),
            Some((at, Ok(header))) => self.announce_literal(self.line_start + at, header),
            Some((_, Err(error))) => {
                let synchronizing = !self.command.ends_with(b"+}\r\n");
                let header = LiteralHeader {
                    size: u64::MAX,
                    binary: false,
                    synchronizing,
                };
                let tag = tag_of(&self.command, &self.limits);
                Err(self.reject_at_literal(tag, ReceiveErrorKind::Parse(error), header))
            }
        }
    }

    fn finish_command(&mut self) -> Result<Event, ReceiveError> {
        let result = parse_framed(&self.command, &self.streamed, &self.limits);
        self.reset_command();
        match result {
            Ok(command) => Ok(Event::Command(command)),
            Err(e) => Err(ReceiveError {
                tag: e.tag,
                kind: ReceiveErrorKind::Parse(e.error),
                recovery: Recovery::Continue,
            }),
        }
    }

    /// A literal was announced at `offset` of the command buffer.
    fn announce_literal(
        &mut self,
        offset: usize,
        header: LiteralHeader,
    ) -> Result<Option<Event>, ReceiveError> {
        let tag = tag_of(&self.command, &self.limits);
        if let Err(error) = check_command_start(&self.command, &self.limits) {
            return Err(self.reject_at_literal(tag, ReceiveErrorKind::Parse(error), header));
        }
        let role = if is_append(&self.command) {
            match append_literal_role(&self.command[..offset], &self.streamed, &self.limits) {
                Ok(role) => role,
                Err(error) => {
                    return Err(self.reject_at_literal(
                        tag,
                        ReceiveErrorKind::Parse(error),
                        header,
                    ));
                }
            }
        } else {
            LiteralRole::Argument
        };
        let size = header.size;
        match &role {
            LiteralRole::Argument => {
                if header.binary {
                    let kind = ReceiveErrorKind::Parse(ParseError::BinaryLiteralNotAllowed);
                    return Err(self.reject_at_literal(tag, kind, header));
                }
                let max = self.limits.max_argument_literal_bytes;
                if size > (max - self.argument_literal_bytes.min(max)) as u64 {
                    let kind = ReceiveErrorKind::LiteralTooLarge {
                        size,
                        max: max as u64,
                    };
                    return Err(self.reject_at_literal(tag, kind, header));
                }
            }
            LiteralRole::Message { .. } => {
                let max = self.limits.max_literal_size;
                // Buffered messages of one MULTIAPPEND share the limit; streamed ones each have it.
                let used = if self.stream_appends {
                    0
                } else {
                    self.buffered_message_bytes
                };
                if size > max - used.min(max) {
                    return Err(self.reject_at_literal(
                        tag,
                        ReceiveErrorKind::LiteralTooLarge { size, max },
                        header,
                    ));
                }
            }
        }
        if !header.synchronizing
            && self.limits.non_sync_literals == NonSyncLiterals::UpTo4096
            && size > LITERAL_MINUS_MAX
        {
            let kind = ReceiveErrorKind::NonSyncLiteralTooLarge {
                size,
                max: LITERAL_MINUS_MAX,
            };
            return Err(self.reject_at_literal(tag, kind, header));
        }
        match role {
            LiteralRole::Message {
                mailbox,
                index,
                flags,
                internal_date,
            } if self.stream_appends => {
                let Some(tag) = tag else {
                    let kind = ReceiveErrorKind::Parse(ParseError::InvalidTag);
                    return Err(self.reject_at_literal(None, kind, header));
                };
                self.streamed.push(offset);
                self.state = State::Stream { remaining: size };
                self.pending_sync = header.synchronizing;
                Ok(Some(Event::AppendLiteral(AppendLiteral {
                    tag,
                    mailbox,
                    index,
                    flags,
                    internal_date,
                    size,
                    binary: header.binary,
                    synchronizing: header.synchronizing,
                })))
            }
            role => {
                if role == LiteralRole::Argument {
                    self.argument_literal_bytes += size as usize;
                } else {
                    self.buffered_message_bytes += size;
                }
                // Both limits keep `size` far below usize::MAX.
                self.state = State::Literal {
                    remaining: usize::try_from(size).unwrap_or(usize::MAX),
                };
                if header.synchronizing {
                    self.pending_sync = true;
                    Ok(Some(Event::Continue(size)))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Rejects the command whose line ends with literal `header`: the
    /// session answers at once; the literal is skipped if the client sends
    /// it anyway (non-synchronising), or the connection must close when it
    /// is too large to skip.
    fn reject_at_literal(
        &mut self,
        tag: Option<Tag>,
        kind: ReceiveErrorKind,
        header: LiteralHeader,
    ) -> ReceiveError {
        self.reset_command();
        if header.synchronizing {
            self.state = State::Line;
            ReceiveError {
                tag,
                kind,
                recovery: Recovery::Continue,
            }
        } else if header.size <= self.limits.max_literal_size {
            self.state = State::DiscardLiteral {
                remaining: header.size,
            };
            ReceiveError {
                tag,
                kind,
                recovery: Recovery::Continue,
            }
        } else {
            self.close(tag, kind)
        }
    }

    fn line_too_long(&mut self) -> ReceiveError {
        let tag = if self.command.is_empty() {
            tag_of(&self.input[self.read..], &self.limits)
        } else {
            tag_of(&self.command, &self.limits)
        };
        self.reset_command();
        self.state = State::DiscardLine {
            tail: [0; DISCARD_TAIL],
            tail_len: 0,
        };
        ReceiveError {
            tag,
            kind: ReceiveErrorKind::LineTooLong {
                max: self.limits.max_line_length,
            },
            recovery: Recovery::Continue,
        }
    }

    fn close(&mut self, tag: Option<Tag>, kind: ReceiveErrorKind) -> ReceiveError {
        self.reset_command();
        self.state = State::Closed;
        self.input = Vec::new();
        self.read = 0;
        ReceiveError {
            tag,
            kind,
            recovery: Recovery::Close,
        }
    }

    fn reset_command(&mut self) {
        if self.command.capacity() > KEEP_CAPACITY {
            self.command = Vec::new();
        } else {
            self.command.clear();
        }
        self.streamed.clear();
        self.line_start = 0;
        self.line_bytes = 0;
        self.argument_literal_bytes = 0;
        self.buffered_message_bytes = 0;
    }

    fn compact(&mut self) {
        if self.read == self.input.len() {
            self.input.clear();
            if self.input.capacity() > KEEP_CAPACITY {
                self.input = Vec::new();
            }
        } else if self.read > 0 {
            self.input.drain(..self.read);
        }
        self.read = 0;
    }
}

/// Keeps the last [`DISCARD_TAIL`] bytes of a discarded line.
fn push_tail(tail: &mut [u8; DISCARD_TAIL], tail_len: &mut usize, bytes: &[u8]) {
    if bytes.len() >= DISCARD_TAIL {
        tail.copy_from_slice(&bytes[bytes.len() - DISCARD_TAIL..]);
        *tail_len = DISCARD_TAIL;
        return;
    }
    let keep = (DISCARD_TAIL - bytes.len()).min(*tail_len);
    tail.copy_within(*tail_len - keep..*tail_len, 0);
    tail[keep..keep + bytes.len()].copy_from_slice(bytes);
    *tail_len = keep + bytes.len();
}

/// The tag at the start of `line`, if it is a valid one followed by SP.
fn tag_of(line: &[u8], limits: &ReceiverLimits) -> Option<Tag> {
    let len = line.iter().position(|&b| !is_tag_char(b))?;
    if len == 0 || len > limits.max_tag_length || line[len] != b' ' {
        return None;
    }
    Tag::new(std::str::from_utf8(&line[..len]).ok()?)
}

/// True when the command buffer holds an APPEND command.
fn is_append(command: &[u8]) -> bool {
    let Some(sp) = command.iter().position(|&b| b == b' ') else {
        return false;
    };
    let rest = &command[sp + 1..];
    rest.len() > 6 && rest[..6].eq_ignore_ascii_case(b"APPEND") && rest[6] == b' '
}

#[cfg(test)]
mod tests;
