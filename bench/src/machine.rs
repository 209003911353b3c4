//! What the run was measured on.

use std::process::Command;

fn cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

/// The machine's description as (key, value) pairs: CPU model, cores, CPU
/// features that matter here, memory, kernel, rustc, date, build profile.
pub fn describe() -> Vec<(String, String)> {
    let info = cpuinfo();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown (no /proc/cpuinfo)".into());
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    let avail = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.split_whitespace().collect())
        .unwrap_or_default();
    let wanted = ["aes", "vaes", "pclmulqdq", "sha_ni", "avx2"];
    let have: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|f| flags.contains(f))
        .collect();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown (rustc not on PATH)".into());
    let now = time::OffsetDateTime::now_utc();
    let date = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".into());
    let profile = if cfg!(debug_assertions) {
        "DEBUG (figures are meaningless: use --release)"
    } else {
        "release"
    };
    vec![
        ("CPU".into(), model),
        (
            "cores".into(),
            format!("{cores} (available to this process: {avail}; shared with other builds)"),
        ),
        ("CPU features used".into(), have.join(", ")),
        ("memory".into(), mem),
        ("OS".into(), kernel),
        ("storage (temp dir)".into(), storage()),
        ("rustc".into(), rustc),
        ("source".into(), source()),
        ("build".into(), profile.into()),
        ("date".into(), date),
    ]
}

/// The commit the workspace is at, and whether its tree had uncommitted
/// changes (other work in progress is compiled in).
fn source() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "crates",
            ])
            .map(|s| s.lines().count())
            .unwrap_or(0);
            if dirty == 0 {
                format!("git {head}")
            } else {
                format!(
                    "git {head} + uncommitted changes to {dirty} files under crates/ (work in progress compiled in)"
                )
            }
        }
        None => "unknown (not a git checkout, or git not on PATH)".into(),
    }
}

/// The temp dir and the file system it is on (from /proc/mounts).
fn storage() -> String {
    let tmp = std::env::temp_dir();
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut best: Option<(usize, String)> = None;
    for l in mounts.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let (Some(dev), Some(mp), Some(fs)) = (f.first(), f.get(1), f.get(2))
            && tmp.starts_with(mp)
            && best.as_ref().is_none_or(|(n, _)| mp.len() > *n)
        {
            best = Some((mp.len(), format!("{fs} on {dev}")));
        }
    }
    format!(
        "{} ({})",
        tmp.display(),
        best.map(|b| b.1)
            .unwrap_or_else(|| "file system unknown".into())
    )
}

/// The 1-minute load average, to show how busy the shared cores were.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}
