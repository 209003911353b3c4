//! The data map (N5.4, N8.4): what Service Data Steward holds, for which
//! purposes, under which fideslang keys and for how long, exported as a
//! fideslang taxonomy (YAML) for tools and as a Markdown page for people.
//!
//! Everything is derived from the closed tables of `steward-domain`: the
//! kinds and their fields ([`KINDS`]) with their fideslang keys, the purposes
//! with their fideslang data uses ([`Purpose::fideslang_data_use`]), the
//! extension keys ([`FIDESLANG_EXTENSIONS`]) and the principal kinds (staff or
//! not, [`PrincipalKind::is_staff`]). Only the retention texts and which
//! categories each purpose may touch come from [`DatamapConfig`]; both have
//! defaults.
//!
//! The YAML has three top-level lists, as fideslang's `Taxonomy` model reads
//! them: `system` (one system `steward`, one privacy declaration per purpose
//! and one for the principal register), `dataset` (one dataset
//! `steward_service_data`, one collection per kind, named
//! `<category>_<kind>`, one field per schema field) and `data_category` (the
//! extension keys, so the taxonomy resolves). fideslang 3 has no retention
//! field on datasets; retention per category is written to the dataset's
//! `meta.retention` map and to each declaration's `retention_period`.
//! `scripts/validate_datamap.py` checks the result with fideslang itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;
use steward_domain::vocab::KINDS;
use steward_domain::{Category, FIDESLANG_EXTENSIONS, PrincipalKind, Purpose};

use crate::error::NoticeError;
use crate::yaml::quote;

/// The fides key of the exported system.
pub const SYSTEM_KEY: &str = "steward";
/// The fides key of the exported dataset of Service Data.
pub const DATASET_KEY: &str = "steward_service_data";

/// What the data map cannot derive from the domain tables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatamapConfig {
    /// Retention per category: category name (`account`, `billing`, ...) to
    /// the retention text printed in the map. A category with no entry is
    /// shown as `not configured`.
    pub retention: BTreeMap<String, String>,
    /// The categories each purpose may touch. The default mirrors the policy
    /// pack (see [`default_purpose_categories`]). A purpose with no entry
    /// touches none.
    pub purpose_categories: BTreeMap<Purpose, Vec<Category>>,
}

impl Default for DatamapConfig {
    fn default() -> Self {
        DatamapConfig {
            retention: default_retention(),
            purpose_categories: default_purpose_categories(),
        }
    }
}

impl DatamapConfig {
    /// Checks that every retention key names a category.
    ///
    /// # Errors
    /// [`NoticeError::UnknownRetentionCategory`] naming the first bad key.
    pub fn validate(&self) -> Result<(), NoticeError> {
        for name in self.retention.keys() {
            if name.parse::<Category>().is_err() {
                return Err(NoticeError::UnknownRetentionCategory { name: name.clone() });
            }
        }
        Ok(())
    }

    /// The retention text of `category`, or `not configured`.
    pub fn retention_of(&self, category: Category) -> &str {
        self.retention
            .get(category.as_str())
            .map(String::as_str)
            .unwrap_or("not configured")
    }

    /// The categories `purpose` may touch, in the notice's order, without
    /// duplicates.
    pub fn categories_of(&self, purpose: Purpose) -> Vec<Category> {
        let set: BTreeSet<Category> = self
            .purpose_categories
            .get(&purpose)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        Category::ALL
            .into_iter()
            .filter(|c| set.contains(c))
            .collect()
    }
}

/// Default retention per category. Placeholders until the controller
/// configures its own: they are printed as given.
pub fn default_retention() -> BTreeMap<String, String> {
    Category::ALL
        .into_iter()
        .map(|c| {
            let text = match c {
                Category::Account => {
                    "While the account exists; deleted (crypto-shredded) within 30 days after it is closed"
                }
                Category::Billing => {
                    "7 years after the end of the fiscal year (financial record-keeping duty)"
                }
                Category::Configuration => {
                    "While the resource exists; deleted within 30 days after it is removed"
                }
                Category::Usage => "180 days",
                Category::Communications => "3 years after the case or message is closed",
            };
            (c.as_str().to_owned(), text.to_owned())
        })
        .collect()
}

