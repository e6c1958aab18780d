//! See `groxide_fuzz_harness::pop3_command`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| groxide_fuzz_harness::pop3_command(data));
