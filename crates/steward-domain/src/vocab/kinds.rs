//! Record kinds and their closed field schemas (N1.3, N2): the table of
//! every kind's fields with their fideslang keys and identifier kinds.

use super::*;

/// One field of a kind's closed schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// Field name (snake_case) as it appears in records and exports.
    pub name: &'static str,
    /// fideslang data category key.
    pub fideslang: &'static str,
    /// When set, the field's value is an external identifier of the data
    /// subject, found through the blind index (never stored in clear).
    pub identifier: Option<IdentifierKind>,
}

const fn f(name: &'static str, fideslang: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        fideslang,
        identifier: None,
    }
}
const fn id(name: &'static str, fideslang: &'static str, kind: IdentifierKind) -> FieldSpec {
    FieldSpec {
        name,
        fideslang,
        identifier: Some(kind),
    }
}

/// A named kind of record within a category, with its closed field schema (N1.3, N2).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KindSpec {
    /// The category the kind belongs to.
    pub category: Category,
    /// The kind's name within the category (e.g. `authentication`).
    pub name: &'static str,
    /// The full dotted name (`usage.authentication`).
    pub full: &'static str,
    /// Stable storage code: category code x 100 + ordinal. Never renumber.
    pub code: u16,
    /// What a record of this kind holds.
    pub description: &'static str,
    /// The closed field schema: a record naming any other field is refused.
    pub fields: &'static [FieldSpec],
}

/// A kind of record, e.g. `usage.authentication`: a reference into the closed
/// table of kinds. Parse one with [`Kind::from_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kind(&'static KindSpec);

// Extension keys Steward defines where fideslang's default taxonomy has none.
const EXT_RESOURCE_ID: &str = "system.operations.resource_identifier";
const EXT_SECURITY_SETTINGS: &str = "system.operations.security_settings";
const EXT_SUPPORT_COMMS: &str = "user.contact.support_communications";

/// Extension keys Steward adds to the fideslang taxonomy, each under an
/// existing parent: (key, parent, description).
pub const FIDESLANG_EXTENSIONS: &[(&str, &str, &str)] = &[
    (
        EXT_RESOURCE_ID,
        "system.operations",
        "Identifiers and attributes of cloud resources (N2.3)",
    ),
    (
        EXT_SECURITY_SETTINGS,
        "system.operations",
        "Security settings of data and other resources (N2.3)",
    ),
    (
        EXT_SUPPORT_COMMS,
        "user.contact",
        "Support interactions, feedback and questions sent to the provider or its partners (N2.5)",
    ),
];

const ACCOUNT_PROFILE: &[FieldSpec] = &[
    id(
        "username",
        "user.account.username",
        IdentifierKind::Username,
    ),
    f("given_name", "user.name.first"),
    f("family_name", "user.name.last"),
    id("email", "user.contact.email", IdentifierKind::Email),
    f("phone", "user.contact.phone_number"),
    f("street", "user.contact.address.street"),
    f("city", "user.contact.address.city"),
    f("state", "user.contact.address.state"),
    f("postal_code", "user.contact.address.postal_code"),
    f("country", "user.contact.address.country"),
    f("job_title", "user.job_title"),
    f("organisation", "user.workplace"),
];

const ACCOUNT_SETTINGS: &[FieldSpec] = &[
    f("setting", "user.account.settings"),
    f("value", "user.account.settings"),
];

/// FinOps FOCUS 1.0 columns, snake_cased, as the closed schema of a charge.
const BILLING_CHARGE: &[FieldSpec] = &[
    f("availability_zone", "system.operations"),
    f("billed_cost", "user.financial"),
    id(
        "billing_account_id",
        "user.financial",
        IdentifierKind::BillingAccount,
    ),
    f("billing_account_name", "user.financial"),
    f("billing_currency", "user.financial"),
    f("billing_period_end", "user.financial"),
    f("billing_period_start", "user.financial"),
    f("charge_category", "user.financial"),
    f("charge_class", "user.financial"),
    f("charge_description", "user.financial"),
    f("charge_frequency", "user.financial"),
    f("charge_period_end", "user.financial"),
    f("charge_period_start", "user.financial"),
    f("commitment_discount_category", "user.financial"),
    f("commitment_discount_id", "user.financial"),
    f("commitment_discount_name", "user.financial"),
    f("commitment_discount_status", "user.financial"),
    f("commitment_discount_type", "user.financial"),
    f("consumed_quantity", "user.financial"),
    f("consumed_unit", "user.financial"),
    f("contracted_cost", "user.financial"),
    f("contracted_unit_price", "user.financial"),
    f("effective_cost", "user.financial"),
    f("invoice_issuer_name", "user.financial"),
    f("list_cost", "user.financial"),
    f("list_unit_price", "user.financial"),
    f("pricing_category", "user.financial"),
    f("pricing_quantity", "user.financial"),
    f("pricing_unit", "user.financial"),
    f("provider_name", "user.financial"),
    f("publisher_name", "user.financial"),
    f("region_id", "system.operations"),
    f("region_name", "system.operations"),
    f("resource_id", EXT_RESOURCE_ID),
    f("resource_name", EXT_RESOURCE_ID),
    f("resource_type", EXT_RESOURCE_ID),
    f("service_category", "user.financial"),
    f("charge_id", "user.financial"),
    f("service_name", "user.financial"),
    f("sku_id", "user.financial"),
    f("sku_price_id", "user.financial"),
    f("sub_account_id", "user.financial"),
    f("sub_account_name", "user.financial"),
    f("tags", EXT_RESOURCE_ID),
];

