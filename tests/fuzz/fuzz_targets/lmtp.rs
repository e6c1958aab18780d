//! See `groxide_fuzz_harness::lmtp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| groxide_fuzz_harness::lmtp(data));
