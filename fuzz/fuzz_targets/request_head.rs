//! libFuzzer entry for [`tokengate_fuzz::request_head`]; the checks live in the library so that
//! the root test suite runs the very same ones as property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokengate_fuzz::request_head(data));
