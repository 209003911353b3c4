//! The closed vocabularies of the notice and their fideslang mapping: the one
//! table in Steward that says what Service Data may be stored (N1.3, N2), for
//! which purposes it may be processed (N3), on which bases it may be disclosed
//! (N6) and from which products it comes (N1.1).
//!
//! fideslang keys follow the fideslang default taxonomy
//! (<https://github.com/ethyca/fideslang>, `data_categories` and `data_uses`).
//! Where fideslang has no key, Steward defines an extension key under an
//! existing parent, as the taxonomy allows; they are listed in
//! [`FIDESLANG_EXTENSIONS`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::IdentifierKind;

/// A category of Service Data (N2). Every stored record belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Account information: username, names, contact details, job titles (N2.1).
    Account,
    /// Cloud payments and transactions: charges, payments, billing details and issues (N2.2).
    Billing,
    /// Cloud settings and configurations: resource identifiers and attributes,
    /// service and security settings (N2.3).
    Configuration,
    /// Technical and operational details of usage: operational status, errors,
    /// crash reports, authentication details, metrics, device/cookie ids, IPs (N2.4).
    Usage,
    /// Direct communications: feedback, questions, support interactions (N2.5).
    Communications,
}

impl Category {
    /// All categories, in the notice's order.
    pub const ALL: [Category; 5] = [
        Category::Account,
        Category::Billing,
        Category::Configuration,
        Category::Usage,
        Category::Communications,
    ];

    /// The lower-case name used in configuration, records and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Account => "account",
            Category::Billing => "billing",
            Category::Configuration => "configuration",
            Category::Usage => "usage",
            Category::Communications => "communications",
        }
    }

    /// The category's stable storage code (1 to 5): what stores write in
    /// place of the name. Never renumber: stored rows depend on it.
    pub fn code(self) -> u8 {
        match self {
            Category::Account => 1,
            Category::Billing => 2,
            Category::Configuration => 3,
            Category::Usage => 4,
            Category::Communications => 5,
        }
    }

    /// The category of a storage code, if it is one.
    pub fn from_code(code: u8) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The notice clause that names this category.
    pub fn clause(self) -> &'static str {
        match self {
            Category::Account => "N2.1",
            Category::Billing => "N2.2",
            Category::Configuration => "N2.3",
            Category::Usage => "N2.4",
            Category::Communications => "N2.5",
        }
    }

    /// The category's plain-language description, as the notice words it.
    pub fn description(self) -> &'static str {
        match self {
            Category::Account => {
                "Account information: username, names, contact details and job titles"
            }
            Category::Billing => {
                "Cloud payments and transactions: charges, payments, billing details and issues"
            }
            Category::Configuration => {
                "Cloud settings and configurations: resource identifiers and attributes, service and security settings"
            }
            Category::Usage => {
                "Technical and operational details of usage: operational status, software errors, crash reports, authentication details, metrics, device and cookie identifiers, IP addresses"
            }
            Category::Communications => {
                "Direct communications: feedback, questions and technical support interactions"
            }
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DomainError::UnknownCategory { name: s.to_owned() })
    }
}

/// A purpose of processing (N3). Every read of Service Data names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Provide the Cloud Services requested, incl. credit checks, billing, keeping services working (N3.1).
    ProvideServices,
    /// Make recommendations to optimise use, and evaluate the responses (N3.2).
    Recommendations,
    /// Maintain and improve Cloud Services (N3.3).
    MaintainImprove,
    /// Provide and improve other services the customer requested (N3.4).
    OtherServices,
    /// Assist: technical support the customer requested; notifications (N3.5).
    Assist,
    /// Protect against fraud, abuse, security risks and technical issues (N3.6).
    Protect,
    /// Comply with legal obligations (N3.7).
    Comply,
    /// Internal reporting and analysis, on aggregated or anonymised data only (N3.9).
    InternalReporting,
}

impl Purpose {
    /// All purposes: the seven of N3.1-N3.7, then internal reporting (N3.9).
    pub const ALL: [Purpose; 8] = [
        Purpose::ProvideServices,
        Purpose::Recommendations,
        Purpose::MaintainImprove,
        Purpose::OtherServices,
        Purpose::Assist,
        Purpose::Protect,
        Purpose::Comply,
        Purpose::InternalReporting,
    ];

    /// The seven purposes the notice states for processing (N3.1-N3.7): the
    /// list every export states (N8.2).
    pub const STATED: [Purpose; 7] = [
        Purpose::ProvideServices,
        Purpose::Recommendations,
        Purpose::MaintainImprove,
        Purpose::OtherServices,
        Purpose::Assist,
        Purpose::Protect,
        Purpose::Comply,
    ];

