#![no_main]
//! See `pipestack::fuzzing::person_body`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipestack::fuzzing::person_body(data));
