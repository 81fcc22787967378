#![no_main]
//! See `pipestack::fuzzing::field_value`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipestack::fuzzing::field_value(data));
