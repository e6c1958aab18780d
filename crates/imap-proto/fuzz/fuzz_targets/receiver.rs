//! Arbitrary bytes into the command receiver, fed in chunks, with the
//! session's side moves (rejecting literals, raw lines) mixed in. It must
//! never panic and must keep its memory bounded.
#![no_main]

use groxide_imap_proto::{NonSyncLiterals, Received, Receiver, ReceiverLimits, Recovery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let limits = ReceiverLimits {
        max_line_length: 256,
        max_literal_size: 4096,
        max_argument_literal_bytes: 512,
        max_tokens: 200,
        max_nesting_depth: 8,
        non_sync_literals: if control & 1 == 0 {
            NonSyncLiterals::UpTo4096
        } else {
            NonSyncLiterals::Any
        },
        ..ReceiverLimits::default()
    };
    let mut rx = if control & 2 == 0 {
        Receiver::new(limits.clone())
    } else {
        Receiver::buffering_appends(limits.clone())
    };
    let chunk = usize::from(control >> 3).max(1);
    for piece in input.chunks(chunk) {
        rx.feed(piece);
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 100_000, "receiver made no progress");
            match rx.receive() {
                Ok(Received::NeedMore) => break,
                Ok(Received::Continue { .. }) if control & 4 != 0 => {
                    rx.reject_literal();
                }
                Ok(Received::Command(c)) if control & 4 != 0 && c.body.name() == "IDLE" => {
                    let _ = rx.next_line();
                }
                Ok(_) => {}
                Err(e) if e.recovery == Recovery::Close => return,
                Err(_) => {}
            }
        }
        let bound =
            2 * (piece.len() + limits.max_line_length + limits.max_argument_literal_bytes) + 4096;
        assert!(
            rx.heap_bytes() <= bound,
            "receiver holds {} bytes",
            rx.heap_bytes()
        );
    }
});
