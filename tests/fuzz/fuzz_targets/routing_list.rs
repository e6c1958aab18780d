//! See `groxide_fuzz_harness::routing_list`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| groxide_fuzz_harness::routing_list(data));
