//! `steward`: the command-line interface. Thin: parse, call steward-core, print.
//! Nothing here opens a record; everything that returns Service Data goes
//! through the gate in steward-core.
#![forbid(unsafe_code)]

/// `println!` that ignores a closed pipe (`steward subjects | head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that ignores a closed or full standard error: reporting never
/// decides what is stored, and no write may panic (issue 18, item 1).
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod commands;

/// mimalloc: many small, short-lived allocations per record (fields, bodies)
/// fragment glibc's allocator; mimalloc keeps ingest's allocation cost flat.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use steward_core::{Config, CoreError, OpenOptions, Steward};

use commands::{identity, intake, requests, retention};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "Steward keeps a cloud privacy notice's promises over Service Data, and proves it."
)]
struct Cli {
    /// Data directory (store, keyring).
    #[arg(
        long,
        global = true,
        env = "STEWARD_DATA_DIR",
        default_value = "./steward-data"
    )]
    data_dir: PathBuf,
    /// Configuration file (TOML); every setting has a default.
    #[arg(long, global = true, env = "STEWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Policy pack directory replacing the built-in pack.
    #[arg(long, global = true, env = "STEWARD_POLICY_DIR")]
    policy_dir: Option<PathBuf>,
    /// The region this node processes requests in (N4.2); default: from the
    /// configuration, else the first region.
    #[arg(long, global = true, env = "STEWARD_PROCESSING_REGION")]
    processing_region: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job on the embedded default: generate a small sample of sshd
    /// telemetry, ingest it encrypted per data subject, export one subject, erase it,
    /// and verify the audit log.
    Demo,
    /// Ingest Service Data from a file (or - for standard input).
    Ingest(IngestArgs),
    /// Read a subject's records through the gate, for a purpose.
    Read(ReadArgs),
    /// Export a subject's data as a ZIP (N7.1, N7.2).
    Export {
        /// The subject: an identifier (root, ip:10.0.0.1, ann@example.com) or sub_ id.
        #[arg(long)]
        subject: String,
        /// Output ZIP file.
        #[arg(long)]
        out: PathBuf,
        /// Principal (default: the configured operator).
        #[arg(long = "as")]
        as_: Option<String>,
        /// Purpose (default: comply).
        #[arg(long, default_value = "comply")]
        purpose: String,
        /// The recorded legal obligation (data subject request) this answers;
        /// without it, one of kind data_subject_request is recorded first.
        #[arg(long)]
        obligation: Option<String>,
        /// Show progress on stderr (records written / total) even when
        /// stderr is not a terminal (on a terminal it is always shown).
        #[arg(long)]
        progress: bool,
    },
    /// Erase a subject by crypto-shredding (N8.8). For `comply` (the
    /// default), records under a retention duty (e.g. billing, N3.7) are kept
    /// under a legal hold and listed on the receipt as `retained`.
    Erase {
        /// The subject identifier.
        #[arg(long)]
        subject: String,
        /// Principal (default: the configured operator).
        #[arg(long = "as")]
        as_: Option<String>,
        /// Purpose (default: comply).
        #[arg(long, default_value = "comply")]
        purpose: String,
        /// The recorded legal obligation (erasure request) this answers;
        /// without it, one of kind data_subject_request is recorded first.
        #[arg(long)]
        obligation: Option<String>,
    },
    /// Delete the rows of erased subjects.
    Sweep,
    /// Retention (N8.8): `retention sweep [--dry-run]` deletes what has expired.
    #[command(subcommand)]
    Retention(retention::RetentionCmd),
    /// Identity tools for privacy staff (issue 15): `identity merge`,
    /// `identity confusables`, `identity orphans`.
    #[command(subcommand)]
    Identity(identity::IdentityCmd),
    /// List data subjects with record counts per category.
    Subjects {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Decrypt and show identifiers (through the gate, audited).
        #[arg(long)]
        identifiers: bool,
    },
    /// Find a subject through the blind index.
    Find {
        /// By IP address.
        #[arg(long, group = "by")]
        ip: Option<String>,
        /// By username.
        #[arg(long, group = "by")]
        username: Option<String>,
        /// By email address.
        #[arg(long, group = "by")]
        email: Option<String>,
    },
    /// Manage principals (N5.5).
    #[command(subcommand)]
    Principals(PrincipalsCmd),
    /// Support cases (N3.5).
    #[command(subcommand)]
    Cases(CasesCmd),
    /// Legal obligations (N3.7).
    #[command(subcommand)]
    Obligations(ObligationsCmd),
    /// Need-to-know grants (N5.5, N3.8): the justification a person's read
    /// of one subject may cite (`read --grant ID`).
    #[command(subcommand)]
    Grants(commands::cases::GrantsCmd),
    /// Professional-services engagements of processors (N6.6): what a
    /// professional-services provider may read contact details of.
    #[command(subcommand)]
    Engagements(commands::engagements::EngagementsCmd),
    /// Key management (N5.2).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// API tokens, issued from the data directory (audited): e.g. a new
    /// operator token when the first `serve`'s bootstrap token is lost.
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The notice: clause coverage.
    #[command(subcommand)]
    Notice(NoticeCmd),
    /// The data map (N5.4, N8.4).
    #[command(subcommand)]
    Datamap(DatamapCmd),
    /// Cross-border transfers (N4.4): mechanisms on record and the register.
    #[command(subcommand)]
    Transfers(TransfersCmd),
    /// Disclosures through the gate, the APPI provision record, recipients,
    /// consents and third-party app grants (N6.2-N6.7, N8.4, N8.9).
    #[command(subcommand)]
    Disclosures(commands::disclosures::DisclosuresCmd),
    /// Copy a region's store to another (e.g. SQLite to PostgreSQL): rows
    /// sealed as they are, the audit log byte for byte. Then checks, with a
    /// configuration naming the target, that every record opens and the log
    /// verifies.
    Copy {
        /// Source store: a SQLite path (relative to the data dir) or postgres:// URL.
        #[arg(long)]
        from: String,
        /// Target store (empty): a SQLite path or postgres:// URL.
        #[arg(long)]
        to: String,
    },
    /// Authenticate every record's ciphertext in every region (plaintext is
    /// discarded) and report counts.
    VerifyRecords,
    /// Apply pending schema migrations to every region's store and exit
    /// (they also run on every start). Needs no advisory locks.
    Migrate,
    /// Serve the HTTP API over HTTPS (HTTP/1.1 and HTTP/2, N5.3). With no
    /// certificate, a self-signed development certificate is made in the
    /// data directory on first start and its SHA-256 fingerprint printed; the
    /// first start also prints a one-time bootstrap token for the operator.
    Serve(ServeArgs),
    /// Run a minimal witness of audit logs (c2sp.org/tlog-witness): it
    /// cosigns each checkpoint a followed log submits once it has checked the
    /// log's signature and the consistency proof from the size it last
    /// cosigned. Prints the key string logs pin in `audit.witnesses`.
    Witness(WitnessArgs),
    /// Data subject requests (N7.2, N7.4): open, list (--overdue), show,
    /// send-code, verify, approve (executes once), reject, extend.
    #[command(subcommand)]
    Requests(requests::RequestsCmd),
    /// Take in data subject requests by email (N7.4): `steward intake email
    /// FILE.eml` or `--dir MAILDIR`; each message exactly once.
    #[command(subcommand)]
    Intake(intake::IntakeCmd),
    /// Incidents (N8.5, N5.1): report, assess, role, task, filed,
    /// notified, draft, ack, close, list (--due), timeline (--html),
    /// intake (a maildir), detect, tick.
    #[command(subcommand)]
    Incidents(commands::incidents::IncidentsCmd),
    /// The daily on-call rotation (N8.5): set, now, shifts (--ical).
    #[command(subcommand)]
    Oncall(commands::incidents::OncallCmd),
}

