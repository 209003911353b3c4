//! `steward`: the command-line interface. Thin: parse, call steward-core, print.
//! Nothing here opens a record; everything that returns Service Data goes
//! through the gate in steward-core.
#![forbid(unsafe_code)]

/// mimalloc: many small, short-lived allocations per record (fields, bodies)
/// fragment glibc's allocator; mimalloc keeps ingest's allocation cost flat.
/// `println!` that ignores a closed pipe (`steward subjects | head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod intake;

mod requests;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod retention;
use steward_core::{
    AccessRequest, Action, AuditFilter, Config, CoreError, OpenOptions, Steward, VerifyOutcome,
};
use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};

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
    /// Key management (N5.2).
    #[command(subcommand)]
    Keys(KeysCmd),
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
    /// Data subject requests (N7.2, N7.4): open, list (--overdue), show,
    /// send-code, verify, approve (executes once), reject, extend.
    #[command(subcommand)]
    Requests(requests::RequestsCmd),
    /// Take in data subject requests by email (N7.4): `steward intake email
    /// FILE.eml` or `--dir MAILDIR`; each message exactly once.
    #[command(subcommand)]
    Intake(intake::IntakeCmd),
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
    /// Input format: openssh, apache-access, focus, jsonl, cloudevents.
    #[arg(long)]
    format: String,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Year for timestamps without one (syslog); default: the current year.
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
    /// Support case id (N3.5).
    #[arg(long)]
    case: Option<String>,
    /// Legal obligation id (N3.7).
    #[arg(long)]
    obligation: Option<String>,
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
}

#[derive(Subcommand)]
enum CasesCmd {
    /// Open a support case about a subject.
    Open {
        /// Subject identifier.
        #[arg(long)]
        subject: String,
    },
    /// Close a support case.
    Close {
        /// Case id.
        id: String,
    },
}

