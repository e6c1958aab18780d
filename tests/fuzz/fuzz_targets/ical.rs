//! See `groxide_fuzz_harness::ical`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| groxide_fuzz_harness::ical(data));