#[derive(Args)]
struct WitnessArgs {
    /// Address to listen on (plain HTTP: clients trust the cosignature, not the channel).
    #[arg(long, default_value = "127.0.0.1:7380")]
    listen: std::net::SocketAddr,
    /// The witness's name (its cosignature key name).
    #[arg(long, default_value = "witness.steward.local/w1")]
    name: String,
    /// Its Ed25519 key file (created 0600 on first start).
    #[arg(long)]
    key_file: PathBuf,
    /// Its state file: the latest cosigned size and root per log (keep a backup).
    #[arg(long)]
    state: PathBuf,
    /// A log to follow, as ORIGIN=VERIFIER_KEY (repeat per log/region).
    #[arg(long, required = true)]
    log: Vec<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: std::net::SocketAddr,
    /// Serve plain HTTP instead of HTTPS: loopback addresses only (N5.3).
    #[arg(long)]
    insecure_http: bool,
    /// PEM certificate chain (with --tls-key); default: the development certificate.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    body_limit: usize,
    /// Longest time a request may take, in seconds.
    #[arg(long, default_value_t = 30)]
    request_timeout_secs: u64,
    /// Requests per second allowed per principal, bursts up to twice this
    /// (N5.1); 429 with Retry-After beyond. Raise it only for load tests.
    #[arg(long, default_value_t = 200)]
    rate_per_principal: u32,
    /// Failed authentications from one address before it is locked out
    /// for a minute (N5.1).
    #[arg(long, default_value_t = 10)]
    lockout_after: u32,
}

