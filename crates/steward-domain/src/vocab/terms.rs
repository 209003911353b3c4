//! Categories (N2), purposes (N3), disclosure bases (N6) and products
//! (N1.1), each with its fideslang key.

use super::*;

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
