#![no_main]
//! See `pipestack::fuzzing::sort_and_cursor`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipestack::fuzzing::sort_and_cursor(data));