#[derive(Subcommand)]
enum TransfersCmd {
    /// Record a transfer mechanism for data of a region going to a country.
    AddMechanism {
        /// Source region (in the EEA, the UK or Switzerland).
        #[arg(long)]
        from_region: String,
        /// Destination country (ISO 3166-1 alpha-2).
        #[arg(long)]
        to_country: String,
        /// adequacy_decision, standard_contractual_clauses, uk_idta, uk_addendum or swiss_clauses.
        #[arg(long)]
        mechanism: String,
        /// Reference (decision, contract).
        #[arg(long)]
        reference: String,
    },
    /// List the mechanisms on record.
    Mechanisms,
    /// The transfer register: from, to, mechanism, categories, subject count, time.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct IngestArgs {
    /// Input format: openssh, apache-access, focus, jsonl, cloudevents, or a
    /// built-in mapping: zeek-ssh, zeek-http, ocsf-authentication,
    /// aws-cloudtrail, okta-system-log.
    #[arg(long, required_unless_present = "mapping", conflicts_with = "mapping")]
    format: Option<String>,
    /// A declarative mapping (TOML: a JSON record's fields to one kind's
    /// closed schema; see crates/steward-ingest/mappings/) instead of --format.
    #[arg(long)]
    mapping: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Year of the first syslog timestamp (they carry none). Default: the
    /// latest year that dates no line in the future (more than a day past
    /// now). Either way, where the months go back (Dec 31 then Jan 1) the
    /// year rolls forward.
    #[arg(long)]
    year: Option<i32>,
    /// Product the records come from (N1.1).
    #[arg(long, default_value = "cloud_platform")]
    product: String,
    /// Principal (default: the `ingest` service).
    #[arg(long = "as", default_value = "ingest")]
    as_: String,
    /// Home region of new subjects (N4.1); default: the first region.
    #[arg(long)]
    region: Option<String>,
    /// The organisation the records are of: usernames and device ids are
    /// found in its namespace (issue 15); default: the principal's
    /// one organisation, else the deployment's own namespace.
    #[arg(long)]
    organisation: Option<String>,
    /// The file, or - for standard input.
    file: String,
}

#[derive(Args)]
struct ReadArgs {
    /// Principal.
    #[arg(long = "as")]
    as_: String,
    /// Purpose (N3).
    #[arg(long)]
    purpose: Option<String>,
    /// Subject identifier.
    #[arg(long)]
    subject: String,
    /// One category.
    #[arg(long)]
    category: Option<String>,
    /// One record kind, e.g. communications.feedback (N2; implies its
    /// category).
    #[arg(long)]
    kind: Option<String>,
    /// Support case id (N3.5).
    #[arg(long)]
    case: Option<String>,
    /// Legal obligation id (N3.7).
    #[arg(long)]
    obligation: Option<String>,
    /// Need-to-know grant id (N5.5, N3.8).
    #[arg(long)]
    grant: Option<String>,
    /// An open incident naming the subject (N8.5, N3.8; `incidents
    /// subject`).
    #[arg(long)]
    incident: Option<String>,
}

#[derive(Subcommand)]
enum PrincipalsCmd {
    /// Add a principal.
    Add {
        /// Name.
        name: String,
        /// Kind: employee, contractor, agent, affiliate_staff, customer_admin, reseller, data_subject, third_party_app, processor, service.
        #[arg(long)]
        kind: String,
        /// Teams (comma-separated).
        #[arg(long, value_delimiter = ',')]
        teams: Vec<String>,
        /// Date the confidentiality obligation was signed (YYYY-MM-DD).
        #[arg(long)]
        confidentiality_signed: Option<String>,
        /// Date the privacy training expires (YYYY-MM-DD).
        #[arg(long)]
        training_expires: Option<String>,
        /// Engagement end date for contractors and agents (YYYY-MM-DD).
        #[arg(long)]
        ends: Option<String>,
    },
    /// List principals.
    List,
    /// Show one principal.
    Show {
        /// Name.
        name: String,
    },
    /// Revoke a principal (effective on the next request).
    Revoke {
        /// Name.
        name: String,
    },
    /// Change a principal's kind, teams and dates (N5.5): when the kind or
    /// the teams change, every token of the principal is revoked.
    Change {
        /// Name of an existing principal.
        name: String,
        /// Kind: employee, contractor, agent, affiliate_staff, third_party_app, processor, service.
        #[arg(long)]
        kind: String,
        /// Teams (comma-separated).
        #[arg(long, value_delimiter = ',')]
        teams: Vec<String>,
        /// Date the confidentiality obligation was signed (YYYY-MM-DD).
        #[arg(long)]
        confidentiality_signed: Option<String>,
        /// Date the privacy training expires (YYYY-MM-DD).
        #[arg(long)]
        training_expires: Option<String>,
        /// Engagement end date for contractors and agents (YYYY-MM-DD).
        #[arg(long)]
        ends: Option<String>,
    },
}

