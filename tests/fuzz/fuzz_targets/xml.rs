//! See `groxide_fuzz_harness::xml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| groxide_fuzz_harness::xml(data));
