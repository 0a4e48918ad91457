//! Fuzz target `rest_body`: arbitrary bytes into `fandesk_fuzz::rest_body` (see its documentation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fandesk_fuzz::rest_body(data));