#[derive(Subcommand)]
enum CasesCmd {
    /// Open a support case about a subject.
    Open {
        /// Subject identifier.
        #[arg(long)]
        subject: String,
        /// technical, account (default) or billing (N3.5, N3.8).
        #[arg(long, default_value = "account")]
        kind: String,
    },
    /// Close a support case.
    Close {
        /// Case id.
        id: String,
    },
    /// Assign an open support case to a processor registered for
    /// support_ticket (N6.6): it may then read the case's ticket content.
    Assign {
        /// Case id.
        id: String,
        /// The processor principal.
        #[arg(long)]
        processor: String,
    },
}

#[derive(Subcommand)]
enum ObligationsCmd {
    /// Record a legal obligation (N3.7), printed as JSON.
    Record {
        /// legal_request, government_request, record_keeping or
        /// data_subject_request.
        #[arg(long)]
        kind: String,
        /// External reference.
        #[arg(long)]
        reference: String,
        /// The organisation whose subjects it concerns.
        #[arg(long)]
        organisation: Option<String>,
        /// A subject it concerns (identifier or sub_ id; repeatable).
        #[arg(long = "subject")]
        subjects: Vec<String>,
        /// A principal who may cite it (repeatable).
        #[arg(long = "cited-by")]
        cited_by: Vec<String>,
        /// A category it covers (repeatable; none: every category, one
        /// named per read; N3.7).
        #[arg(long = "category")]
        categories: Vec<String>,
    },
}

