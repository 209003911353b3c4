//! Identity verification of email requests by one-time code (N7.4).

use super::*;
use crate::rows::{parse_row, row_json};

/// A one-time code row of the `dsr_verifications` registry: a keyed hash
/// (HMAC-SHA-256 under the blind-index key) of the code, never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CodeRow {
    request: String,
    code_hmac: Option<String>,
    expires_at_ms: i64,
    attempts: u32,
    max_attempts: u32,
    sent_at: String,
    /// The blind-index key version the code was hashed under (issue 13
    /// item 3); absent in rows written before versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_version: Option<u32>,
}

impl Steward {
    /// Send a one-time code for an email request to its registered
    /// contact, through the default outbox ([`OutboxSender`] in
    /// `<data_dir>/outbox`).
    pub fn send_verification(&self, id: &str) -> Result<Request, CoreError> {
        let sender = OutboxSender {
            dir: self.data_dir.join("outbox"),
        };
        self.send_verification_with(id, &sender)
    }

    /// Send a one-time code for request `id` through `sender`, at the clock's now.
    ///
    /// The code is 8 digits from the operating system's CSPRNG (via
    /// `rand::rng`), stored only as a keyed hash with its expiry
    /// (`dsr.code_ttl_secs`) and attempt limit (`dsr.code_max_attempts`).
    /// It goes to the registered contact: the email identifier whose blind
    /// index the request was made under (the sender's address matched it),
    /// opened from the subject's sealed identifiers; it is never logged or
    /// stored in clear. Sending again replaces the previous code and keeps
    /// the attempts already used.
    ///
    /// Errors: [`CoreError::Input`] when the request is not waiting for a
    /// code (verified, unverified sender, locked, final) or has no email
    /// contact; the sender's error (the code is then on record but unsent:
    /// send again).
    pub fn send_verification_with(
        &self,
        id: &str,
        sender: &dyn CodeSender,
    ) -> Result<Request, CoreError> {
        let now = self.clock.now();
        let (before, mut req) = self.load_request(id)?;
        if req.state != RequestState::Received
            || !matches!(
                req.verification.state,
                VerificationState::Pending | VerificationState::CodeSent
            )
        {
            return Err(CoreError::Input(format!(
                "request {id} is not waiting for a verification code (state {}, verification {:?})",
                req.state.as_str(),
                req.verification.state
            )));
        }
        let contact = self.registered_contact(&req)?;
        let code = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
        let key_version = self.blind_keys()?.current.version;
        let mut mac = self
            .code_hmacs(id)?
            .into_iter()
            .next()
            .ok_or_else(|| CoreError::Config("no blind-index key".into()))?;
        mac.update(code.as_bytes());
        let hash = hex::encode(mac.finalize().into_bytes());
        let old = self
            .store()?
            .registry_get(RegistryTable::Verifications, id)?;
        let attempts = match old.as_deref() {
            Some(b) => parse_row::<CodeRow>(RegistryTable::Verifications, id, b)?.attempts,
            None => 0,
        };
        let expires_at = now + Duration::seconds(self.config.dsr.code_ttl_secs as i64);
        let row = CodeRow {
            request: id.to_owned(),
            code_hmac: Some(hash),
            expires_at_ms: ms(expires_at),
            attempts,
            max_attempts: self.config.dsr.code_max_attempts,
            sent_at: rfc3339(now),
            key_version: Some(key_version),
        };
        req.verification.state = VerificationState::CodeSent;
        // The new code replaces the old one: so does its message.
        crate::outbox::delete_messages(&self.data_dir, id)?;
        let extra = ChangeSet {
            registry: vec![(RegistryTable::Verifications, id.to_owned(), row_json(&row)?)],
            guards: vec![RegistryGuard {
                table: RegistryTable::Verifications,
                id: id.to_owned(),
                expected: old,
            }],
            ..Default::default()
        };
        self.transition(
            Some(&before),
            &mut req,
            RequestState::Received,
            Step {
                action: "dsr_code_sent",
                by: "steward",
                clause: "N7.4",
                note: "one-time code sent to the registered contact".into(),
            },
            now,
            extra,
        )?;
        sender.send(&CodeMessage {
            to: &contact,
            from: &self.config.controller.contact_email,
            request_id: id,
            code: &code,
            expires_at,
        })?;
        Ok(req)
    }

    /// The registered email contact of an email request: the subject's
    /// email identifier under the request's blind index, opened with the
    /// subject's data key. Never logged.
    fn registered_contact(&self, req: &Request) -> Result<String, CoreError> {
        let none = || {
            CoreError::Input(format!(
                "request {} has no registered email contact to send a code to",
                req.id
            ))
        };
        let (Some(s), Some(region), Some(blind)) = (
            req.subject.as_deref(),
            req.subject_region.as_deref(),
            req.identifier_ref.as_deref(),
        ) else {
            return Err(none());
        };
        let s: SubjectId = s.parse().map_err(|_| corrupt(&req.id, "subject"))?;
        let r = self.region_index(region)?;
        // The gate records the opening before it opens (fail closed).
        let v = self
            .open_registered_email(r, s, blind, &req.id)?
            .ok_or_else(none)?;
        String::from_utf8(v).map_err(|_| corrupt(&req.id, "contact"))
    }