/// Default categories per purpose: for each purpose, the categories some
/// principal may read, export or ingest under it in the policy pack of
/// `steward-policy` (`pack/*.cedar`), as written when this table was made.
/// Kept here, not read from the pack, so that this crate does not depend on
/// the policy engine; a deployment can pass the engine's own view instead.
pub fn default_purpose_categories() -> BTreeMap<Purpose, Vec<Category>> {
    use Category::{Account, Billing, Communications, Configuration, Usage};
    const ALL: &[Category] = &Category::ALL;
    Purpose::ALL
        .into_iter()
        .map(|p| {
            let cats: &[Category] = match p {
                // Services ingest any category; subjects and administrators
                // export any category of their own or their users' data.
                Purpose::ProvideServices => ALL,
                Purpose::Recommendations => &[Billing, Configuration, Usage, Communications],
                Purpose::MaintainImprove => &[Configuration, Usage],
                Purpose::OtherServices => &[Account, Configuration, Usage],
                // Support staff and support providers on an open case;
                // notifications to the account's contact details.
                Purpose::Assist => &[Account, Communications],
                Purpose::Protect => &[Configuration, Usage],
                // Any category, against a recorded legal obligation.
                Purpose::Comply => ALL,
                // Any category, aggregated or anonymised, about no single subject.
                Purpose::InternalReporting => ALL,
            };
            (p, cats.to_vec())
        })
        .collect()
}

/// The fideslang data subject a principal kind's records are about, if a
/// person's: staff are `employee` or `consultant`, customers' people are
/// `customer`, processors `supplier_vendor`; apps and services are no one.
pub fn principal_data_subject(kind: PrincipalKind) -> Option<&'static str> {
    match kind {
        PrincipalKind::Employee | PrincipalKind::AffiliateStaff => Some("employee"),
        PrincipalKind::Contractor | PrincipalKind::Agent => Some("consultant"),
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller | PrincipalKind::DataSubject => {
            Some("customer")
        }
        PrincipalKind::Processor => Some("supplier_vendor"),
        PrincipalKind::ThirdPartyApp | PrincipalKind::Service => None,
    }
}

/// The fields of a principal record (the serialised shape of
/// `steward_domain::Principal`) and their fideslang keys. Principals are not
/// Service Data, but the register holds personal data of staff and of
/// customers' people, so the map shows it.
pub const PRINCIPAL_FIELDS: &[(&str, &str)] = &[
    ("name", "user.account.username"),
    ("kind", "system.authentication"),
    ("teams", "system.authentication"),
    ("confidentiality_signed_on", "system.authentication"),
    ("training_expires_on", "system.authentication"),
    ("engagement_ends_on", "system.authentication"),
    ("subject", "user.unique_id.pseudonymous"),
    ("organisations", "user.workplace"),
    ("revoked", "system.authentication"),
];

/// The data subject of every Service Data record: the customer's people
/// (fideslang `customer`; partners' customers are customers too).
const SERVICE_DATA_SUBJECT: &str = "customer";

/// The fideslang data categories a purpose may touch: the keys of every
/// field of every kind of its categories, sorted, without duplicates.
pub fn purpose_data_categories(cfg: &DatamapConfig, purpose: Purpose) -> Vec<&'static str> {
    let cats = cfg.categories_of(purpose);
    let keys: BTreeSet<&'static str> = KINDS
        .iter()
        .filter(|k| cats.contains(&k.category))
        .flat_map(|k| k.fields.iter().map(|f| f.fideslang))
        .collect();
    keys.into_iter().collect()
}

fn principal_register_subjects() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = PrincipalKind::ALL
        .into_iter()
        .filter_map(principal_data_subject)
        .collect();
    set.into_iter().collect()
}

fn principal_register_categories() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = PRINCIPAL_FIELDS.iter().map(|(_, k)| *k).collect();
    set.into_iter().collect()
}

fn collection_name(category: Category, kind: &str) -> String {
    format!("{}_{kind}", category.as_str())
}

