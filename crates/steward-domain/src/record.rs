//! Records as they arrive, before sealing: a kind, a data subject, fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{IdentifierKind, SubjectIdentifier};
use crate::vocab::{Kind, Product};

/// A field value: a JSON scalar (string, number, boolean or null).
pub type FieldValue = serde_json::Value;

/// A record's fields, by schema name, in name order.
pub type Fields = BTreeMap<String, FieldValue>;

/// A record to be stored: validated against its kind's closed schema by
/// [`NewRecord::new`], so a `NewRecord` always fits its schema.
///
/// `Debug` prints field names only, never values.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRecord {
    kind: Kind,
    /// The identifier the record's data subject is found by.
    #[serde(skip)]
    subject: Option<SubjectIdentifier>,
    product: Product,
    occurred_at: Option<String>,
    fields: Fields,
}

impl std::fmt::Debug for NewRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRecord")
            .field("kind", &self.kind.full_name())
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl NewRecord {
    /// Validate `fields` against `kind`'s closed schema (N1.3) and build a record.
    ///
    /// The subject is `subject` when given, else the first identifier field of
    /// the schema that the record holds.
    ///
    /// Errors: [`DomainError::UnknownField`] naming the first unknown field,
    /// [`DomainError::NonScalarField`], or [`DomainError::NoSubject`].
    pub fn new(
        kind: Kind,
        subject: Option<SubjectIdentifier>,
        product: Product,
        occurred_at: Option<String>,
        fields: Fields,
    ) -> Result<Self, DomainError> {
        for (name, value) in &fields {
            if kind.field(name).is_none() {
                return Err(DomainError::UnknownField {
                    field: name.chars().take(64).collect(),
                    kind: kind.full_name(),
                    allowed: kind
                        .fields()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            if value.is_object() || value.is_array() {
                return Err(DomainError::NonScalarField {
                    field: name.clone(),
                });
            }
        }
        let subject = match subject {
            Some(s) => s,
            None => {
                Self::subject_from_fields(kind, &fields)?.ok_or_else(|| DomainError::NoSubject {
                    kind: kind.full_name(),
                    fields: kind
                        .fields()
                        .iter()
                        .filter(|f| f.identifier.is_some())
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
            }
        };
        Ok(NewRecord {
            kind,
            subject: Some(subject),
            product,
            occurred_at,
            fields,
        })
    }

    fn subject_from_fields(
        kind: Kind,
        fields: &Fields,
    ) -> Result<Option<SubjectIdentifier>, DomainError> {
        for spec in kind.fields() {
            if let (Some(ik), Some(serde_json::Value::String(v))) =
                (spec.identifier, fields.get(spec.name))
                && !v.is_empty()
                && v != "-"
            {
                return SubjectIdentifier::new(ik, v).map(Some);
            }
        }
        Ok(None)
    }

    /// The record's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// The identifier of the record's data subject.
    pub fn subject(&self) -> &SubjectIdentifier {
        // INVARIANT: `new` always sets the subject.
        self.subject
            .as_ref()
            .expect("NewRecord::new sets the subject")
    }
    /// The product the record came from (N1.1).
    pub fn product(&self) -> Product {
        self.product
    }
    /// When the event happened (RFC 3339), if known.
    pub fn occurred_at(&self) -> Option<&str> {
        self.occurred_at.as_deref()
    }
    /// The fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }
    /// Identifier fields present in the record (every external identifier that
    /// should find this subject through the blind index).
    pub fn identifiers(&self) -> Vec<SubjectIdentifier> {
        let mut out = vec![self.subject().clone()];
        for spec in self.kind.fields() {
            if let (Some(ik), Some(serde_json::Value::String(v))) =
                (spec.identifier, self.fields.get(spec.name))
                && let Ok(id) = SubjectIdentifier::new(ik, v)
                && !out.contains(&id)
                && ik != IdentifierKind::Ip
            {
                out.push(id);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_refused_with_its_name_n1_3() {
        let kind: Kind = "account.profile".parse().unwrap();
        let mut fields = Fields::new();
        fields.insert("username".into(), "ann".into());
        fields.insert("document_body".into(), "customer content".into());
        let e = NewRecord::new(kind, None, Product::CloudPlatform, None, fields).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("unknown field `document_body` for kind account.profile"),
            "{msg}"
        );
        assert!(!msg.contains("customer content"));
    }

    #[test]
    fn subject_comes_from_first_identifier_field() {
        let kind: Kind = "usage.access".parse().unwrap();
        let mut fields = Fields::new();
        fields.insert("client_ip".into(), "10.0.0.1".into());
        fields.insert("user".into(), "-".into());
        let r = NewRecord::new(kind, None, Product::CloudPlatform, None, fields).unwrap();
        assert_eq!(r.subject().kind(), IdentifierKind::Ip);
        assert_eq!(
            format!("{r:?}"),
            "NewRecord { kind: \"usage.access\", fields: [\"client_ip\", \"user\"], .. }"
        );
    }
}
