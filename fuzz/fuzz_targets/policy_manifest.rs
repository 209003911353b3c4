//! `steward_policy::PackManifest::parse` (a policy pack's `pack.toml`) on
//! arbitrary UTF-8 text.
//!
//! Checks: no panic; an error names `pack.toml`; an accepted manifest has a
//! non-blank name and version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_policy::PackManifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match PackManifest::parse(text) {
        Ok(m) => {
            assert!(!m.name.trim().is_empty(), "blank name accepted");
            assert!(!m.version.trim().is_empty(), "blank version accepted");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("pack.toml"),
                "error does not name pack.toml: {msg}"
            );
        }
    }
});
