#![no_main]
//! See `pipestack::fuzzing::form_body`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipestack::fuzzing::form_body(data));
