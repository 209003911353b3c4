//! Writes the seeds that cannot be copied from ../shared/data: canonical
//! audit entries, signed checkpoint notes (fixed test key) and the default
//! configuration written out as TOML.
//!
//! `cargo run --features seeds --bin gen_seeds -- CORPUS_DIR` (fuzz/seed.sh
//! runs it); writes `CORPUS_DIR/<target>/gen-*`.

use std::path::Path;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(format!("gen-{name}")), bytes)
}

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: gen_seeds CORPUS_DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    let entries = steward_fuzz::sample_entries();
    for (i, e) in entries.iter().enumerate() {
        write(dir, "audit_entry_decode", &format!("entry-{i}.json"), e)?;
    }
    let notes = steward_fuzz::sample_notes();
    for (i, n) in notes.iter().enumerate() {
        write(
            dir,
            "checkpoint_note",
            &format!("note-{i}.txt"),
            n.as_bytes(),
        )?;
    }
    // The default configuration written out, so the fuzzer starts from every key.
    let cfg = toml::to_string(&steward_core::Config::default()).expect("default config serialises");
    write(dir, "config_toml", "default.toml", cfg.as_bytes())?;
    println!(
        "gen_seeds: {} audit entries, {} checkpoint notes, 1 configuration -> {}",
        entries.len(),
        notes.len(),
        dir.display()
    );
    Ok(())
}
