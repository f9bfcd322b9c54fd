//! Fuzz target: the TOML system-file loader on arbitrary UTF-8 (see `parse.rs` for how to run).
//! The property is `lagrange::fuzzing::system_file`: a system or a one-line error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| lagrange::fuzzing::system_file(source));
