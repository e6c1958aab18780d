//! Arbitrary lines into the AUTHENTICATE and IDLE line parsers, SASL PLAIN
//! and modified UTF-7 decoding: no panic, and decoded names re-encode.
#![no_main]

use groxide_imap_proto::{
    AuthenticateResponse, decode_sasl_plain, mailbox_name, parse_authenticate_response,
    parse_idle_done,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(AuthenticateResponse::Data(decoded)) = parse_authenticate_response(data) {
        let _ = decode_sasl_plain(&decoded);
    }
    let _ = parse_idle_done(data);
    let _ = decode_sasl_plain(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(name) = mailbox_name::decode(text) {
            assert_eq!(mailbox_name::encode(&name), text);
        }
        assert_eq!(
            mailbox_name::decode(&mailbox_name::encode(text)).as_deref(),
            Ok(text)
        );
    }
});
