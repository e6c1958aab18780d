use proptest::prelude::*;

use super::*;
use crate::command::{AppendContent, CommandBody};
use crate::error::Recovery;
use crate::response::ResponseCode;

/// What came out of the receiver, owned, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Command(Command),
    Continue(u64),
    AppendStart(AppendLiteral),
    Data(Vec<u8>),
    Error(ReceiveError),
}

/// Takes everything the receiver has until it needs more input.
fn drain(rx: &mut Receiver) -> Vec<Out> {
    let mut out = Vec::new();
    loop {
        match rx.receive() {
            Ok(Received::NeedMore) => return out,
            Ok(Received::Command(c)) => out.push(Out::Command(c)),
            Ok(Received::Continue { literal_size }) => out.push(Out::Continue(literal_size)),
            Ok(Received::AppendLiteral(a)) => out.push(Out::AppendStart(a)),
            Ok(Received::AppendData(d)) => match out.last_mut() {
                Some(Out::Data(prev)) => prev.extend_from_slice(d),
                _ => out.push(Out::Data(d.to_vec())),
            },
            Err(e) => {
                let close = e.recovery == Recovery::Close;
                out.push(Out::Error(e));
                if close {
                    return out;
                }
            }
        }
    }
}

fn feed_all(rx: &mut Receiver, input: &[u8]) -> Vec<Out> {
    rx.feed(input);
    drain(rx)
}

fn bodies(outs: &[Out]) -> Vec<String> {
    outs.iter()
        .map(|o| match o {
            Out::Command(c) => format!("{} {}", c.tag, c.body.name()),
            Out::Continue(n) => format!("+{n}"),
            Out::AppendStart(a) => format!("append#{} {}", a.index, a.size),
            Out::Data(d) => format!("data {}", d.len()),
            Out::Error(e) => format!(
                "error {:?} {}",
                e.tag.as_ref().map(Tag::as_str),
                e.message()
            ),
        })
        .collect()
}

fn small_limits() -> ReceiverLimits {
    ReceiverLimits {
        max_line_length: 100,
        max_literal_size: 1000,
        max_argument_literal_bytes: 50,
        ..ReceiverLimits::default()
    }
}

#[test]
fn pipelined_commands_in_one_feed_all_come_out_in_order() {
    let mut rx = Receiver::default();
    let outs = feed_all(
        &mut rx,
        b"a1 NOOP\r\na2 CAPABILITY\r\na3 SELECT INBOX\r\na4 LOG",
    );
    assert_eq!(bodies(&outs), ["a1 NOOP", "a2 CAPABILITY", "a3 SELECT"]);
    let outs = feed_all(&mut rx, b"OUT\r\n");
    assert_eq!(bodies(&outs), ["a4 LOGOUT"]);
}

#[test]
fn bare_lf_ends_a_line_and_empty_lines_are_skipped() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"\r\n\na1 NOOP\na2 NOOP\r\n");
    assert_eq!(bodies(&outs), ["a1 NOOP", "a2 NOOP"]);
}

#[test]
fn synchronising_literal_asks_for_continuation_then_completes() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 LOGIN {5}\r\n");
    assert_eq!(outs, [Out::Continue(5)]);
    let outs = feed_all(&mut rx, b"alice {6}\r\n");
    assert_eq!(outs, [Out::Continue(6)]);
    let outs = feed_all(&mut rx, b"secret\r\n");
    let Out::Command(cmd) = &outs[0] else {
        panic!("{outs:?}")
    };
    assert_eq!(
        cmd.body,
        CommandBody::Login {
            username: b"alice".to_vec(),
            password: b"secret".to_vec()
        }
    );
}

#[test]
fn non_synchronising_literals_need_no_continuation() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n");
    assert_eq!(bodies(&outs), ["a1 LOGIN"]);
}