const BILLING_PAYMENT: &[FieldSpec] = &[
    id(
        "billing_account_id",
        "user.financial",
        IdentifierKind::BillingAccount,
    ),
    f("amount", "user.financial"),
    f("currency", "user.financial"),
    f("method", "user.financial"),
    f("status", "user.financial"),
    f("reference", "user.financial"),
];

const BILLING_DETAILS: &[FieldSpec] = &[
    id(
        "billing_account_id",
        "user.financial",
        IdentifierKind::BillingAccount,
    ),
    f("billing_contact_name", "user.name"),
    id(
        "billing_contact_email",
        "user.contact.email",
        IdentifierKind::Email,
    ),
    f("billing_address", "user.contact.address"),
    f("tax_id", "user.financial"),
];

const BILLING_ISSUE: &[FieldSpec] = &[
    id(
        "billing_account_id",
        "user.financial",
        IdentifierKind::BillingAccount,
    ),
    f("issue", "user.financial"),
    f("status", "user.financial"),
];

const BILLING_CREDIT_CHECK: &[FieldSpec] = &[
    id(
        "billing_account_id",
        "user.financial",
        IdentifierKind::BillingAccount,
    ),
    f("outcome", "user.financial"),
    f("limit", "user.financial"),
    f("agency", "user.financial"),
];

const CONFIGURATION_RESOURCE: &[FieldSpec] = &[
    f("resource_id", EXT_RESOURCE_ID),
    f("resource_type", EXT_RESOURCE_ID),
    f("attributes", EXT_RESOURCE_ID),
    f("region_id", "system.operations"),
];

const CONFIGURATION_SERVICE_SETTING: &[FieldSpec] = &[
    f("service", "system.operations"),
    f("setting", "system.operations"),
    f("value", "system.operations"),
];

const CONFIGURATION_SECURITY_SETTING: &[FieldSpec] = &[
    f("resource_id", EXT_RESOURCE_ID),
    f("setting", EXT_SECURITY_SETTINGS),
    f("value", EXT_SECURITY_SETTINGS),
];

const USAGE_AUTHENTICATION: &[FieldSpec] = &[
    f("event", "system.authentication"),
    f("outcome", "system.authentication"),
    id("account", "user.account.username", IdentifierKind::Username),
    id("source_ip", "user.device.ip_address", IdentifierKind::Ip),
    f("source_port", "user.device"),
    f("method", "system.authentication"),
    f("host", "system.operations"),
    f("pid", "system.operations"),
    f("rhost", "user.device.ip_address"),
    f("count", "system.authentication"),
    f("occurred_at", "system.authentication"),
    f("message", "system.authentication"),
];

const USAGE_ACCESS: &[FieldSpec] = &[
    id("client_ip", "user.device.ip_address", IdentifierKind::Ip),
    f("ident", "user.account.username"),
    id("user", "user.account.username", IdentifierKind::Username),
    f("occurred_at", "user.behavior.browsing_history"),
    f("method", "user.behavior.browsing_history"),
    f("path", "user.behavior.browsing_history"),
    f("protocol", "user.behavior.browsing_history"),
    f("status", "system.operations"),
    f("bytes", "system.operations"),
    f("referrer", "user.behavior.browsing_history"),
    f("user_agent", "user.device"),
    f("message", "user.behavior.browsing_history"),
];

const USAGE_ERROR: &[FieldSpec] = &[
    f("occurred_at", "system.operations"),
    f("level", "system.operations"),
    f("component", "system.operations"),
    id("client_ip", "user.device.ip_address", IdentifierKind::Ip),
    f("message", "system.operations"),
];

const USAGE_CRASH_REPORT: &[FieldSpec] = &[
    f("occurred_at", "system.operations"),
    f("application", "system.operations"),
    f("version", "system.operations"),
    id(
        "device_id",
        "user.device.device_id",
        IdentifierKind::DeviceId,
    ),
    f("signature", "system.operations"),
];

