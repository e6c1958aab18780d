//! Any command that parses must serialise to bytes that parse back to the
//! same command.
#![no_main]

use groxide_imap_proto::{LiteralMode, ReceiverLimits, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ReceiverLimits::default();
    if let Ok(command) = parse_command(data, &limits) {
        for mode in [LiteralMode::Synchronizing, LiteralMode::NonSynchronizing] {
            let encoded = command.encode(mode);
            let again = parse_command(&encoded.bytes, &limits);
            assert_eq!(
                again.as_ref(),
                Ok(&command),
                "{:?}",
                String::from_utf8_lossy(&encoded.bytes)
            );
        }
    }
});