#[test]
fn literal_minus_refuses_large_non_synchronising_literals_and_skips_them() {
    let mut rx = Receiver::default();
    let mut input = b"a1 SEARCH TEXT {5000+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\r\na2 NOOP\r\n");
    let outs = feed_all(&mut rx, &input);
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") non-synchronizing literal too large (max 4096 bytes, use a synchronizing literal)",
            "a2 NOOP"
        ]
    );
    let Out::Error(e) = &outs[0] else { panic!() };
    assert_eq!(e.response_code(), Some(ResponseCode::TooBig));
}

#[test]
fn literal_plus_accepts_large_non_synchronising_literals() {
    let limits = ReceiverLimits {
        non_sync_literals: NonSyncLiterals::Any,
        ..ReceiverLimits::default()
    };
    let mut rx = Receiver::new(limits);
    let mut input = b"a1 SEARCH TEXT {5000+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\r\n");
    assert_eq!(bodies(&feed_all(&mut rx, &input)), ["a1 SEARCH"]);
}

#[test]
fn oversized_synchronising_literal_is_refused_before_it_is_sent() {
    let mut rx = Receiver::new(small_limits());
    let outs = feed_all(&mut rx, b"a1 LOGIN {51}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") literal too large (max 50 bytes)",
            "a2 NOOP"
        ]
    );
    let Out::Error(e) = &outs[0] else { panic!() };
    assert_eq!(e.recovery, Recovery::Continue);
    assert_eq!(e.response_code(), Some(ResponseCode::TooBig));
}

#[test]
fn oversized_non_synchronising_literal_closes_the_connection() {
    let mut rx = Receiver::new(ReceiverLimits {
        non_sync_literals: NonSyncLiterals::Any,
        ..small_limits()
    });
    let outs = feed_all(&mut rx, b"a1 APPEND INBOX {1001+}\r\nxxxx");
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a1\") literal too large (max 1000 bytes)"]
    );
    let Out::Error(e) = &outs[0] else { panic!() };
    assert_eq!(e.recovery, Recovery::Close);
    assert_eq!(rx.receive().unwrap_err().kind, ReceiveErrorKind::Closed);
    assert_eq!(rx.buffered_len(), 0);
}

#[test]
fn literal_sizes_beyond_64_bits_are_refused() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 LOGIN {99999999999999999999}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a1\") invalid literal size", "a2 NOOP"]
    );
    let outs = feed_all(&mut rx, b"a3 LOGIN {99999999999999999999+}\r\nxyz");
    assert_eq!(bodies(&outs), ["error Some(\"a3\") invalid literal size"]);
    let Out::Error(e) = &outs[0] else { panic!() };
    assert_eq!(e.recovery, Recovery::Close);
}

#[test]
fn argument_literals_share_one_budget_per_command() {
    let mut rx = Receiver::new(small_limits());
    let outs = feed_all(
        &mut rx,
        b"a1 LOGIN {30+}\r\n123456789012345678901234567890 {30}\r\n",
    );
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a1\") literal too large (max 50 bytes)"]
    );
}

#[test]
fn too_long_line_is_refused_with_its_tag_and_skipped() {
    let mut rx = Receiver::new(small_limits());
    let long = format!("a1 SEARCH TEXT {}\r\na2 NOOP\r\n", "x".repeat(200));
    let outs = feed_all(&mut rx, long.as_bytes());
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") line too long (max 100 bytes)",
            "a2 NOOP"
        ]
    );
}

#[test]
fn too_long_line_split_over_feeds_is_skipped_with_its_literal() {
    let mut rx = Receiver::new(small_limits());
    let mut outs = feed_all(
        &mut rx,
        format!("a1 SEARCH TEXT {}", "x".repeat(150)).as_bytes(),
    );
    outs.extend(feed_all(&mut rx, "y".repeat(150).as_bytes()));
    outs.extend(feed_all(&mut rx, b" {3+}\r\nabc\r\na2 NOOP\r\n"));
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") line too long (max 100 bytes)",
            "a2 NOOP"
        ]
    );
}

#[test]
fn parse_errors_keep_the_tag_and_the_next_command_works() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 FETCH x FLAGS\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a1\") invalid sequence set", "a2 NOOP"]
    );
}

