//! Pages to the on-call (N8.5, N5.1): a pluggable [`Pager`]; the default
//! [`OutboxPager`] writes each page as a small text file to the outbox
//! (`<data_dir>/outbox/pages/`) for the paging system to pick up, as
//! one-time codes are (`outbox.rs`). A page names the incident, the person
//! and why; never Service Data.

use std::path::PathBuf;

use crate::CoreError;

/// One page to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Page id (`pg_…`), unique within the incident.
    pub id: String,
    /// The incident (`inc_…`).
    pub incident: String,
    /// The principal paged.
    pub to: String,
    /// Why: `opened`, `expedited`, `detector:<kind>`, `reminder:<clock>`,
    /// `overdue:<clock>`, `escalated`.
    pub reason: String,
    /// The incident's severity and route, when assessed.
    pub summary: String,
}

/// Sends pages (pluggable: a paging service, chat, a test double).
pub trait Pager: Send + Sync {
    /// Deliver `p`.
    ///
    /// Errors: any [`CoreError`] when the page could not be handed over
    /// (the page is then not recorded as sent).
    fn page(&self, p: &Page) -> Result<(), CoreError>;
}

/// The default [`Pager`]: `<dir>/<incident>-<page>.txt`, mode 0600.
#[derive(Debug, Clone)]
pub struct OutboxPager {
    /// The directory (default `<data_dir>/outbox/pages`).
    pub dir: PathBuf,
}

impl Pager for OutboxPager {
    fn page(&self, p: &Page) -> Result<(), CoreError> {
        let io = |e: std::io::Error| CoreError::Io {
            path: self.dir.display().to_string(),
            reason: format!("{e}: cannot write the page for incident {}", p.incident),
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let path = self.dir.join(format!("{}-{}.txt", p.incident, p.id));
        let mut oo = std::fs::OpenOptions::new();
        oo.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut oo, 0o600);
        let mut f = oo.open(&path).map_err(io)?;
        use std::io::Write as _;
        writeln!(
            f,
            "To: {}\nIncident: {}\nPage: {}\nReason: {}\n{}",
            p.to, p.incident, p.id, p.reason, p.summary
        )
        .map_err(io)?;
        f.sync_all().map_err(io)
    }
}
