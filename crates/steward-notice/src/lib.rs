//! The privacy notice as something the code can be checked against.
//!
//! * [`register`]: the clause register (`clauses.toml`), every ID of the
//!   notice's `CLAUSES.md` with what the software must do.
//! * [`scan`] and [`coverage`]: `steward notice coverage`, which reads the
//!   repository at run time and reports, per clause, the enforcing code and
//!   the tests that cite it, with a baseline gate so coverage only grows.
//! * [`datamap`]: the data map (N5.4, N8.4), as a fideslang taxonomy and as a
//!   Markdown page, derived from the closed vocabularies of `steward-domain`.
//! * [`cli`]: the command behind `steward notice coverage`, for the CLI to wrap.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod coverage;
pub mod datamap;
pub mod error;
pub mod register;
pub mod scan;
mod yaml;

pub use cli::{COVERAGE_ABOUT, COVERAGE_HELP, CoverageArgs, run_cli};
pub use coverage::{
    ClauseCoverage, CoverageReport, Location, PartCoverage, Status, Unregistered, baseline_text,
    check_baseline, coverage, coverage_with, render_json, render_text, report_from,
};
pub use datamap::{DatamapConfig, datamap_fideslang, datamap_markdown};
pub use error::NoticeError;
pub use register::{CLAUSES_TOML, Clause, ClausePart, Register};
pub use scan::{Citation, Role, Source, scan};