/// `resource_identifier` -> `Resource identifier`.
fn name_from_key(key: &str) -> String {
    let last = key.rsplit('.').next().unwrap_or(key).replace('_', " ");
    let mut chars = last.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn retention_summary(cfg: &DatamapConfig, cats: &[Category]) -> String {
    cats.iter()
        .map(|c| format!("{c}: {}", cfg.retention_of(*c)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn yaml_list(out: &mut String, indent: usize, key: &str, items: &[&str]) {
    let pad = " ".repeat(indent);
    if items.is_empty() {
        let _ = writeln!(out, "{pad}{key}: []");
        return;
    }
    let _ = writeln!(out, "{pad}{key}:");
    for i in items {
        let _ = writeln!(out, "{pad}  - {}", quote(i));
    }
}

/// The data map as a fideslang taxonomy in YAML: `system`, `dataset` and
/// `data_category` (N5.4, N8.4). Every string scalar is double-quoted.
pub fn datamap_fideslang(cfg: &DatamapConfig) -> String {
    let mut y = String::new();
    y.push_str(
        "# Steward data map (N5.4, N8.4): a fideslang taxonomy (system, dataset, data_category).\n\
         # Generated by steward-notice from the closed vocabularies of steward-domain; do not edit.\n\
         # Validate with: scripts/validate_datamap.py FILE\n",
    );
    // ---- system
    y.push_str("system:\n");
    let _ = writeln!(y, "  - fides_key: {}", quote(SYSTEM_KEY));
    let _ = writeln!(y, "    name: {}", quote("Steward"));
    let _ = writeln!(
        y,
        "    description: {}",
        quote(
            "Holds the Service Data of the Cloud Services under the privacy notice of 2024-01-18: \
             closed categories of data, every read for one stated purpose, checked by policy and audited."
        )
    );
    let _ = writeln!(y, "    system_type: {}", quote("Service"));
    y.push_str("    processes_personal_data: true\n");
    yaml_list(&mut y, 4, "dataset_references", &[DATASET_KEY]);
    y.push_str("    privacy_declarations:\n");
    for p in Purpose::ALL {
        let cats = cfg.categories_of(p);
        let keys = purpose_data_categories(cfg, p);
        let _ = writeln!(
            y,
            "      - name: {}",
            quote(&format!(
                "{} ({}): {}",
                p.as_str(),
                p.clause(),
                p.plain_words()
            ))
        );
        let _ = writeln!(y, "        data_use: {}", quote(p.fideslang_data_use()));
        yaml_list(&mut y, 8, "data_categories", &keys);
        yaml_list(&mut y, 8, "data_subjects", &[SERVICE_DATA_SUBJECT]);
        yaml_list(&mut y, 8, "dataset_references", &[DATASET_KEY]);
        if !cats.is_empty() {
            let _ = writeln!(
                y,
                "        retention_period: {}",
                quote(&retention_summary(cfg, &cats))
            );
        }
    }
    let _ = writeln!(
        y,
        "      - name: {}",
        quote(
            "principal_register (N5.5, N8.6): who may ask for Service Data, their teams, \
             confidentiality attestation, training and engagement dates, and revocation"
        )
    );
    let _ = writeln!(
        y,
        "        data_use: {}",
        quote("essential.service.security")
    );
    yaml_list(
        &mut y,
        8,
        "data_categories",
        &principal_register_categories(),
    );
    yaml_list(&mut y, 8, "data_subjects", &principal_register_subjects());
    // ---- dataset
    y.push_str("dataset:\n");
    let _ = writeln!(y, "  - fides_key: {}", quote(DATASET_KEY));
    let _ = writeln!(y, "    name: {}", quote("Steward Service Data"));
    let _ = writeln!(
        y,
        "    description: {}",
        quote(
            "Service Data as the notice defines it (N1.3, N2): one collection per kind of record, \
             each with its closed field schema."
        )
    );
    yaml_list(&mut y, 4, "data_subjects", &[SERVICE_DATA_SUBJECT]);
    y.push_str("    meta:\n      retention:\n");
    for c in Category::ALL {
        let _ = writeln!(y, "        {}: {}", c.as_str(), quote(cfg.retention_of(c)));
    }
    y.push_str("    collections:\n");
    for k in KINDS {
        let _ = writeln!(
            y,
            "      - name: {}",
            quote(&collection_name(k.category, k.name))
        );
        let _ = writeln!(
            y,
            "        description: {}",
            quote(&format!(
                "{} Category {} ({}). Retention: {}.",
                k.description.trim_end_matches('.'),
                k.category.as_str(),
                k.category.clause(),
                cfg.retention_of(k.category)
            ))
        );
        y.push_str("        fields:\n");
        for f in k.fields {
            let _ = writeln!(y, "          - name: {}", quote(f.name));
            if let Some(id) = f.identifier {
                let _ = writeln!(
                    y,
                    "            description: {}",
                    quote(&format!(
                        "External identifier of the data subject ({}), found through the blind index, never stored in clear",
                        id.as_str()
                    ))
                );
            }
            yaml_list(&mut y, 12, "data_categories", &[f.fideslang]);
        }
    }
    // ---- extension keys
    y.push_str("data_category:\n");
    for (key, parent, description) in FIDESLANG_EXTENSIONS {
        let _ = writeln!(y, "  - fides_key: {}", quote(key));
        let _ = writeln!(y, "    name: {}", quote(&name_from_key(key)));
        let _ = writeln!(y, "    description: {}", quote(description));
        let _ = writeln!(y, "    parent_key: {}", quote(parent));
    }
    y
}

/// Escapes a table cell: pipes and line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The data map for people, as Markdown (N5.4, N8.4): the purposes with
/// their fideslang data uses (N8.2), then a table per category (kind, field,
/// fideslang key) with its retention and purposes, the principal register,
/// and the extension keys.
pub fn datamap_markdown(cfg: &DatamapConfig) -> String {
    let mut m = String::new();
    m.push_str("# Steward data map\n\n");
    m.push_str(
        "What Service Data Steward holds, why, under which fideslang keys and for how long \
         (N5.4, N8.4). Generated by `steward-notice` from the closed vocabularies of \
         `steward-domain`; the same map as a fideslang taxonomy is produced by \
         `datamap_fideslang` and checked by `scripts/validate_datamap.py`.\n\n",
    );
    let _ = writeln!(
        m,
        "fideslang system `{SYSTEM_KEY}`, dataset `{DATASET_KEY}`; data subject of every \
         Service Data record: `{SERVICE_DATA_SUBJECT}`.\n"
    );
    m.push_str("## Purposes of use (N3, N8.2)\n\n");
    m.push_str("| Purpose | Clause | fideslang data use | Categories | Stated as |\n");
    m.push_str("|---|---|---|---|---|\n");
    for p in Purpose::ALL {
        let cats = cfg
            .categories_of(p)
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            m,
            "| `{}` | {} | `{}` | {} | {} |",
            p.as_str(),
            p.clause(),
            p.fideslang_data_use(),
            if cats.is_empty() { "none" } else { &cats },
            cell(p.plain_words())
        );
    }
    m.push_str("\n## Categories of Service Data (N2)\n");
    for c in Category::ALL {
        let _ = writeln!(m, "\n### {} ({})\n", c.as_str(), c.clause());
        let _ = writeln!(m, "{}.\n", cell(c.description()).trim_end_matches('.'));
        let _ = writeln!(m, "- Retention: {}", cell(cfg.retention_of(c)));
        let purposes = Purpose::ALL
            .into_iter()
            .filter(|p| cfg.categories_of(*p).contains(&c))
            .map(|p| format!("`{}` (`{}`)", p.as_str(), p.fideslang_data_use()))
            .collect::<Vec<_>>();
        let _ = writeln!(
            m,
            "- Purposes: {}\n",
            if purposes.is_empty() {
                "none".to_owned()
            } else {
                purposes.join(", ")
            }
        );
        m.push_str("| Kind | Collection | Field | fideslang key | Subject identifier |\n");
        m.push_str("|---|---|---|---|---|\n");
        for k in KINDS.iter().filter(|k| k.category == c) {
            for f in k.fields {
                let _ = writeln!(
                    m,
                    "| `{}.{}` | `{}` | `{}` | `{}` | {} |",
                    c.as_str(),
                    k.name,
                    collection_name(c, k.name),
                    f.name,
                    f.fideslang,
                    f.identifier.map(|i| i.as_str()).unwrap_or("")
                );
            }
        }
    }
    m.push_str("\n## Principal register (N5.5, N8.6)\n\n");
    m.push_str(
        "Not Service Data, but personal data Steward keeps about the people who may ask for \
         it. fideslang data use `essential.service.security`.\n\n",
    );
    m.push_str("| Principal kind | Staff | fideslang data subject |\n|---|---|---|\n");
    for k in PrincipalKind::ALL {
        let _ = writeln!(
            m,
            "| `{}` | {} | {} |",
            k.as_str(),
            if k.is_staff() { "yes" } else { "no" },
            principal_data_subject(k)
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| "none (not a person)".to_owned())
        );
    }
    m.push_str("\n| Field | fideslang key |\n|---|---|\n");
    for (field, key) in PRINCIPAL_FIELDS {
        let _ = writeln!(m, "| `{field}` | `{key}` |");
    }
    m.push_str("\n## Extension keys\n\n");
    m.push_str(
        "Keys Steward adds to the fideslang taxonomy where its default taxonomy has none; \
         each sits under an existing parent and is exported as a `data_category` entry.\n\n",
    );
    m.push_str("| Key | Parent | Description |\n|---|---|---|\n");
    for (key, parent, description) in FIDESLANG_EXTENSIONS {
        let _ = writeln!(m, "| `{key}` | `{parent}` | {} |", cell(description));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::Principal;

    /// Lines of `y` that start (after indentation) with `prefix`.
    fn lines_starting<'a>(y: &'a str, prefix: &str) -> Vec<&'a str> {
        y.lines()
            .filter(|l| l.trim_start().starts_with(prefix))
            .collect()
    }

    #[test]
    fn fideslang_export_has_one_collection_per_kind_and_every_field() {
        // The inventory half of N5.4 only: access reviews are not built, so
        // this test does not claim the clause (issue 16).
        let y = datamap_fideslang(&DatamapConfig::default());
        let top: Vec<&str> = y
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
            .collect();
        assert_eq!(top, ["system:", "dataset:", "data_category:"]);
        // 20 kinds in the domain table; counted here from the collection lines.
        let collections: Vec<&str> = y
            .lines()
            .filter(|l| l.starts_with("      - name: ") && !l.contains('('))
            .collect();
        assert_eq!(collections.len(), KINDS.len());
        assert!(y.contains("      - name: \"usage_authentication\"\n"));
        assert!(y.contains("      - name: \"billing_credit_check\"\n"));
        let fields =
            lines_starting(&y, "- name: ").len() - collections.len() - Purpose::ALL.len() - 1;
        let want: usize = KINDS.iter().map(|k| k.fields.len()).sum();
        assert_eq!(fields, want);
        // The FOCUS charge alone has 44 fields.
        assert!(want > 44);
        assert!(y.contains(
            "          - name: \"source_ip\"\n            description: \"External identifier of the data subject (ip), found through the blind index, never stored in clear\"\n            data_categories:\n              - \"user.device.ip_address\"\n"
        ));
    }

    #[test]
    fn declarations_state_every_purpose_with_its_data_use_n8_2() {
        let y = datamap_fideslang(&DatamapConfig::default());
        let uses = lines_starting(&y, "data_use: ");
        assert_eq!(uses.len(), 9);
        for p in Purpose::ALL {
            assert!(
                y.contains(&format!(
                    "        data_use: \"{}\"\n",
                    p.fideslang_data_use()
                )),
                "{p}"
            );
            assert!(y.contains(&format!(
                "      - name: \"{} ({}): ",
                p.as_str(),
                p.clause()
            )));
        }
        // protect touches configuration and usage only: no first name
        // (account), no charges (billing), no support messages (communications).
        let cats = purpose_data_categories(&DatamapConfig::default(), Purpose::Protect);
        assert!(cats.contains(&"user.device.ip_address"));
        assert!(cats.contains(&"system.operations.resource_identifier"));
        assert!(!cats.contains(&"user.name.first"));
        assert!(!cats.contains(&"user.financial"));
        assert!(!cats.contains(&"user.contact.support_communications"));
        // A purpose configured with no category declares none.
        let mut cfg = DatamapConfig::default();
        cfg.purpose_categories.remove(&Purpose::Recommendations);
        assert!(purpose_data_categories(&cfg, Purpose::Recommendations).is_empty());
        assert!(datamap_fideslang(&cfg).contains("        data_categories: []\n"));
        let md = datamap_markdown(&DatamapConfig::default());
        for p in Purpose::ALL {
            assert!(md.contains(&format!(
                "| `{}` | {} | `{}` |",
                p.as_str(),
                p.clause(),
                p.fideslang_data_use()
            )));
        }
    }

    #[test]
    fn retention_per_category_is_written_where_fideslang_reads_it() {
        // Not N8.4's proof: provision-to-third-party records are not kept
        // yet (issue 16).
        let mut cfg = DatamapConfig::default();
        cfg.retention
            .insert("usage".into(), "90 days \"rolling\"".into());
        cfg.retention.remove("communications");
        cfg.validate().unwrap();
        let y = datamap_fideslang(&cfg);
        assert!(y.contains("    meta:\n      retention:\n        account: \""));
        assert!(y.contains("        usage: \"90 days \\\"rolling\\\"\"\n"));
        assert!(y.contains("        communications: \"not configured\"\n"));
        assert!(y.contains(
            "        description: \"Authentication details, e.g. one sshd log line (N2.4) Category usage (N2.4). Retention: 90 days \\\"rolling\\\".\"\n"
        ));
        cfg.retention.insert("secrets".into(), "forever".into());
        assert_eq!(
            cfg.validate().unwrap_err().to_string(),
            "datamap configuration: retention names unknown category `secrets`: expected one of account, billing, configuration, usage, communications"
        );
    }

    #[test]
    fn extension_keys_are_exported_as_data_categories() {
        let y = datamap_fideslang(&DatamapConfig::default());
        let tail = y.split("\ndata_category:\n").nth(1).unwrap();
        assert_eq!(
            lines_starting(tail, "- fides_key: ").len(),
            FIDESLANG_EXTENSIONS.len()
        );
        for (key, parent, _) in FIDESLANG_EXTENSIONS {
            assert!(key.starts_with(&format!("{parent}.")), "{key}");
            assert!(tail.contains(&format!("  - fides_key: \"{key}\"\n")));
            assert!(tail.contains(&format!("    parent_key: \"{parent}\"\n")));
        }
        assert!(tail.contains("    name: \"Resource identifier\"\n"));
    }

    #[test]
    fn principal_fields_match_the_domain_principal() {
        let p = Principal {
            name: "alice".into(),
            kind: PrincipalKind::Employee,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        };
        let v = serde_json::to_value(&p).unwrap();
        let mut got: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut want: Vec<&str> = PRINCIPAL_FIELDS.iter().map(|(f, _)| *f).collect();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(
            principal_register_subjects(),
            ["consultant", "customer", "employee", "supplier_vendor"]
        );
        let y = datamap_fideslang(&DatamapConfig::default());
        assert!(y.contains(
            "        data_subjects:\n          - \"consultant\"\n          - \"customer\"\n          - \"employee\"\n          - \"supplier_vendor\"\n"
        ));
    }

    #[test]
    fn markdown_has_a_table_per_category_and_the_extension_keys() {
        let md = datamap_markdown(&DatamapConfig::default());
        for c in Category::ALL {
            assert!(md.contains(&format!("\n### {} ({})\n", c.as_str(), c.clause())));
        }
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| `") && l.matches(" | ").count() == 4 && l.contains('.'))
            .count();
        let want: usize = KINDS.iter().map(|k| k.fields.len()).sum::<usize>() + Purpose::ALL.len();
        assert_eq!(rows, want);
        assert!(md.contains("| `usage.authentication` | `usage_authentication` | `source_ip` | `user.device.ip_address` | ip |"));
        for (key, _, _) in FIDESLANG_EXTENSIONS {
            assert!(md.contains(&format!("| `{key}` |")));
        }
    }
}
