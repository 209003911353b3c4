//! `steward serve`: the HTTP API (steward-server).

use std::process::ExitCode;

use steward_core::CoreError;

use crate::{Cli, ServeArgs, open};

/// Check the listening options, open the store, serve until Ctrl-C.
pub(crate) fn run(cli: &Cli, a: &ServeArgs) -> Result<ExitCode, CoreError> {
    let opts = steward_server::ServeOptions {
        listen: a.listen,
        insecure_http: a.insecure_http,
        tls_cert: a.tls_cert.clone(),
        tls_key: a.tls_key.clone(),
        body_limit: a.body_limit,
        request_timeout: std::time::Duration::from_secs(a.request_timeout_secs.max(1)),
        rate_per_principal: a.rate_per_principal,
        lockout_after: a.lockout_after,
        ..Default::default()
    };
    // Refuse a plain-HTTP non-loopback listener before opening anything (N5.3).
    steward_server::check_options(&opts).map_err(|e| CoreError::Input(e.to_string()))?;
    let st = open(cli)?;
    steward_server::run(st, opts).map_err(|e| CoreError::Input(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}