#[test]
fn unknown_command_with_literal_is_refused_without_continuation() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 FROB {5}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a1\") unknown command FROB", "a2 NOOP"]
    );
    let outs = feed_all(&mut rx, b"a3 FROB {5+}\r\nhello\r\na4 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        ["error Some(\"a3\") unknown command FROB", "a4 NOOP"]
    );
}

#[test]
fn append_message_literal_is_streamed_in_chunks() {
    let mut rx = Receiver::default();
    let mut outs = feed_all(&mut rx, b"a1 APPEND Drafts (\\Draft) {11}\r\nHello");
    assert_eq!(
        outs[0],
        Out::AppendStart(AppendLiteral {
            tag: Tag::new("a1").unwrap(),
            mailbox: Mailbox::new("Drafts"),
            index: 0,
            flags: vec![crate::flag::Flag::Draft],
            internal_date: None,
            size: 11,
            binary: false,
            synchronizing: true,
        })
    );
    outs.extend(feed_all(&mut rx, b" world\r\na2 NOOP\r\n"));
    assert_eq!(
        bodies(&outs),
        ["append#0 11", "data 5", "data 6", "a1 APPEND", "a2 NOOP"]
    );
    let Out::Command(cmd) = &outs[3] else {
        panic!()
    };
    let CommandBody::Append(append) = &cmd.body else {
        panic!()
    };
    assert_eq!(
        append.messages[0].content,
        AppendContent::Streamed { size: 11 }
    );
    assert_eq!(append.messages[0].flags, vec![crate::flag::Flag::Draft]);
}

#[test]
fn append_mailbox_literal_is_an_argument_and_multiappend_streams_each_message() {
    let mut rx = Receiver::default();
    let outs = feed_all(
        &mut rx,
        b"a1 APPEND {5+}\r\nDraft (\\Seen) {3+}\r\nabc ~{2+}\r\nx\0\r\n",
    );
    assert_eq!(
        bodies(&outs),
        ["append#0 3", "data 3", "append#1 2", "data 2", "a1 APPEND"]
    );
    let Out::AppendStart(second) = &outs[2] else {
        panic!()
    };
    assert!(second.binary && !second.synchronizing);
    assert_eq!(second.mailbox.as_str(), "Draft");
    assert!(second.flags.is_empty() && second.internal_date.is_none());
    let Out::AppendStart(first) = &outs[0] else {
        panic!()
    };
    assert_eq!(first.flags, vec![crate::flag::Flag::Seen]);
}

#[test]
fn streamed_append_start_carries_the_flags_and_date_of_its_message() {
    let mut rx = Receiver::default();
    let outs = feed_all(
        &mut rx,
        b"a1 APPEND INBOX {1+}\r\nx (\\Flagged $Work) \"05-Jan-2024 10:00:00 +0100\" {2+}\r\nyz\r\n",
    );
    assert_eq!(
        bodies(&outs),
        ["append#0 1", "data 1", "append#1 2", "data 2", "a1 APPEND"]
    );
    let Out::AppendStart(second) = &outs[2] else {
        panic!()
    };
    assert_eq!(
        second.flags,
        vec![
            crate::flag::Flag::Flagged,
            crate::flag::Flag::Keyword("$Work".into())
        ]
    );
    let date = second.internal_date.expect("date");
    assert_eq!(date.unix_timestamp(), 1_704_445_200);
}

#[test]
fn rejected_append_literal_leaves_the_connection_ready_for_the_next_command() {
    let mut rx = Receiver::default();
    rx.feed(b"a1 APPEND Nowhere {100}\r\n");
    assert!(matches!(rx.receive(), Ok(Received::AppendLiteral(_))));
    assert_eq!(rx.reject_literal(), Some(Tag::new("a1").unwrap()));
    assert_eq!(rx.reject_literal(), None);
    assert_eq!(bodies(&feed_all(&mut rx, b"a2 NOOP\r\n")), ["a2 NOOP"]);
}

