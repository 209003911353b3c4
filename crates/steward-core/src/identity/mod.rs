//! One person, one subject, in one tenant (issue 15): which identifier
//! kinds are tenant-scoped, the blind-index namespace of an identifier
//! (N5.2: identifiers are found only through the keyed blind index), the
//! organisation a subject belongs to, and the re-index of existing entries
//! when the normalisation or the namespaces change ([`reindex`]).
//!
//! A username or a device id means something only inside its organisation
//! (N1.2: partners -> organisations -> users): its blind index is computed
//! over the organisation id and the value
//! ([`steward_domain::SubjectIdentifier::index_input_in`]), so two
//! organisations' `admin` are two subjects. Emails and IP addresses are
//! global unless the configuration scopes them too ([`IdentityConfig`]).
//! Records ingested without an organisation are in the deployment's own
//! namespace, apart from every organisation's.

use serde::{Deserialize, Serialize};
use steward_crypto::{BlindIndex, BlindKeys, blind_index_in};
use steward_domain::{IdentifierKind, Principal, SubjectId, SubjectIdentifier};
use steward_store::RegistryTable;

use crate::rows::row_json;
use crate::{CoreError, Steward};

pub(crate) mod merge;
pub(crate) mod reindex;
pub(crate) mod report;
pub(crate) mod resolve;
pub(crate) mod rotate;

/// `[identity]` in the configuration (issue 15 item 2).
///
/// ```toml
/// [identity]
/// tenant_scoped = ["username", "device_id", "billing_account"]  # the default
/// require_tenant = false   # true: refuse ingest of a tenant-scoped identifier without an organisation
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// The identifier kinds whose blind index is in the namespace of the
    /// record's organisation. `username` and `device_id` always are
    /// (refused at load otherwise); add `email` or `ip` to scope them too.
    pub tenant_scoped: Vec<IdentifierKind>,
    /// Refuse an ingest of a record naming a tenant-scoped identifier when
    /// no organisation is given (by the call or the ingesting principal).
    /// Default `false`: such records go to the deployment's own namespace.
    pub require_tenant: bool,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            tenant_scoped: vec![
                IdentifierKind::Username,
                IdentifierKind::DeviceId,
                IdentifierKind::BillingAccount,
            ],
            require_tenant: false,
        }
    }
}

impl IdentityConfig {
    /// Check the settings; `source` names the file in errors.
    ///
    /// Errors: [`CoreError::Config`] when `tenant_scoped` leaves out
    /// `username` or `device_id` (they mean something only inside an
    /// organisation, issue 15 item 2).
    pub fn validate(&self, source: &str) -> Result<(), CoreError> {
        for k in [IdentifierKind::Username, IdentifierKind::DeviceId] {
            if !self.tenant_scoped.contains(&k) {
                return Err(CoreError::Config(format!(
                    "{source}: identity.tenant_scoped must include `{k}`: a {k} means something only inside its organisation (issue 15)"
                )));
            }
        }
        Ok(())
    }
}

/// The registry row naming a subject's organisation namespace.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SubjectTenant {
    organisation: String,
}

/// The registry key of a subject's organisation namespace (in the tenancy
/// table of the subject's home region store).
fn tenant_key(id: SubjectId) -> String {
    format!("tenant:{id}")
}

impl Steward {
    /// Whether identifiers of `kind` are in their organisation's namespace.
    pub(crate) fn tenant_scoped(&self, kind: IdentifierKind) -> bool {
        self.config.identity.tenant_scoped.contains(&kind)
    }

    /// The live blind-index key versions (issue 13 item 3): the current
    /// one, and the previous one while a rotation is under way.
    ///
    /// Errors: [`CoreError`] from the provider (the key file cannot be read).
    pub(crate) fn blind_keys(&self) -> Result<BlindKeys, CoreError> {
        Ok(self.blind_keys.keys()?)
    }

    /// The blind index of `ident` for a subject of organisation `tenant`
    /// (`None`: the deployment's own namespace) under the current key
    /// version: the one new index entries are made under. A global kind
    /// ignores the tenant.
    ///
    /// Errors: as [`Steward::blind_keys`].
    pub(crate) fn blind_in(
        &self,
        ident: &SubjectIdentifier,
        tenant: Option<&str>,
    ) -> Result<BlindIndex, CoreError> {
        let t = tenant.filter(|_| self.tenant_scoped(ident.kind()));
        Ok(blind_index_in(self.blind_keys()?.current.bytes(), ident, t))
    }

    /// The blind indexes of `ident` in `tenant`'s namespace under every
    /// live key version, current first: where a lookup looks, so that an
    /// entry not yet re-indexed by an unfinished rotation is still found
    /// (issue 13 item 3).
    ///
    /// Errors: as [`Steward::blind_keys`].
    pub(crate) fn blinds_in(
        &self,
        ident: &SubjectIdentifier,
        tenant: Option<&str>,
    ) -> Result<Vec<BlindIndex>, CoreError> {
        let t = tenant.filter(|_| self.tenant_scoped(ident.kind()));
        let keys = self.blind_keys()?;
        Ok(keys
            .all()
            .into_iter()
            .map(|k| blind_index_in(k.bytes(), ident, t))
            .collect())
    }

