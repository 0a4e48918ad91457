//! Fuzz target `canned_template`: arbitrary bytes into `fandesk_fuzz::canned_template` (see its documentation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fandesk_fuzz::canned_template(data));