const USAGE_METRIC: &[FieldSpec] = &[
    f("occurred_at", "system.operations"),
    f("metric", "system.operations"),
    f("value", "system.operations"),
    f("unit", "system.operations"),
    f("resource_id", EXT_RESOURCE_ID),
];

const USAGE_OPERATIONAL_STATUS: &[FieldSpec] = &[
    f("occurred_at", "system.operations"),
    f("service", "system.operations"),
    f("status", "system.operations"),
    f("detail", "system.operations"),
];

const USAGE_DEVICE: &[FieldSpec] = &[
    id(
        "device_id",
        "user.device.device_id",
        IdentifierKind::DeviceId,
    ),
    f("cookie_id", "user.device.cookie_id"),
    f("token_id", "user.device.cookie_id"),
    id("ip_address", "user.device.ip_address", IdentifierKind::Ip),
    f("user_agent", "user.device"),
    f("occurred_at", "system.operations"),
];

const COMMUNICATIONS_SUPPORT: &[FieldSpec] = &[
    f("case_id", EXT_SUPPORT_COMMS),
    f("channel", EXT_SUPPORT_COMMS),
    f("subject_line", EXT_SUPPORT_COMMS),
    f("body", EXT_SUPPORT_COMMS),
    id("from_email", "user.contact.email", IdentifierKind::Email),
    f("occurred_at", EXT_SUPPORT_COMMS),
];

const COMMUNICATIONS_FEEDBACK: &[FieldSpec] = &[
    f("topic", EXT_SUPPORT_COMMS),
    f("body", EXT_SUPPORT_COMMS),
    f("rating", EXT_SUPPORT_COMMS),
    f("occurred_at", EXT_SUPPORT_COMMS),
];

const COMMUNICATIONS_EMAIL: &[FieldSpec] = &[
    id("from_email", "user.contact.email", IdentifierKind::Email),
    f("to", "user.contact.email"),
    f("subject_line", EXT_SUPPORT_COMMS),
    f("body", EXT_SUPPORT_COMMS),
    f("message_id", EXT_SUPPORT_COMMS),
    f("attachments", EXT_SUPPORT_COMMS),
    f("occurred_at", EXT_SUPPORT_COMMS),
];