#[derive(Subcommand)]
enum ObligationsCmd {
    /// Record a legal obligation.
    Record {
        /// legal_request, government_request or record_keeping.
        #[arg(long)]
        kind: String,
        /// External reference.
        #[arg(long)]
        reference: String,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Re-wrap every subject key under a new KEK version.
    Rotate,
    /// Retire an old KEK version.
    Retire {
        /// Version.
        version: u32,
    },
    /// List KEK versions.
    List,
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
    /// Cut a signed checkpoint now.
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
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_date(flag: &str, s: &Option<String>) -> Result<Option<time::Date>, CoreError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    s.as_ref()
        .map(|v| {
            time::Date::parse(v, &fmt)
                .map_err(|_| CoreError::Input(format!("{flag}: expected a date YYYY-MM-DD")))
        })
        .transpose()
}

fn purpose(s: &str) -> Result<Purpose, CoreError> {
    s.parse()
        .map_err(|e: steward_domain::DomainError| CoreError::Input(format!("--purpose: {e}")))
}

fn open(cli: &Cli) -> Result<Steward, CoreError> {
    let mut config = match &cli.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
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

fn run(cli: Cli) -> Result<ExitCode, CoreError> {
    match &cli.command {
        Command::Notice(NoticeCmd::Coverage {
            json,
            root,
            check_baseline,
            write_baseline,
        }) => {
            let args = steward_notice::CoverageArgs {
                json: *json,
                root: root.clone(),
                check_baseline: check_baseline.clone(),
                write_baseline: write_baseline.clone(),
            };
            let code = steward_notice::run_cli(args, &mut std::io::stdout())
                .map_err(|e| CoreError::Input(e.to_string()))?;
            return Ok(ExitCode::from(code as u8));
        }
        Command::Datamap(DatamapCmd::Export { format }) => {
            let config = match &cli.config {
                Some(p) => Config::load(p)?,
                None => Config::default(),
            };
            let dm = steward_notice::DatamapConfig {
                retention: config.retention.clone(),
                ..Default::default()
            };
            let text = match format.as_str() {
                "fideslang" => steward_notice::datamap_fideslang(&dm),
                "markdown" => steward_notice::datamap_markdown(&dm),
                other => {
                    return Err(CoreError::Input(format!(
                        "--format `{other}`: expected fideslang or markdown"
                    )));
                }
            };
            outln!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    if let Command::Copy { from, to } = &cli.command {
        let mut config = match &cli.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let s = steward_core::copy_store(&cli.data_dir, &config, from, to)?;
        outln!(
            "copied {} subjects, {} records, {} audit entries, {} checkpoints, {} principals, {} registry rows to {}",
            s.subjects,
            s.records,
            s.audit_entries,
            s.checkpoints,
            s.principals,
            s.registry_rows,
            redact_url(to)
        );
        // Check the copy: a configuration whose region store is the target.
        let from_region = config
            .regions
            .iter()
            .position(|r| r.store.as_deref() == Some(from.as_str()))
            .unwrap_or(0);
        config.regions[from_region].store = Some(to.clone());
        let st = Steward::open(
            &cli.data_dir,
            config,
            OpenOptions {
                policy_dir: cli.policy_dir.clone(),
                ..Default::default()
            },
        )?;
        let verified = st.audit_verify()?;
        let (ok, shredded) = st.verify_records(st.operator())?;
        return match verified {
            VerifyOutcome::Ok(r) => {
                outln!(
                    "target: {ok} records open ({shredded} of erased subjects stay unreadable); audit log verifies: {} entries, {} signed checkpoints",
                    r.entries,
                    r.checkpoints_verified
                );
                Ok(ExitCode::SUCCESS)
            }
            VerifyOutcome::Failed(f) => {
                outln!(
                    "target audit log does NOT verify: first bad index {}: {}",
                    f.first_bad_index,
                    f.what
                );
                Ok(ExitCode::from(1))
            }
        };
    }
    if let Command::Serve(a) = &cli.command {
        let opts = steward_server::ServeOptions {
            listen: a.listen,
            insecure_http: a.insecure_http,
            tls_cert: a.tls_cert.clone(),
            tls_key: a.tls_key.clone(),
            body_limit: a.body_limit,
            request_timeout: std::time::Duration::from_secs(a.request_timeout_secs.max(1)),
            rate_per_principal: a.rate_per_principal,
            lockout_after: a.lockout_after,
            ..Default::default()
        };
        // Refuse a plain-HTTP non-loopback listener before opening anything (N5.3).
        steward_server::check_options(&opts).map_err(|e| CoreError::Input(e.to_string()))?;
        let st = open(&cli)?;
        steward_server::run(st, opts).map_err(|e| CoreError::Input(e.to_string()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let st = open(&cli)?;
    let operator = st.operator().to_owned();
    let result = match cli.command {
        Command::Demo => demo(&st),
        Command::Ingest(a) => ingest(&st, a),
        Command::Read(a) => {
            let req = AccessRequest {
                category: a
                    .category
                    .map(|c| c.parse::<Category>())
                    .transpose()
                    .map_err(|e| CoreError::Input(format!("--category: {e}")))?,
                purpose: a.purpose.map(|p| purpose(&p)).transpose()?,
                case_id: a.case,
                obligation_id: a.obligation,
                ..AccessRequest::new(a.as_, Action::Read, a.subject)
            };
            let (opened, records) = st.read(&req)?;
            let mut out = std::io::stdout().lock();
            for r in &records {
                let line = serde_json::json!({"record_id": r.id.to_string(), "category": r.category, "kind": r.kind, "product": r.product, "occurred_at": r.body["occurred_at"], "fields": r.body["fields"]});
                let _ = writeln!(out, "{line}");
            }
            eprintln!(
                "{} records; allowed by {} [{}]; audit entry {}",
                records.len(),
                opened.decision.policy_ids.join(", "),
                opened.decision.clause_ids.join(", "),
                opened.audit_index
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            subject,
            out,
            as_,
            purpose: p,
            obligation,
            progress,
        } => {
            let who = as_.as_deref().unwrap_or(&operator);
            let ob = dsr_obligation(&st, who, obligation, "cli-export")?;
            let mut show = ExportProgress::new(progress);
            let s = st.export_with_progress(
                who,
                purpose(&p)?,
                &subject,
                &out,
                Some(&ob),
                &mut |w, t| show.update(w, t),
            );
            show.finish();
            let s = s?;
            outln!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase {
            subject,
            as_,
            purpose: p,
            obligation,
        } => {
            let who = as_.as_deref().unwrap_or(&operator);
            let ob = dsr_obligation(&st, who, obligation, "cli-erasure")?;
            // N8.8 with N3.7: an erasure to comply with a request keeps the
            // records a retention duty covers, sealed under a hold key, and
            // lists them on the receipt (`retained`).
            let r = match purpose(&p)? {
                Purpose::Comply => {
                    st.erase_with_holds(who, &subject, Some(&ob), time::OffsetDateTime::now_utc())?
                }
                other => st.erase(who, other, &subject, Some(&ob))?,
            };
            outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Retention(c) => retention::run(&st, &operator, c),
        Command::Sweep => {
            outln!("swept {} records of erased subjects", st.sweep()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Subjects { json, identifiers } => {
            let list = st.subjects(&operator, identifiers)?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else {
                for s in &list {
                    let counts: Vec<String> =
                        s.records.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    outln!(
                        "{} {} {}{} {}",
                        s.subject,
                        s.region,
                        if s.erased { "erased " } else { "" },
                        counts.join(" "),
                        s.identifiers.join(" ")
                    );
                }
                outln!("{} subjects", list.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Find {
            ip,
            username,
            email,
        } => {
            let arg = match (ip, username, email) {
                (Some(v), _, _) => format!("ip:{v}"),
                (_, Some(v), _) => format!("username:{v}"),
                (_, _, Some(v)) => format!("email:{v}"),
                _ => {
                    return Err(CoreError::Input(
                        "give one of --ip, --username, --email".into(),
                    ));
                }
            };
            match st.find(&arg)? {
                Some(s) => {
                    outln!("{s}");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no data subject matches");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Principals(c) => principals(&st, &operator, c),
        Command::Cases(CasesCmd::Open { subject }) => {
            let c = st.open_case(&operator, &subject)?;
            outln!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cases(CasesCmd::Close { id }) => {
            st.close_case(&operator, &id)?;
            outln!("closed {id}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Obligations(ObligationsCmd::Record { kind, reference }) => {
            let o = st.record_obligation(&operator, &kind, &reference)?;
            outln!("{}", serde_json::to_string_pretty(&o).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCmd::Rotate) => {
            let (v, n) = st.rotate_keys(&operator)?;
            outln!(
                "KEK version {v} is current; re-wrapped {n} subject keys (records were not re-encrypted)"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCmd::Retire { version }) => {
            st.retire_kek(&operator, version)?;
            outln!("KEK version {version} retired");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCmd::List) => {
            for k in st.keks() {
                outln!(
                    "v{} created {}{}",
                    k.version,
                    k.created_at,
                    if k.retired { " retired" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(c) => audit(&st, c),
        Command::VerifyRecords => {
            let (ok, shredded) = st.verify_records(&operator)?;
            outln!("{ok} records open; {shredded} records of erased subjects stay unreadable");
            Ok(ExitCode::SUCCESS)
        }
        Command::Copy { .. } => Ok(ExitCode::SUCCESS),
        // Handled before the store is opened for the other commands.
        Command::Serve(_) => Ok(ExitCode::SUCCESS),
        Command::Migrate => {
            for r in st.regions() {
                outln!(
                    "region {} ({}): store {} is migrated",
                    r.name,
                    r.country,
                    redact_url(r.store.as_deref().unwrap_or("(default SQLite file)"))
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfers(TransfersCmd::AddMechanism {
            from_region,
            to_country,
            mechanism,
            reference,
        }) => {
            let m = st.add_transfer_mechanism(
                &operator,
                &from_region,
                &to_country,
                &mechanism,
                &reference,
            )?;
            outln!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfers(TransfersCmd::Mechanisms) => {
            for m in st.transfer_mechanisms()? {
                outln!(
                    "{} {} -> {} {} ({})",
                    m.id,
                    m.from_region,
                    m.to_country,
                    m.mechanism,
                    m.reference
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfers(TransfersCmd::List { json }) => {
            let list = st.transfers()?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else {
                for t in &list {
                    outln!(
                        "{} {} {}({}) -> {}({}) {} [{}] subjects={}",
                        t.time,
                        t.id,
                        t.from_region,
                        t.from_country,
                        t.to_region,
                        t.to_country,
                        t.mechanism,
                        t.categories.join(","),
                        t.subject_count
                    );
                }
                outln!("{} transfers", list.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Intake(c) => intake::run(&st, c),
        Command::Requests(c) => requests::run(&st, &operator, c),
        Command::Notice(_) | Command::Datamap(_) => Ok(ExitCode::SUCCESS),
    };
    // Sign what this command appended: a tail after the last checkpoint could
    // otherwise be cut together with the head row without detection.
    if result.is_ok() {
        let _ = st.audit_checkpoint();
    }
    result
}

/// A store URL for display: any password is replaced by `***`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `steward export`'s progress on stderr (issue 6 item 8): a bar when stderr
/// is a terminal; with `--progress` elsewhere, a line `export: W / T records`
/// at most once a second and at the end. Counts only, never identifiers.
struct ExportProgress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    last: Option<std::time::Instant>,
    shown: u64,
}

impl ExportProgress {
    fn new(forced: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "export {bar:40} {pos}/{len} records {per_sec}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        ExportProgress {
            bar,
            lines: forced && !terminal,
            last: None,
            shown: 0,
        }
    }

    fn update(&mut self, written: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(written);
        }
        if self.lines
            && written > self.shown
            && (written == total || self.last.is_none_or(|t| t.elapsed().as_secs() >= 1))
        {
            eprintln!("export: {written} / {total} records");
            self.last = Some(std::time::Instant::now());
            self.shown = written;
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// The obligation an operator's export or erasure answers: the one named, or a
/// newly recorded `data_subject_request` (audited, so the record shows why).
fn dsr_obligation(
    st: &Steward,
    who: &str,
    given: Option<String>,
    reference: &str,
) -> Result<String, CoreError> {
    match given {
        Some(id) => Ok(id),
        None => {
            let ob = st.record_obligation(who, "data_subject_request", reference)?;
            eprintln!("recorded obligation {} (data_subject_request)", ob.id);
            Ok(ob.id)
        }
    }
}

fn principals(st: &Steward, operator: &str, c: PrincipalsCmd) -> Result<ExitCode, CoreError> {
    match c {
        PrincipalsCmd::Add {
            name,
            kind,
            teams,
            confidentiality_signed,
            training_expires,
            ends,
        } => {
            let kind: PrincipalKind = kind
                .parse()
                .map_err(|e| CoreError::Input(format!("--kind: {e}")))?;
            let teams = teams
                .iter()
                .filter(|t| !t.is_empty())
                .map(|t| t.parse::<Team>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CoreError::Input(format!("--teams: {e}")))?;
            let p = Principal {
                name,
                kind,
                teams,
                confidentiality_signed_on: parse_date(
                    "--confidentiality-signed",
                    &confidentiality_signed,
                )?,
                training_expires_on: parse_date("--training-expires", &training_expires)?,
                engagement_ends_on: parse_date("--ends", &ends)?,
                subject: None,
                organisations: vec![],
                revoked: false,
            };
            st.add_principal(operator, &p)?;
            outln!("added {}", p.name);
        }
        PrincipalsCmd::List => {
            for p in st.principals()? {
                outln!(
                    "{} {} [{}]{}",
                    p.name,
                    p.kind,
                    p.teams
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    if p.revoked { " revoked" } else { "" }
                );
            }
        }
        PrincipalsCmd::Show { name } => {
            let p = st.principal(&name)?;
            outln!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
        }
        PrincipalsCmd::Revoke { name } => {
            st.revoke_principal(operator, &name)?;
            outln!("revoked {name}: denied from the next request on");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn audit(st: &Steward, c: AuditCmd) -> Result<ExitCode, CoreError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    match c {
        AuditCmd::Verify => match st.audit_verify()? {
            VerifyOutcome::Ok(r) => {
                outln!(
                    "audit log verifies: {} entries, {} signed checkpoints (signed size {}), root {}",
                    r.entries,
                    r.checkpoints_verified,
                    r.signed_size,
                    b64.encode(r.root)
                );
                Ok(ExitCode::SUCCESS)
            }
            VerifyOutcome::Failed(f) => {
                outln!(
                    "audit log does NOT verify: first bad index {}: {}",
                    f.first_bad_index,
                    f.what
                );
                Ok(ExitCode::from(1))
            }
        },
        AuditCmd::Prove { index: Some(i), .. } => {
            let (entry, note, proof) = st.audit_prove_inclusion(i)?;
            let out = serde_json::json!({
                "index": i,
                "entry": String::from_utf8_lossy(&entry),
                "checkpoint": note,
                "inclusion_proof": proof.iter().map(|h| b64.encode(h)).collect::<Vec<_>>(),
                "verifier_key": st.verifier_key(),
            });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Prove {
            consistency: Some(v),
            ..
        } => {
            let (old, new) = (v[0], v[1]);
            let (o, n, proof) = st.audit_prove_consistency(old, new)?;
            let out = serde_json::json!({
                "old_checkpoint": o,
                "new_checkpoint": n,
                "consistency_proof": proof.iter().map(|h| b64.encode(h)).collect::<Vec<_>>(),
                "verifier_key": st.verifier_key(),
            });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Prove { .. } => Err(CoreError::Input(
            "give --index N or --consistency OLD_SIZE NEW_SIZE".into(),
        )),
        AuditCmd::Search {
            principal,
            purpose,
            decision,
            action,
            since,
            until,
            subject,
        } => {
            let hits = st.audit_search(&AuditFilter {
                principal,
                purpose,
                decision,
                action,
                since,
                until,
                subject,
            })?;
            for h in &hits {
                outln!("{h}");
            }
            eprintln!("{} entries", hits.len());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Checkpoint => {
            outln!("checkpoint at size {}", st.audit_checkpoint()?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Key => {
            outln!("{}", st.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn ingest(st: &Steward, a: IngestArgs) -> Result<ExitCode, CoreError> {
    let format: steward_ingest::Format = a
        .format
        .parse()
        .map_err(|e: steward_ingest::IngestError| CoreError::Input(format!("--format: {e}")))?;
    let (name, bytes) = if a.file == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| CoreError::Io {
                path: "-".into(),
                reason: e.to_string(),
            })?;
        ("-".to_string(), b)
    } else {
        let b = std::fs::read(&a.file).map_err(|e| CoreError::Io {
            path: a.file.clone(),
            reason: e.to_string(),
        })?;
        (a.file.clone(), b)
    };
    let product = a
        .product
        .parse()
        .map_err(|e: steward_domain::DomainError| CoreError::Input(format!("--product: {e}")))?;
    let year = a
        .year
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    let parsed = steward_ingest::parse(
        format,
        &name,
        &bytes,
        &steward_ingest::ParseOptions { year, product },
    )
    .map_err(|e| CoreError::Input(e.to_string()))?;
    for r in &parsed.rejected {
        eprintln!("{name}:{}: rejected: {}", r.line, r.error);
    }
    let total = parsed.records.len() as u64;
    let bar = if std::io::stderr().is_terminal() && bytes.len() > 1_000_000 {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records {per_sec}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let records: Vec<_> = parsed.records.into_iter().map(|(_, r)| r).collect();
    let mut summary = st.ingest_in(&a.as_, a.region.as_deref(), records, &mut |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    summary.rejected = parsed.rejected.len() as u64;
    for s in &parsed.skipped {
        *summary
            .skipped
            .entry(s.reason.name().to_string())
            .or_default() += 1;
    }
    if a.json {
        outln!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        outln!(
            "stored {} records ({} new subjects) in {:.2}s, {:.0} records/s",
            summary.stored,
            summary.new_subjects,
            summary.elapsed_secs,
            summary.records_per_sec
        );
        for (c, n) in &summary.by_category {
            outln!("  {c}: {n}");
        }
        outln!("rejected {}", summary.rejected);
        let skipped: u64 = summary.skipped.values().sum();
        outln!("skipped {skipped}");
        for (r, n) in &summary.skipped {
            outln!("  {r}: {n}");
        }
    }
    if summary.stored == 0 && (summary.rejected > 0 || !summary.skipped.is_empty()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The Quickstart's main job: a self-generated sample, end to end.
fn demo(st: &Steward) -> Result<ExitCode, CoreError> {
    if !st.subjects(st.operator(), false)?.is_empty() {
        return Err(CoreError::Input(format!(
            "the demo erases a sample subject and needs an empty data directory, but {} holds data; run it with --data-dir \"$(mktemp -d)\"",
            st.data_dir().display()
        )));
    }
    let mut lines = String::new();
    let users = ["alice", "bob", "carol"];
    for i in 0..300u32 {
        let u = users[(i % 3) as usize];
        let ip = format!("198.51.100.{}", i % 7 + 1);
        let pid = 1000 + i;
        lines.push_str(&format!("Dec 10 06:{:02}:{:02} demo-host sshd[{pid}]: Failed password for {u} from {ip} port {} ssh2\n", (i / 60) % 60, i % 60, 40000 + i));
        lines.push_str(&format!("Dec 10 06:{:02}:{:02} demo-host sshd[{pid}]: Accepted password for {u} from {ip} port {} ssh2\n", (i / 60) % 60, i % 60, 40000 + i));
    }
    let opts = steward_ingest::ParseOptions {
        year: 2026,
        product: steward_domain::Product::CloudPlatform,
    };
    let parsed = steward_ingest::parse(
        steward_ingest::Format::Openssh,
        "demo-sample",
        lines.as_bytes(),
        &opts,
    )
    .map_err(|e| CoreError::Input(e.to_string()))?;
    outln!(
        "1. generated {} sshd log lines for 3 accounts",
        lines.lines().count()
    );
    let records: Vec<_> = parsed.records.into_iter().map(|(_, r)| r).collect();
    let s = st.ingest("ingest", records, &mut |_| {})?;
    outln!(
        "2. ingested {} records encrypted per data subject ({} new subjects) as the `ingest` service",
        s.stored,
        s.new_subjects
    );
    let out = st.data_dir().join("demo-export-alice.zip");
    let dsr = st
        .record_obligation(st.operator(), "data_subject_request", "demo")?
        .id;
    let e = st.export(st.operator(), Purpose::Comply, "alice", &out, Some(&dsr))?;
    outln!(
        "3. exported alice ({}): {} records to {} (audit entry {})",
        e.subject.clone().unwrap_or_default(),
        e.record_count,
        e.path,
        e.audit_index
    );
    let denied = st.read(
        &AccessRequest::new(st.operator(), Action::Read, "bob")
            .category(Category::Usage)
            .purpose(Purpose::InternalReporting),
    );
    match denied {
        Err(CoreError::Denied(d)) => {
            outln!("4. the gate denied reading bob's usage for internal_reporting: {d}")
        }
        Ok(_) => outln!("4. unexpected: reading one subject for internal_reporting was allowed"),
        Err(e) => return Err(e),
    }
    let r = st.erase(st.operator(), Purpose::Comply, "alice", Some(&dsr))?;
    outln!(
        "5. erased alice by crypto-shredding: {} records unreadable, receipt {}",
        r.records_unreadable,
        r.receipt_id
    );
    let after = st.export(st.operator(), Purpose::Comply, "alice", &out, Some(&dsr))?;
    outln!(
        "6. alice's export now holds {} records; find: {}",
        after.record_count,
        if st.find("username:alice")?.is_some() {
            "still resolves"
        } else {
            "no longer resolves"
        }
    );
    st.audit_checkpoint()?;
    match st.audit_verify()? {
        VerifyOutcome::Ok(v) => outln!(
            "7. audit log verifies: {} entries, {} signed checkpoints",
            v.entries,
            v.checkpoints_verified
        ),
        VerifyOutcome::Failed(f) => {
            outln!("7. audit log does NOT verify: {f}");
            return Ok(ExitCode::from(1));
        }
    }
    outln!("data directory: {}", st.data_dir().display());
    Ok(ExitCode::SUCCESS)
}