    /// Verify request `id` with `code`, at the clock's now: a match within the code's
    /// lifetime verifies the request (recorded, audited) and spends the
    /// code; a wrong code uses one attempt (audited), and the last allowed
    /// wrong attempt locks verification.
    ///
    /// Errors: [`CoreError::Input`] naming what is wrong: no code sent,
    /// the code expired (send a new one), the code does not match (attempts
    /// left), verification locked.
    pub fn verify(&self, id: &str, code: &str) -> Result<Request, CoreError> {
        let now = self.clock.now();
        let (before, mut req) = self.load_request(id)?;
        if req.verification.state == VerificationState::Locked {
            return Err(CoreError::Input(format!(
                "request {id}: verification is locked after too many wrong codes; the request stays unverified"
            )));
        }
        if req.state != RequestState::Received
            || req.verification.state != VerificationState::CodeSent
        {
            return Err(CoreError::Input(format!(
                "request {id} has no code to enter (state {}): send one first",
                req.state.as_str()
            )));
        }
        let vbefore = self
            .store()?
            .registry_get(RegistryTable::Verifications, id)?
            .ok_or_else(|| corrupt(id, "the code row"))?;
        let mut row: CodeRow = parse_row(RegistryTable::Verifications, id, &vbefore)?;
        let Some(hash) = row.code_hmac.clone() else {
            return Err(CoreError::Input(format!(
                "request {id} has no code to enter: send one first"
            )));
        };
        if ms(now) > row.expires_at_ms {
            return Err(CoreError::Input(format!(
                "request {id}: the code expired; send a new one"
            )));
        }
        let expected = hex::decode(&hash).map_err(|_| corrupt(id, "the code hash"))?;
        let matches = self.code_hmacs(id)?.into_iter().any(|mut mac| {
            mac.update(code.trim().as_bytes());
            mac.verify_slice(&expected).is_ok()
        });
        let guard = RegistryGuard {
            table: RegistryTable::Verifications,
            id: id.to_owned(),
            expected: Some(vbefore),
        };
        if matches {
            row.code_hmac = None;
            req.verification = Verification {
                state: VerificationState::Verified,
                method: Some("one_time_code".into()),
                verified_by: Some("registered_contact".into()),
                verified_at: Some(rfc3339(now)),
            };
            self.transition(
                Some(&before),
                &mut req,
                RequestState::Verified,
                Step {
                    action: "dsr_verify",
                    by: "registered_contact",
                    clause: "N7.4",
                    note: "verified by one-time code".into(),
                },
                now,
                ChangeSet {
                    registry: vec![(RegistryTable::Verifications, id.to_owned(), row_json(&row)?)],
                    guards: vec![guard],
                    ..Default::default()
                },
            )?;
            // Issue 13 item 5: the code is spent; its message goes.
            crate::outbox::delete_messages(&self.data_dir, id)?;
            return Ok(req);
        }
        row.attempts += 1;
        let left = row.max_attempts.saturating_sub(row.attempts);
        if left == 0 {
            row.code_hmac = None;
            req.verification.state = VerificationState::Locked;
        }
        self.transition(
            Some(&before),
            &mut req,
            RequestState::Received,
            Step {
                action: "dsr_verify_failed",
                by: "registered_contact",
                clause: "N7.4",
                note: format!("wrong code ({} of {})", row.attempts, row.max_attempts),
            },
            now,
            ChangeSet {
                registry: vec![(RegistryTable::Verifications, id.to_owned(), row_json(&row)?)],
                guards: vec![guard],
                ..Default::default()
            },
        )?;
        Err(CoreError::Input(if left == 0 {
            format!("request {id}: the code does not match; verification is now locked")
        } else {
            format!("request {id}: the code does not match; {left} attempts left")
        }))
    }

    /// Forget every outstanding one-time code hashed under a blind-index
    /// key version other than `current` (issue 13 item 3: that version is
    /// about to be destroyed, and the code could no longer be checked):
    /// the hash is dropped and the code's message deleted; the request
    /// stays waiting for a code (`send` again). Returns how many.
    ///
    /// Errors: store errors (nothing is changed).
    pub(crate) fn forget_codes_not_under(&self, current: u32) -> Result<u64, CoreError> {
        let mut cs = ChangeSet::default();
        let mut ids = Vec::new();
        for (id, body) in self.store()?.registry_list(RegistryTable::Verifications)? {
            let mut row: CodeRow = parse_row(RegistryTable::Verifications, &id, &body)?;
            if row.code_hmac.is_none() || row.key_version == Some(current) {
                continue;
            }
            row.code_hmac = None;
            cs.registry
                .push((RegistryTable::Verifications, id.clone(), row_json(&row)?));
            cs.guards.push(RegistryGuard {
                table: RegistryTable::Verifications,
                id: id.clone(),
                expected: Some(body),
            });
            ids.push(id);
        }
        if ids.is_empty() {
            return Ok(0);
        }
        self.store()?.commit(cs)?;
        for id in &ids {
            crate::outbox::delete_messages(&self.data_dir, id)?;
        }
        Ok(ids.len() as u64)
    }
}
