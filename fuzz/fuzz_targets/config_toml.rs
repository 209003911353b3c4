//! `steward_core::config::Config::parse` on arbitrary UTF-8 text.
//!
//! Checks: no panic; an error names the source (`fuzz.toml`); an accepted
//! configuration has a home region (the `INVARIANT:` in config.rs), and
//! serialising it back to TOML and parsing that again gives the same
//! configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_core::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, "fuzz.toml") {
        Ok(cfg) => {
            let _ = cfg.home_region();
            let back = toml::to_string(&cfg).expect("an accepted Config serialises to TOML");
            let again = Config::parse(&back, "roundtrip.toml")
                .unwrap_or_else(|e| panic!("re-reading a written Config fails: {e}\n{back}"));
            assert_eq!(again, cfg, "Config does not round-trip through TOML");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("fuzz.toml"),
                "error does not name the file: {msg}"
            );
        }
    }
});