    /// The snake_case key used on the command line, in policies and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ProvideServices => "provide_services",
            Purpose::Recommendations => "recommendations",
            Purpose::MaintainImprove => "maintain_improve",
            Purpose::OtherServices => "other_services",
            Purpose::Assist => "assist",
            Purpose::Protect => "protect",
            Purpose::Comply => "comply",
            Purpose::InternalReporting => "internal_reporting",
        }
    }

    /// The clause that states this purpose.
    pub fn clause(self) -> &'static str {
        match self {
            Purpose::ProvideServices => "N3.1",
            Purpose::Recommendations => "N3.2",
            Purpose::MaintainImprove => "N3.3",
            Purpose::OtherServices => "N3.4",
            Purpose::Assist => "N3.5",
            Purpose::Protect => "N3.6",
            Purpose::Comply => "N3.7",
            Purpose::InternalReporting => "N3.9",
        }
    }

    /// The purpose in plain words, as stated on exports (N8.2).
    pub fn plain_words(self) -> &'static str {
        match self {
            Purpose::ProvideServices => {
                "Provide the Cloud Services you request, including credit checks, billing, keeping services working, avoiding outages and securing your data"
            }
            Purpose::Recommendations => {
                "Make recommendations to optimise your use of Cloud Services, and evaluate your responses to them"
            }
            Purpose::MaintainImprove => "Maintain and improve Cloud Services",
            Purpose::OtherServices => {
                "Provide and improve other services you request, including third-party services enabled through consoles, APIs, CLIs or the Marketplace"
            }
            Purpose::Assist => {
                "Assist you: technical support you request, and notifications about updates"
            }
            Purpose::Protect => {
                "Protect you, our users, customers, the public and the provider against fraud, abuse, security risks and technical issues"
            }
            Purpose::Comply => {
                "Comply with legal obligations, such as legal process, governmental requests and financial record-keeping"
            }
            Purpose::InternalReporting => {
                "Internal reporting and analysis, from aggregated or anonymised data only"
            }
        }
    }

    /// The fideslang data use this purpose maps to.
    pub fn fideslang_data_use(self) -> &'static str {
        match self {
            Purpose::ProvideServices => "essential.service",
            Purpose::Recommendations => "personalize.system",
            Purpose::MaintainImprove => "functional.service.improve",
            Purpose::OtherServices => "essential.service.operations",
            Purpose::Assist => "essential.service.operations.support",
            Purpose::Protect => "essential.fraud_detection",
            Purpose::Comply => "essential.legal_obligation",
            Purpose::InternalReporting => "analytics.reporting",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| DomainError::UnknownPurpose { name: s.to_owned() })
    }
}

/// The basis on which Service Data may be disclosed outside the provider
/// (N6.2-N6.7). There is no "sale": it cannot be expressed (N6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureBasis {
    /// A third-party service or app the customer procured or granted access (N6.3).
    ThirdPartyService,
    /// The subject's recorded, unexpired, unwithdrawn consent (N6.4).
    Consent,
    /// The subject's administrator or authorised reseller (N6.5).
    Administrator,
    /// A registered processor acting on instruction (N6.6).
    ExternalProcessing,
    /// Legal process, government request, enforcement, fraud/security, safety (N6.7).
    Legal,
}

impl DisclosureBasis {
    /// All bases.
    pub const ALL: [DisclosureBasis; 5] = [
        DisclosureBasis::ThirdPartyService,
        DisclosureBasis::Consent,
        DisclosureBasis::Administrator,
        DisclosureBasis::ExternalProcessing,
        DisclosureBasis::Legal,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            DisclosureBasis::ThirdPartyService => "third_party_service",
            DisclosureBasis::Consent => "consent",
            DisclosureBasis::Administrator => "administrator",
            DisclosureBasis::ExternalProcessing => "external_processing",
            DisclosureBasis::Legal => "legal",
        }
    }
}

impl FromStr for DisclosureBasis {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DisclosureBasis::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| DomainError::UnknownDisclosureBasis { name: s.to_owned() })
    }
}

/// A product whose Service Data Steward holds (N1.1). The default product list;
/// configuration may name the subset a deployment serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Product {
    /// Workspace.
    Workspace,
    /// Cloud Platform.
    CloudPlatform,
    /// Cloud Marketplace.
    Marketplace,
    /// Cloud Identity.
    CloudIdentity,
    /// Implementation Services.
    ImplementationServices,
}

