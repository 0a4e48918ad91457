//! Fuzz target `charter`: arbitrary bytes into `fandesk_fuzz::charter` (see its documentation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fandesk_fuzz::charter(data));