/// The closed table of kinds (N1.3, N2): the only shapes of Service Data Steward stores.
pub static KINDS: &[KindSpec] = &[
    KindSpec {
        category: Category::Account,
        name: "profile",
        full: "account.profile",
        code: 101,
        description: "The account's username, names, contact details and job title (N2.1)",
        fields: ACCOUNT_PROFILE,
    },
    KindSpec {
        category: Category::Account,
        name: "settings",
        full: "account.settings",
        code: 102,
        description: "Product and communication settings of the account (N7.3)",
        fields: ACCOUNT_SETTINGS,
    },
    KindSpec {
        category: Category::Billing,
        name: "charge",
        full: "billing.charge",
        code: 201,
        description: "A charge, as a FinOps FOCUS 1.0 cost and usage row (N2.2)",
        fields: BILLING_CHARGE,
    },
    KindSpec {
        category: Category::Billing,
        name: "payment",
        full: "billing.payment",
        code: 202,
        description: "A payment or transaction (N2.2)",
        fields: BILLING_PAYMENT,
    },
    KindSpec {
        category: Category::Billing,
        name: "details",
        full: "billing.details",
        code: 203,
        description: "Billing details and billing contact (N2.2, N7.3)",
        fields: BILLING_DETAILS,
    },
    KindSpec {
        category: Category::Billing,
        name: "issue",
        full: "billing.issue",
        code: 204,
        description: "A billing issue (N2.2)",
        fields: BILLING_ISSUE,
    },
    KindSpec {
        category: Category::Billing,
        name: "credit_check",
        full: "billing.credit_check",
        code: 205,
        description: "A check before extending credit (N2.2, N3.1)",
        fields: BILLING_CREDIT_CHECK,
    },
    KindSpec {
        category: Category::Configuration,
        name: "resource",
        full: "configuration.resource",
        code: 301,
        description: "Resource identifiers and attributes (N2.3)",
        fields: CONFIGURATION_RESOURCE,
    },
    KindSpec {
        category: Category::Configuration,
        name: "service_setting",
        full: "configuration.service_setting",
        code: 302,
        description: "A service setting (N2.3)",
        fields: CONFIGURATION_SERVICE_SETTING,
    },
    KindSpec {
        category: Category::Configuration,
        name: "security_setting",
        full: "configuration.security_setting",
        code: 303,
        description: "A security setting of data or another resource (N2.3)",
        fields: CONFIGURATION_SECURITY_SETTING,
    },
    KindSpec {
        category: Category::Usage,
        name: "authentication",
        full: "usage.authentication",
        code: 401,
        description: "Authentication details, e.g. one sshd log line (N2.4)",
        fields: USAGE_AUTHENTICATION,
    },
    KindSpec {
        category: Category::Usage,
        name: "access",
        full: "usage.access",
        code: 402,
        description: "One request in an access log (N2.4)",
        fields: USAGE_ACCESS,
    },
    KindSpec {
        category: Category::Usage,
        name: "error",
        full: "usage.error",
        code: 403,
        description: "A software error or operational message (N2.4)",
        fields: USAGE_ERROR,
    },
    KindSpec {
        category: Category::Usage,
        name: "crash_report",
        full: "usage.crash_report",
        code: 404,
        description: "A crash report (N2.4)",
        fields: USAGE_CRASH_REPORT,
    },
    KindSpec {
        category: Category::Usage,
        name: "metric",
        full: "usage.metric",
        code: 405,
        description: "A quality or performance metric (N2.4)",
        fields: USAGE_METRIC,
    },
    KindSpec {
        category: Category::Usage,
        name: "operational_status",
        full: "usage.operational_status",
        code: 406,
        description: "Operational status of a service (N2.4)",
        fields: USAGE_OPERATIONAL_STATUS,
    },
    KindSpec {
        category: Category::Usage,
        name: "device",
        full: "usage.device",
        code: 407,
        description: "Device, cookie and token identifiers and IP addresses (N2.4)",
        fields: USAGE_DEVICE,
    },
    KindSpec {
        category: Category::Communications,
        name: "support",
        full: "communications.support",
        code: 501,
        description: "A support interaction (N2.5, N3.5)",
        fields: COMMUNICATIONS_SUPPORT,
    },
    KindSpec {
        category: Category::Communications,
        name: "feedback",
        full: "communications.feedback",
        code: 502,
        description: "Feedback or a question (N2.5)",
        fields: COMMUNICATIONS_FEEDBACK,
    },
    KindSpec {
        category: Category::Communications,
        name: "email",
        full: "communications.email",
        code: 503,
        description: "An email received by the provider, e.g. a request by email (N2.5, N7.4)",
        fields: COMMUNICATIONS_EMAIL,
    },
];

/// Every kind of the closed table.
pub fn all_kinds() -> impl Iterator<Item = Kind> {
    KINDS.iter().map(Kind)
}

impl Kind {
    /// The category of this kind.
    pub fn category(self) -> Category {
        self.0.category
    }
    /// The short name within the category (`authentication`).
    pub fn name(self) -> &'static str {
        self.0.name
    }
    /// The full dotted name (`usage.authentication`).
    pub fn full_name(self) -> String {
        self.0.full.to_owned()
    }
    /// The full dotted name, borrowed from the closed table.
    pub fn as_str(self) -> &'static str {
        self.0.full
    }
    /// The kind's stable storage code.
    pub fn code(self) -> u16 {
        self.0.code
    }
    /// The kind of a storage code, if it is one.
    pub fn from_code(code: u16) -> Option<Kind> {
        KINDS.iter().find(|k| k.code == code).map(Kind)
    }
    /// The kind's description.
    pub fn description(self) -> &'static str {
        self.0.description
    }
    /// The closed field schema.
    pub fn fields(self) -> &'static [FieldSpec] {
        self.0.fields
    }
    /// The schema entry of `name`, if the kind has such a field.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.0.fields.iter().find(|f| f.name == name)
    }
    /// Look up a kind by category and short name.
    pub fn lookup(category: Category, name: &str) -> Result<Kind, DomainError> {
        KINDS
            .iter()
            .find(|k| k.category == category && k.name == name)
            .map(Kind)
            .ok_or_else(|| DomainError::UnknownKind {
                name: format!("{category}.{name}"),
                known: KINDS
                    .iter()
                    .filter(|k| k.category == category)
                    .map(|k| format!("{}.{}", k.category, k.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
    /// The kind's index in the closed table (stable within a release; stored
    /// only as the dotted name).
    pub fn spec(self) -> &'static KindSpec {
        self.0
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0.category.as_str(), self.0.name)
    }
}

impl FromStr for Kind {
    type Err = DomainError;
    /// Parses `category.kind`, e.g. `usage.authentication`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (cat, name) = s.split_once('.').ok_or_else(|| DomainError::UnknownKind {
            name: s.to_owned(),
            known: "a dotted name such as usage.authentication".to_owned(),
        })?;
        let category: Category = cat.parse()?;
        Kind::lookup(category, name)
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
