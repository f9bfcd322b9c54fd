//! Fuzz target: the TOML system-file loader on arbitrary UTF-8 (see `parse.rs` for how to run).
//! Loading must return a system or a one-line error, never panic.

#![no_main]

use lagrange::expr::TextSystem;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    match TextSystem::from_toml_str(source) {
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
        Ok(system) => {
            let text = system.to_toml_string();
            TextSystem::from_toml_str(&text)
                .unwrap_or_else(|e| panic!("round trip of {source:?}: {e}\n{text}"));
        }
    }
});
