//! The notice itself: `notice coverage` (clause by clause: enforcing code,
//! tests, status) and `datamap export` (N5.4, N8.4). Neither opens a store.

use std::process::ExitCode;

use steward_core::CoreError;

use crate::{Cli, DatamapCmd, NoticeCmd, load_config};

/// `steward notice coverage`: its exit code is the scan's.
pub(crate) fn coverage(c: &NoticeCmd) -> Result<ExitCode, CoreError> {
    let NoticeCmd::Coverage {
        json,
        root,
        check_baseline,
        write_baseline,
    } = c;
    let args = steward_notice::CoverageArgs {
        json: *json,
        root: root.clone(),
        check_baseline: check_baseline.clone(),
        write_baseline: write_baseline.clone(),
    };
    let code = steward_notice::run_cli(args, &mut std::io::stdout())
        .map_err(|e| CoreError::Input(e.to_string()))?;
    Ok(ExitCode::from(code as u8))
}

/// `steward datamap export`: fideslang or markdown on standard output.
pub(crate) fn datamap(cli: &Cli, c: &DatamapCmd) -> Result<ExitCode, CoreError> {
    let DatamapCmd::Export { format } = c;
    let config = load_config(cli)?;
    let dm = steward_notice::DatamapConfig {
        retention: config.retention.clone(),
        ..Default::default()
    };
    let text = match format.as_str() {
        "fideslang" => steward_notice::datamap_fideslang(&dm),
        "markdown" => steward_notice::datamap_markdown(&dm),
        other => {
            return Err(CoreError::Input(format!(
                "--format `{other}`: expected fideslang or markdown"
            )));
        }
    };
    outln!("{text}");
    Ok(ExitCode::SUCCESS)
}
