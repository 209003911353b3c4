//! The outbox: one-time-code messages of data subject requests (N7.4),
//! written for the mail system to pick up, and deleted once they are no
//! longer needed (issue 13 item 5): when the request is verified, when a new
//! code replaces them, and when the subject is erased. Each message holds
//! the subject's address in clear.

use std::path::Path;

use rand::Rng;
use time::OffsetDateTime;

use crate::CoreError;

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A verification message to send: the code and where it goes. Not
/// `Debug`: it holds the contact address and the code.
pub struct CodeMessage<'a> {
    /// The registered contact address (an email identifier of the subject).
    pub to: &'a str,
    /// The controller's privacy contact (the sender, N8.10).
    pub from: &'a str,
    /// The request id.
    pub request_id: &'a str,
    /// The one-time code (digits).
    pub code: &'a str,
    /// When the code expires.
    pub expires_at: OffsetDateTime,
}

/// Sends one-time codes (pluggable: SMTP, a queue, a test double).
pub trait CodeSender: Send + Sync {
    /// Deliver `m`. Must not log the address or the code.
    ///
    /// Errors: [`CoreError::Io`] (or any) when it could not be handed over.
    fn send(&self, m: &CodeMessage<'_>) -> Result<(), CoreError>;
}

/// The default [`CodeSender`]: writes each message as an RFC 5322 file
/// (`<dir>/<request>-<ms>.eml`, mode 0600, directory 0700) for the mail
/// system to pick up.
#[derive(Debug, Clone)]
pub struct OutboxSender {
    /// The outbox directory (default `<data_dir>/outbox`).
    pub dir: std::path::PathBuf,
}

impl OutboxSender {
    /// The RFC 5322 message text (CRLF line ends, 7-bit ASCII body).
    ///
    /// Errors: [`CoreError::Input`] when an address holds CR, LF or
    /// non-ASCII (no header injection).
    pub fn message(m: &CodeMessage<'_>, now: OffsetDateTime) -> Result<String, CoreError> {
        for (what, v) in [("to", m.to), ("from", m.from)] {
            if v.is_empty() || !v.is_ascii() || v.contains(['\r', '\n', '<', '>']) {
                return Err(CoreError::Input(format!(
                    "the verification message's {what} address is not a plain ASCII address"
                )));
            }
        }
        let rfc2822 = &time::format_description::well_known::Rfc2822;
        let date = now.format(rfc2822).unwrap_or_default();
        let expires = m.expires_at.format(rfc2822).unwrap_or_default();
        let mut nonce = [0u8; 8];
        rand::rng().fill(&mut nonce);
        let domain = m.from.rsplit('@').next().unwrap_or("steward.invalid");
        Ok(format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: Your verification code for request {id}\r\nDate: {date}\r\nMessage-ID: <{id}.{nonce}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\nAuto-Submitted: auto-generated\r\n\r\nWe received a request about your data (reference {id}).\r\n\r\nTo confirm that it was you, enter this code: {code}\r\n\r\nThe code expires at {expires}. If you did not make this request,\r\nignore this message: nothing will be done without the code.\r\n",
            from = m.from,
            to = m.to,
            id = m.request_id,
            nonce = hex::encode(nonce),
            code = m.code,
        ))
    }
}

impl CodeSender for OutboxSender {
    fn send(&self, m: &CodeMessage<'_>) -> Result<(), CoreError> {
        let now = OffsetDateTime::now_utc();
        let text = OutboxSender::message(m, now)?;
        let io = |p: &Path, e: std::io::Error| CoreError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io(&self.dir, e))?;
        }
        let name = format!("{}-{}.eml", m.request_id, ms(now));
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.partial"));
        let mut oo = std::fs::OpenOptions::new();
        oo.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut oo, 0o600);
        {
            use std::io::Write as _;
            let mut f = oo.open(&tmp).map_err(|e| io(&tmp, e))?;
            f.write_all(text.as_bytes()).map_err(|e| io(&tmp, e))?;
            f.sync_all().map_err(|e| io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
    }
}

/// Delete every message of request `request_id` from the default outbox
/// (`<data_dir>/outbox/<request>-<ms>.eml`, and a `.partial` a crash left):
/// the one-time code and the subject's address in clear must not outlive
/// their use (issue 13 item 5). Returns how many files went.
///
/// Errors: [`CoreError::Io`] naming a file that could not be deleted.
pub(crate) fn delete_messages(data_dir: &Path, request_id: &str) -> Result<u64, CoreError> {
    let dir = data_dir.join("outbox");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(CoreError::Io {
                path: dir.display().to_string(),
                reason: format!(
                    "{e}: cannot list the outbox to delete request {request_id}'s messages"
                ),
            });
        }
    };
    let prefix = format!("{request_id}-");
    let hidden = format!(".{request_id}-");
    let mut n = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(&prefix) || name.starts_with(&hidden)) {
            continue;
        }
        let p = e.path();
        match std::fs::remove_file(&p) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CoreError::Io {
                    path: p.display().to_string(),
                    reason: format!(
                        "{e}: delete it by hand (it holds a one-time code and an address)"
                    ),
                });
            }
        }
    }
    Ok(n)
}
