//! Fuzz target: random text systems written as sums of local terms (built from the input bytes)
//! give the same q̈ on the structured and the dense path (see `parse.rs` for how to run). The
//! property is `lagrange::fuzzing::structured_dense`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lagrange::fuzzing::structured_dense(data));
