//! Prints Steward's data map with the default configuration: the fideslang
//! YAML, or with `--markdown` the page for people.
//!
//! `cargo run -p steward-notice --example datamap > datamap.yml`

use steward_notice::{DatamapConfig, datamap_fideslang, datamap_markdown};

fn main() {
    let cfg = DatamapConfig::default();
    let markdown = std::env::args().skip(1).any(|a| a == "--markdown");
    if markdown {
        print!("{}", datamap_markdown(&cfg));
    } else {
        print!("{}", datamap_fideslang(&cfg));
    }
}