#[test]
fn buffering_mode_keeps_append_data_in_the_command() {
    let mut rx = Receiver::buffering_appends(ReceiverLimits::default());
    let outs = feed_all(&mut rx, b"a1 APPEND INBOX {5}\r\nHello\r\n");
    assert_eq!(bodies(&outs), ["+5", "a1 APPEND"]);
    let Out::Command(cmd) = &outs[1] else {
        panic!()
    };
    let CommandBody::Append(append) = &cmd.body else {
        panic!()
    };
    assert_eq!(
        append.messages[0].content,
        AppendContent::Inline(b"Hello".to_vec())
    );
}

#[test]
fn buffered_multiappend_messages_share_one_size_budget() {
    let mut rx = Receiver::buffering_appends(small_limits());
    let mut input = b"a1 APPEND INBOX {600+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 600));
    input.extend_from_slice(b" {600}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&feed_all(&mut rx, &input)),
        [
            "error Some(\"a1\") literal too large (max 1000 bytes)",
            "a2 NOOP"
        ]
    );
}

#[test]
fn oversized_append_is_refused_before_the_message_is_sent() {
    let mut rx = Receiver::new(small_limits());
    let outs = feed_all(&mut rx, b"a1 APPEND INBOX {1001}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") literal too large (max 1000 bytes)",
            "a2 NOOP"
        ]
    );
}

#[test]
fn binary_literal_outside_append_is_refused_early() {
    let mut rx = Receiver::default();
    let outs = feed_all(&mut rx, b"a1 LOGIN ~{3}\r\na2 NOOP\r\n");
    assert_eq!(
        bodies(&outs),
        [
            "error Some(\"a1\") binary literal not allowed here",
            "a2 NOOP"
        ]
    );
}

#[test]
fn idle_done_and_authenticate_lines_are_read_as_raw_lines() {
    let mut rx = Receiver::default();
    assert_eq!(bodies(&feed_all(&mut rx, b"a1 IDLE\r\nDO")), ["a1 IDLE"]);
    assert_eq!(rx.next_line().unwrap(), None);
    rx.feed(b"NE\r\na2 AUTHENTICATE PLAIN\r\n");
    assert_eq!(rx.next_line().unwrap(), Some(&b"DONE"[..]));
    assert_eq!(bodies(&drain(&mut rx)), ["a2 AUTHENTICATE"]);
    rx.feed(b"AGFsaWNlAHNlY3JldA==\r\n");
    let line = rx.next_line().unwrap().unwrap().to_vec();
    assert_eq!(
        crate::parse::parse_authenticate_response(&line),
        Ok(crate::parse::AuthenticateResponse::Data(
            b"\0alice\0secret".to_vec()
        ))
    );
}

#[test]
fn continuation_line_in_the_middle_of_a_command_is_refused() {
    let mut rx = Receiver::default();
    rx.feed(b"a1 LOGIN {5}\r\n");
    assert!(matches!(rx.receive(), Ok(Received::Continue { .. })));
    assert_eq!(
        rx.next_line().unwrap_err().kind,
        ReceiveErrorKind::OutOfOrder
    );
}

#[test]
fn bytes_after_starttls_can_be_taken_out() {
    let mut rx = Receiver::default();
    rx.feed(b"a1 STARTTLS\r\na2 LOGIN injected x\r\n");
    assert!(matches!(rx.receive(), Ok(Received::Command(_))));
    assert_eq!(rx.take_buffered(), b"a2 LOGIN injected x\r\n");
    assert!(matches!(rx.receive(), Ok(Received::NeedMore)));
}

#[test]
fn reading_into_the_receiver_buffer_works_like_feed() {
    let mut rx = Receiver::default();
    let buf = rx.read_buffer(64);
    buf[..9].copy_from_slice(b"a1 NOOP\r\n");
    rx.commit_read(9);
    assert_eq!(bodies(&drain(&mut rx)), ["a1 NOOP"]);
    assert_eq!(rx.buffered_len(), 0);
}

