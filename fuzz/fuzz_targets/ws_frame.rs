//! Fuzz target `ws_frame`: arbitrary bytes into `fandesk_fuzz::ws_frame` (see its documentation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fandesk_fuzz::ws_frame(data));
