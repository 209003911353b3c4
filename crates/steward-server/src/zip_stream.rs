//! Exports streamed as ZIP files: the core writes the ZIP into
//! `<data-dir>/tmp`, the file is unlinked once open, and its bytes are sent
//! in chunks (issue 6: memory does not grow with the export's size).

use std::sync::atomic::Ordering::Relaxed;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use steward_core::{CoreError, Steward};

use crate::call::gated;
use crate::problem::{ApiError, new_request_id};
use crate::state::AppState;

/// A fresh path for an export ZIP in `<data-dir>/tmp` (mode 0700): the ZIP
/// holds Service Data in clear until it is sent, then it is removed.
fn temp_zip(data_dir: &std::path::Path) -> Result<std::path::PathBuf, CoreError> {
    let dir = data_dir.join("tmp");
    let io = |e: std::io::Error| CoreError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(dir.join(format!("export-{}.zip", new_request_id())))
}

fn zip_response(body: Body, len: u64, audit_index: u64) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"steward-export.zip\""),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert("x-audit-index", HeaderValue::from(audit_index));
    r
}

/// Bytes read per chunk when a ZIP is streamed to the client.
const EXPORT_CHUNK: usize = 64 * 1024;

/// Run an export into a temporary file and stream it (issue 6: memory does
/// not grow with the export's size). The file is opened and then unlinked
/// before the first byte is sent, so the ZIP (Service Data in clear) has no
/// name on disk while it is sent and is gone when the response ends, even if
/// the server dies mid-send.
pub(crate) async fn export_zip<F>(state: &AppState, f: F) -> Result<Response, ApiError>
where
    F: FnOnce(&Steward, &std::path::Path) -> Result<steward_core::ExportSummary, CoreError>
        + Send
        + 'static,
{
    let (file, len, idx) = gated(state, move |st| {
        let out = temp_zip(st.data_dir())?;
        let io = |e: std::io::Error| CoreError::Io {
            path: out.display().to_string(),
            reason: e.to_string(),
        };
        let res = f(st, &out).and_then(|s| {
            let file = std::fs::File::open(&out).map_err(io)?;
            let len = file.metadata().map_err(io)?.len();
            Ok((file, len, s.audit_index))
        });
        let _ = std::fs::remove_file(&out);
        res
    })
    .await?;
    state.metrics.exports.fetch_add(1, Relaxed);
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; EXPORT_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(zip_response(Body::from_stream(stream), len, idx))
}