/// A session script: commands with literals of every kind, pipelined.
fn script() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"a1 LOGIN {5+}\r\nalice \"se\\\"cret\"\r\n");
    s.extend_from_slice(b"a2 SELECT INBOX (CONDSTORE)\r\n");
    s.extend_from_slice(
        b"a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]) (CHANGEDSINCE 5)\r\n",
    );
    s.extend_from_slice(b"a4 APPEND Sent (\\Seen) {12+}\r\nHello\r\nWorld ~{3+}\r\na\0b\r\n");
    s.extend_from_slice(
        b"a5 SEARCH CHARSET UTF-8 SUBJECT {6+}\r\nGr\xc3\xbc\xc3\x9f OR SEEN NOT DRAFT\r\n",
    );
    s.extend_from_slice(b"a6 BAD-COMMAND\r\n");
    s.extend_from_slice(b"a7 LOGOUT\r\n");
    s
}

fn run_in_pieces(input: &[u8], cuts: &[usize], buffering: bool) -> Vec<Out> {
    let mut rx = if buffering {
        Receiver::buffering_appends(ReceiverLimits::default())
    } else {
        Receiver::default()
    };
    let mut outs = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(start, input.len());
        outs.extend(feed_all(&mut rx, &input[start..cut]));
        start = cut;
    }
    // Data chunks depend on the cuts; merge them for comparison.
    let mut merged: Vec<Out> = Vec::new();
    for o in outs {
        match (merged.last_mut(), o) {
            (Some(Out::Data(prev)), Out::Data(d)) => prev.extend(d),
            (_, o) => merged.push(o),
        }
    }
    merged
}

#[test]
fn every_single_split_point_gives_the_same_commands() {
    let input = script();
    for buffering in [false, true] {
        let whole = run_in_pieces(&input, &[], buffering);
        assert_eq!(
            whole
                .iter()
                .filter(|o| matches!(o, Out::Command(_)))
                .count(),
            6
        );
        for cut in 0..=input.len() {
            assert_eq!(
                run_in_pieces(&input, &[cut], buffering),
                whole,
                "cut at {cut}"
            );
        }
    }
}

#[test]
fn byte_by_byte_feeding_gives_the_same_commands() {
    let input = script();
    let cuts: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        run_in_pieces(&input, &cuts, false),
        run_in_pieces(&input, &[], false)
    );
}

proptest! {
    #[test]
    fn any_split_points_give_the_same_commands(mut cuts in proptest::collection::vec(0usize..400, 0..12)) {
        let input = script();
        cuts.sort_unstable();
        prop_assert_eq!(run_in_pieces(&input, &cuts, false), run_in_pieces(&input, &[], false));
    }

    #[test]
    fn random_bytes_never_panic_and_memory_stays_bounded(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20),
    ) {
        let limits = small_limits();
        let mut rx = Receiver::new(limits.clone());
        for chunk in &chunks {
            rx.feed(chunk);
            let _ = drain(&mut rx);
            // Bound: one feed, one command's lines and in-memory literals, slack for Vec growth.
            let bound = 2 * (chunk.len() + limits.max_line_length + limits.max_argument_literal_bytes) + 4096;
            prop_assert!(rx.heap_bytes() <= bound, "{} > {}", rx.heap_bytes(), bound);
        }
    }

    #[test]
    fn random_imap_like_input_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just(&b"a1 "[..]), Just(&b"{3}\r\n"[..]), Just(&b"{5+}\r\n"[..]), Just(&b"~{2}\r\n"[..]),
                Just(&b"\r\n"[..]), Just(&b"APPEND "[..]), Just(&b"FETCH "[..]), Just(&b"SEARCH "[..]),
                Just(&b"("[..]), Just(&b")"[..]), Just(&b"\""[..]), Just(&b"1:*"[..]), Just(&b"INBOX "[..]),
                Just(&b"NOT "[..]), Just(&b"x"[..]), Just(&b"\0"[..]), Just(&b"{99999999999999999999}\r\n"[..]),
            ],
            0..60,
        ),
        cut in 0usize..200,
    ) {
        let input: Vec<u8> = pieces.concat();
        let mut rx = Receiver::new(small_limits());
        let cut = cut.min(input.len());
        rx.feed(&input[..cut]);
        let _ = drain(&mut rx);
        rx.feed(&input[cut..]);
        let _ = drain(&mut rx);
        let _ = rx.next_line();
    }
}
