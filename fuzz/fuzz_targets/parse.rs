//! Fuzz target: the expression parser on arbitrary UTF-8.
//!
//! Run (needs a nightly toolchain and `cargo install cargo-fuzz`), from the repository root:
//!
//! ```text
//! cargo +nightly fuzz run parse fuzz/seeds/parse     # until a crash is found (Ctrl-C to stop)
//! cargo +nightly fuzz run parse fuzz/seeds/parse -- -max_total_time=300 -max_len=4096
//! cargo +nightly fuzz run system_file fuzz/seeds/system_file    # the TOML system-file loader
//! cargo +nightly fuzz run structured_dense fuzz/seeds/structured_dense   # structured vs dense q̈
//! ```
//!
//! A crash is written to `fuzz/artifacts/parse/`; reproduce it with
//! `cargo +nightly fuzz run parse fuzz/artifacts/parse/<file>`, and add it to `fuzz/seeds/parse/`
//! so that `cargo test -p lagrange --test fuzz_seeds` (stable) replays it from then on. Without
//! nightly, `cargo check --manifest-path fuzz/Cargo.toml` at least builds the targets.
//!
//! The property checked on every input is `lagrange::fuzzing::parse_expression` (the same
//! function the seed replay calls).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| lagrange::fuzzing::parse_expression(source));
