//! Fuzz target `schedule`: arbitrary bytes into `fandesk_fuzz::schedule` (see its documentation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fandesk_fuzz::schedule(data));