impl Product {
    /// All products the notice covers (N1.1).
    pub const ALL: [Product; 5] = [
        Product::Workspace,
        Product::CloudPlatform,
        Product::Marketplace,
        Product::CloudIdentity,
        Product::ImplementationServices,
    ];
    /// Stable storage code (1 to 5). Never renumber.
    pub fn code(self) -> u8 {
        match self {
            Product::Workspace => 1,
            Product::CloudPlatform => 2,
            Product::Marketplace => 3,
            Product::CloudIdentity => 4,
            Product::ImplementationServices => 5,
        }
    }
    /// The product of a storage code, if it is one.
    pub fn from_code(code: u8) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.code() == code)
    }
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Workspace => "workspace",
            Product::CloudPlatform => "cloud_platform",
            Product::Marketplace => "marketplace",
            Product::CloudIdentity => "cloud_identity",
            Product::ImplementationServices => "implementation_services",
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Product {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Product::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| DomainError::UnknownProduct { name: s.to_owned() })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_kinds_and_every_field_has_a_fideslang_key_n2() {
        let mut codes = std::collections::BTreeSet::new();
        for k in all_kinds() {
            assert_eq!(
                k.as_str(),
                format!("{}.{}", k.category().as_str(), k.name())
            );
            assert_eq!(u16::from(k.category().code()), k.code() / 100, "{k}");
            assert!(
                codes.insert(k.code()),
                "duplicate storage code {}",
                k.code()
            );
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        for c in Category::ALL {
            assert!(all_kinds().any(|k| k.category() == c), "{c} has no kind");
        }
        for k in all_kinds() {
            assert!(!k.fields().is_empty());
            for f in k.fields() {
                assert!(
                    f.fideslang.starts_with("user.") || f.fideslang.starts_with("system."),
                    "{k}.{}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn unknown_category_and_kind_are_named_n1_3() {
        let e = "secrets.passwords".parse::<Kind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown category `secrets`: expected one of account, billing, configuration, usage, communications (N2)"
        );
        let e = "usage.keystrokes".parse::<Kind>().unwrap_err();
        assert!(
            e.to_string().starts_with("unknown kind `usage.keystrokes`"),
            "{e}"
        );
        assert_eq!(
            "usage.authentication".parse::<Kind>().unwrap().full_name(),
            "usage.authentication"
        );
    }

    #[test]
    fn focus_schema_has_the_44_columns_of_focus_1_0() {
        assert_eq!("billing.charge".parse::<Kind>().unwrap().fields().len(), 44);
    }

    #[test]
    fn purposes_are_the_closed_set_of_n3() {
        assert_eq!(Purpose::ALL.len(), 8);
        assert_eq!("assist".parse::<Purpose>().unwrap(), Purpose::Assist);
        assert!("marketing".parse::<Purpose>().is_err());
        assert!(
            "sale".parse::<DisclosureBasis>().is_err(),
            "N6.6: no sale basis"
        );
    }
}

/// The type of a data subject request (DSR) Steward answers (N7.1-N7.4,
/// N8.8; GDPR Art. 15-18, 20, 21 use the same six).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// Access to the subject's Service Data (N7.2, N7.3).
    Access,
    /// Export for backup or transfer elsewhere: portability (N7.1, N7.2).
    Export,
    /// Correction of inaccurate data (N7.2 "control").
    Rectification,
    /// Deletion (N8.8), by crypto-shredding, honouring legal holds (N3.7).
    Erasure,
    /// Restriction of processing (N7.2 "control").
    Restriction,
    /// Objection to processing for a purpose (N7.2 "control").
    Objection,
}

impl RequestType {
    /// All request types.
    pub const ALL: [RequestType; 6] = [
        RequestType::Access,
        RequestType::Export,
        RequestType::Rectification,
        RequestType::Erasure,
        RequestType::Restriction,
        RequestType::Objection,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Access => "access",
            RequestType::Export => "export",
            RequestType::Rectification => "rectification",
            RequestType::Erasure => "erasure",
            RequestType::Restriction => "restriction",
            RequestType::Objection => "objection",
        }
    }
}

impl FromStr for RequestType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::UnknownRequestType {
                name: s.chars().take(64).collect(),
            })
    }
}

/// The lifecycle state of a data subject request:
/// `received -> verified -> in_progress -> completed | rejected`, and
/// `failed` when execution could not finish (a store named in the reason);
/// a failed request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Taken in (by API, CLI or email, N7.4); identity not yet verified.
    Received,
    /// The requester's identity is verified (one-time code or an authenticated principal).
    Verified,
    /// Execution started (recorded in the audit log before any effect).
    InProgress,
    /// Executed; the result is recorded.
    Completed,
    /// Refused, with a reason (restriction, unverified sender, policy).
    Rejected,
    /// Execution failed (e.g. a store unreachable); retryable.
    Failed,
}

impl RequestState {
    /// All states.
    pub const ALL: [RequestState; 6] = [
        RequestState::Received,
        RequestState::Verified,
        RequestState::InProgress,
        RequestState::Completed,
        RequestState::Rejected,
        RequestState::Failed,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Verified => "verified",
            RequestState::InProgress => "in_progress",
            RequestState::Completed => "completed",
            RequestState::Rejected => "rejected",
            RequestState::Failed => "failed",
        }
    }
    /// Whether the request is finished (no further transition).
    pub fn is_final(self) -> bool {
        matches!(self, RequestState::Completed | RequestState::Rejected)
    }
}

impl FromStr for RequestState {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::UnknownRequestState {
                name: s.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod request_vocab_tests {
    use super::*;

    #[test]
    fn request_types_round_trip_and_unknown_is_named() {
        for t in RequestType::ALL {
            assert_eq!(t.as_str().parse::<RequestType>().unwrap(), t);
        }
        let e = "sale".parse::<RequestType>().unwrap_err().to_string();
        assert!(e.contains("`sale`") && e.contains("erasure"), "{e}");
        for s in RequestState::ALL {
            assert_eq!(s.as_str().parse::<RequestState>().unwrap(), s);
        }
        assert!(RequestState::Completed.is_final() && !RequestState::Failed.is_final());
    }
}