    /// The subject whose index entry in region `region` is `ident` in
    /// `tenant`'s namespace, under any live key version, and the entry's
    /// blind index; the entry is checked (issue 13 item 6).
    ///
    /// Errors: store errors; [`CoreError::Integrity`] for an entry that
    /// does not open as `ident`.
    pub(crate) fn find_indexed(
        &self,
        region: usize,
        ident: &SubjectIdentifier,
        tenant: Option<&str>,
    ) -> Result<Option<(SubjectId, BlindIndex)>, CoreError> {
        for b in self.blinds_in(ident, tenant)? {
            // The store guard goes before the index entry is checked.
            let hit = self.rstore(region)?.subject_by_blind(&b)?;
            if let Some(id) = hit {
                self.check_index_entry(region, id, &b, ident)?;
                return Ok(Some((id, b)));
            }
        }
        Ok(None)
    }

    /// Every blind index `ident` may be found under: the global one for a
    /// global kind; for a tenant-scoped kind, the deployment's namespace
    /// and every organisation's (a lookup by staff, who name no tenant);
    /// each under every live key version, current first.
    pub(crate) fn blinds_everywhere(
        &self,
        ident: &SubjectIdentifier,
    ) -> Result<Vec<BlindIndex>, CoreError> {
        let mut out = self.blinds_in(ident, None)?;
        if self.tenant_scoped(ident.kind()) {
            for o in self.organisations()? {
                out.extend(self.blinds_in(ident, Some(&o.id))?);
            }
        }
        Ok(out)
    }

    /// The organisation namespace of subject `id` of region `region`: its
    /// `tenant:` row, else the organisation it is a user of; `None`: the
    /// deployment's own namespace.
    pub(crate) fn subject_tenant(
        &self,
        region: usize,
        id: SubjectId,
    ) -> Result<Option<String>, CoreError> {
        let row = self
            .rstore_read(region)?
            .registry_get(RegistryTable::Tenancy, &tenant_key(id))?;
        if let Some(b) = row {
            let t: SubjectTenant = serde_json::from_str(&b).map_err(|e| {
                CoreError::Store(steward_store::StoreError::Corrupt(format!(
                    "tenancy tenant:{id}: {e}"
                )))
            })?;
            return Ok(Some(t.organisation));
        }
        self.organisation_of_subject(id)
    }

    /// The registry row putting subject `id` in organisation `org`'s namespace.
    pub(crate) fn tenant_row(
        id: SubjectId,
        org: &str,
    ) -> Result<(RegistryTable, String, String), CoreError> {
        Ok((
            RegistryTable::Tenancy,
            tenant_key(id),
            row_json(&SubjectTenant {
                organisation: org.to_owned(),
            })?,
        ))
    }

    /// The organisation an ingest by `principal` is for: `given` (which
    /// must exist and, for a principal bound to organisations, be one of
    /// them), else the principal's one organisation, else none.
    ///
    /// Errors: [`CoreError::Input`] for an unknown organisation, one the
    /// principal does not act for, or a principal of several organisations
    /// that names none.
    pub(crate) fn ingest_tenant(
        &self,
        principal: &Principal,
        given: Option<&str>,
    ) -> Result<Option<String>, CoreError> {
        let own = &principal.organisations;
        match given {
            Some(o) => {
                if self.organisation(o)?.is_none() {
                    return Err(CoreError::Input(format!(
                        "organisation: no organisation `{o}`; create it first or name another"
                    )));
                }
                if !own.is_empty() && !own.iter().any(|x| x == o) {
                    return Err(CoreError::Input(format!(
                        "organisation: principal `{}` does not act for organisation `{o}`",
                        principal.name
                    )));
                }
                Ok(Some(o.to_owned()))
            }
            None => match own.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(one.clone())),
                _ => Err(CoreError::Input(format!(
                    "organisation: principal `{}` acts for several organisations; name the one the records are for (--organisation, or ?organisation= on the API)",
                    principal.name
                ))),
            },
        }
    }

    /// Refuse records naming a tenant-scoped identifier without a tenant
    /// when `[identity] require_tenant` is set (issue 15 item 2).
    pub(crate) fn check_tenant_given(
        &self,
        tenant: Option<&str>,
        records: &[steward_domain::NewRecord],
    ) -> Result<(), CoreError> {
        if tenant.is_some() || !self.config.identity.require_tenant {
            return Ok(());
        }
        if let Some((i, r)) = records
            .iter()
            .enumerate()
            .find(|(_, r)| self.tenant_scoped(r.subject().kind()))
        {
            return Err(CoreError::Input(format!(
                "record {}: its subject is a {} identifier, which means something only inside an organisation: give the organisation (--organisation, or ?organisation= on the API); nothing was stored",
                i + 1,
                r.subject().kind()
            )));
        }
        Ok(())
    }
}