#[derive(Subcommand)]
enum TokensCmd {
    /// Issue an API token for a principal (default: the configured
    /// operator), decided by the policy pack as the CLI operator and
    /// audited. The token is printed once; only its hash is stored.
    Issue {
        /// The principal the token authenticates (default: the operator).
        #[arg(long = "for")]
        principal: Option<String>,
        /// Lifetime in days (1 to 366).
        #[arg(long, default_value_t = 7)]
        days: u64,
        /// Limit the token to these scopes (repeatable); none: every endpoint.
        #[arg(long)]
        scope: Vec<String>,
        /// Print the token and its description as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Re-wrap every subject key under a new KEK version.
    Rotate {
        /// Run the key schedule instead (`kek_rotation`, `kek_retire_after`):
        /// rotate only when the current version is due, then destroy every
        /// version whose time has come. Run it from cron or a timer.
        #[arg(long)]
        if_due: bool,
    },
    /// Retire an old KEK version.
    Retire {
        /// Version.
        version: u32,
    },
    /// List KEK versions.
    List,
    /// Rotate the blind-index (HMAC) key: mint a new version, re-index
    /// every identifier under it, then destroy the old version (issue 13
    /// item 3). Run it again to resume a rotation that was stopped.
    RotateBlindIndex {
        /// Re-index at most this many subjects in this run (the rotation
        /// stays under way; the next run resumes it).
        #[arg(long)]
        max_subjects: Option<usize>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute and verify the whole log; exit 1 with the first bad index.
    Verify,
    /// Print an inclusion or consistency proof.
    Prove {
        /// Inclusion proof of this entry index.
        #[arg(long, group = "what")]
        index: Option<u64>,
        /// Consistency proof between two checkpoint sizes.
        #[arg(long, num_args = 2, value_names = ["OLD_SIZE", "NEW_SIZE"], group = "what")]
        consistency: Option<Vec<u64>>,
    },
    /// Search entries.
    Search {
        /// Principal.
        #[arg(long)]
        principal: Option<String>,
        /// Purpose.
        #[arg(long)]
        purpose: Option<String>,
        /// allow, deny or done.
        #[arg(long)]
        decision: Option<String>,
        /// Action.
        #[arg(long)]
        action: Option<String>,
        /// From (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Until (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Subject identifier (through the blind index).
        #[arg(long)]
        subject: Option<String>,
    },
    /// Cut a signed checkpoint now and publish it to the configured witnesses.
    Checkpoint,
    /// Print the verifier key (for independent verifiers).
    Key,
}

#[derive(Subcommand)]
enum NoticeCmd {
    /// Per clause: enforcing code, tests and status. Scans the source tree at run time.
    Coverage {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Repository root to scan.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Fail if a clause proven in this baseline file is no longer proven.
        #[arg(long)]
        check_baseline: Option<PathBuf>,
        /// Write the current proven set as a new baseline.
        #[arg(long)]
        write_baseline: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DatamapCmd {
    /// Export the data map.
    Export {
        /// fideslang or markdown.
        #[arg(long, default_value = "fideslang")]
        format: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The configuration `--config` names, or the default.
fn load_config(cli: &Cli) -> Result<Config, CoreError> {
    match &cli.config {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn open(cli: &Cli) -> Result<Steward, CoreError> {
    let mut config = load_config(cli)?;
    if let Some(r) = &cli.processing_region {
        if !config.regions.iter().any(|x| &x.name == r) {
            return Err(CoreError::Input(format!(
                "--processing-region `{r}` is not a configured region"
            )));
        }
        config.processing_region = Some(r.clone());
    }
    Steward::open(
        &cli.data_dir,
        config,
        OpenOptions {
            policy_dir: cli.policy_dir.clone(),
            ..Default::default()
        },
    )
}

/// Dispatch a command to its file under `commands`. The commands that open
/// no store, or their own, run first; every other opens the store, runs, and
/// then signs what it appended to the audit log.
fn run(cli: Cli) -> Result<ExitCode, CoreError> {
    match &cli.command {
        Command::Notice(c) => return commands::notice::coverage(c),
        Command::Datamap(c) => return commands::notice::datamap(&cli, c),
        Command::Copy { from, to } => return commands::store::copy(&cli, from, to),
        Command::Serve(a) => return commands::serve::run(&cli, a),
        Command::Witness(a) => return commands::audit::witness(a),
        _ => {}
    }
    let st = open(&cli)?;
    let operator = st.operator().to_owned();
    let result = match cli.command {
        Command::Demo => commands::demo::run(&st),
        Command::Ingest(a) => commands::ingest::run(&st, a),
        Command::Read(a) => commands::subjects::read(&st, a),
        Command::Export {
            subject,
            out,
            as_,
            purpose,
            obligation,
            progress,
        } => commands::subjects::export(
            &st,
            commands::subjects::ExportRequest {
                subject: &subject,
                out: &out,
                who: as_.as_deref().unwrap_or(&operator),
                purpose: &purpose,
                obligation,
                progress,
            },
        ),
        Command::Erase {
            subject,
            as_,
            purpose,
            obligation,
        } => commands::subjects::erase(
            &st,
            as_.as_deref().unwrap_or(&operator),
            &subject,
            &purpose,
            obligation,
        ),
        Command::Retention(c) => retention::run(&st, &operator, c),
        Command::Sweep => commands::subjects::sweep(&st),
        Command::Subjects { json, identifiers } => {
            commands::subjects::list(&st, &operator, json, identifiers)
        }
        Command::Find {
            ip,
            username,
            email,
        } => commands::subjects::find(&st, ip, username, email),
        Command::Principals(c) => commands::principals::run(&st, &operator, c),
        Command::Cases(c) => commands::cases::cases(&st, &operator, c),
        Command::Obligations(c) => commands::cases::obligations(&st, &operator, c),
        Command::Grants(c) => commands::cases::grants(&st, &operator, c),
        Command::Engagements(c) => commands::engagements::run(&st, &operator, c),
        Command::Keys(c) => commands::keys::run(&st, &operator, c),
        Command::Identity(c) => identity::run(&st, &operator, c),
        Command::Tokens(c) => commands::tokens::run(&st, &operator, c),
        Command::Audit(c) => commands::audit::run(&st, c),
        Command::VerifyRecords => commands::store::verify_records(&st, &operator),
        Command::Migrate => commands::store::migrate(&st),
        Command::Transfers(c) => commands::transfers::run(&st, &operator, c),
        Command::Disclosures(c) => commands::disclosures::run(&st, &operator, c),
        Command::Intake(c) => intake::run(&st, c),
        Command::Requests(c) => requests::run(&st, &operator, c),
        Command::Incidents(c) => commands::incidents::run(&st, &operator, c),
        Command::Oncall(c) => commands::incidents::oncall(&st, &operator, c),
        // Handled before the store is opened.
        Command::Notice(_)
        | Command::Datamap(_)
        | Command::Copy { .. }
        | Command::Serve(_)
        | Command::Witness(_) => Ok(ExitCode::SUCCESS),
    };
    // Sign what this command appended: a tail after the last checkpoint could
    // otherwise be cut together with the head row without detection.
    if result.is_ok() {
        let _ = st.audit_checkpoint();
    }
    result
}
