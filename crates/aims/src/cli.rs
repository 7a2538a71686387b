//! The command line, exactly as the product guide's contract gives it. Each command opens the
//! database (migrating it first), calls one application service and prints the result:
//! results on stdout, notes on stderr; exit 0 done, 1 refused or failed, 2 usage.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use aims_app::{App, AppError};
use aims_store::model::Actor;
use clap::{Args, Parser, Subcommand};

use crate::server::{self, ServerSettings};

/// The CLI acts as the system itself; its changes are logged as `system:cli`.
const CLI_ACTOR: Actor = Actor::System("cli");

#[derive(Debug, Parser)]
#[command(name = "aims", version, about = "aims — the AI management system (ISO/IEC 42001:2023)")]
pub struct Cli {
    /// Database URL: sqlite:PATH, sqlite://PATH, postgres://… or postgresql://…
    #[arg(long, global = true, env = "AIMS_DATABASE_URL", default_value = "aims.db")]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web UI and the API.
    Serve(ServeArgs),
    /// Bring the database to the current schema.
    Migrate,
    /// Create the demo organisation `demo` with one user per role (prints EMAIL PASSWORD on stderr).
    Demo,
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users and memberships.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hash-chained activity log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Import records from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Evidence files.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Generate a report (recorded as an issued document); notes on stderr, nothing on stdout.
    Report(ReportArgs),
    /// Write a backup of a running SQLite installation (database and evidence files) to one
    /// file and print its SHA-256; on PostgreSQL, print how to back up with pg_dump.
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restore a backup into an empty location (the --database path and its evidence folder)
    /// and verify every chain and every evidence file; exit 1 if anything fails the check.
    Restore { archive: std::path::PathBuf },
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// soa, ai-system-register, risk-register, management-review, internal-audit,
    /// executive-summary, stage1-pack
    kind: String,
    #[arg(long)]
    org: String,
    /// The record the report is about (a closed management review, an audit).
    #[arg(long)]
    id: Option<String>,
    /// pdf, xlsx, csv, docx, zip or json, as the kind offers.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(long)]
    output: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Re-hash every stored evidence file (every revision); exit 1 naming each missing or changed file.
    Verify {
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import AI systems from a CSV file: all rows or none; rows match existing systems by name.
    AiSystems {
        file: std::path::PathBuf,
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, global = true, env = "AIMS_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The URL people reach the server at (https makes cookies Secure); default http://BIND.
    #[arg(long, env = "AIMS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Create the demo organisation first (if it does not exist).
    #[arg(long)]
    demo: bool,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation (with the ISO/IEC 42001 catalogue loaded).
    Create {
        /// Lower-case letters, digits and single hyphens, at most 63 characters.
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user with a membership (password read from stdin up to the first newline), or
    /// add or change an existing user's membership.
    Create {
        email: String,
        #[arg(long)]
        org: String,
        /// owner, admin, editor, auditor or viewer
        #[arg(long)]
        role: String,
        /// Display name (default: from the e-mail address).
        #[arg(long)]
        name: Option<String>,
    },
    /// Deactivate a user: their sessions and tokens stop working at once.
    Deactivate { email: String },
    /// Print a one-time password reset link.
    ResetPassword {
        email: String,
        /// Base URL of the server for the link (default: AIMS_PUBLIC_URL or http://127.0.0.1:8080).
        #[arg(long, env = "AIMS_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a membership; stdout is exactly one line, the token.
    Create {
        email: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// List a member's tokens.
    List {
        email: String,
        #[arg(long)]
        org: String,
    },
    /// Revoke a token (effective on the next request).
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Verify every chain (or one organisation's); exit 1 naming the first bad event.
    Verify {
        #[arg(long)]
        org: Option<String>,
        /// Start after a checkpoint (`SEQ:HASH` from `log head --checkpoint`), reading only the
        /// events recorded since. Needs --org.
        #[arg(long, value_name = "SEQ:HASH")]
        from: Option<String>,
    },
    /// Write a signed export of an organisation's activity log (all events, or a range) as JSON
    /// an outsider can verify without aims.
    Export {
        #[arg(long)]
        org: String,
        #[arg(long)]
        output: PathBuf,
        /// The first event to export (default: the first).
        #[arg(long, value_name = "SEQ")]
        from_seq: Option<i64>,
        /// The last event to export (default: the current head).
        #[arg(long, value_name = "SEQ")]
        to_seq: Option<i64>,
    },
    /// Verify a signed export: every event's hash from its content, their chain, the head and
    /// the signature (against the embedded public key, or the one given). Needs no database.
    VerifyExport {
        file: PathBuf,
        /// The organisation's published public key: 64 hex digits, or a PEM file.
        #[arg(long, value_name = "HEX|PEM-FILE")]
        public_key: Option<String>,
    },
    /// Print an organisation's current head hash.
    Head {
        #[arg(long)]
        org: String,
        /// Print `SEQ:HASH`, the checkpoint `log verify --from` starts from.
        #[arg(long)]
        checkpoint: bool,
    },
}

/// Parses the arguments, runs the command and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(serving: bool) {
    let default = if serving { "info,tower_http=info,sqlx=warn" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIMS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Prints an error on stderr, one line per offending field.
fn report(error: &anyhow::Error) {
    match error.downcast_ref::<AppError>() {
        Some(AppError::Validation(errors)) => {
            for e in &errors.0 {
                eprintln!("error: {}: {}", e.field, e.message);
            }
        }
        _ => eprintln!("error: {error}"),
    }
}

async fn open(database: &str) -> anyhow::Result<App> {
    let (app, report) = App::open(database).await?;
    for applied in report.applied {
        eprintln!("migrated: {applied}");
    }
    Ok(app)
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // A backup copies the database as it is, and a restore needs its target absent: neither
    // opens (and so creates or migrates) the database first.
    match &cli.command {
        Command::Backup { to } => {
            let (database, to) = (cli.database.clone(), to.clone());
            return tokio::task::spawn_blocking(move || crate::backup::backup(&database, &to)).await?;
        }
        Command::Restore { archive } => return crate::backup::restore(&cli.database, archive).await,
        Command::Log(LogCommand::VerifyExport { file, public_key }) => return verify_export(file.clone(), public_key.as_deref()),
        _ => {}
    }
    let app = open(&cli.database).await?;
    match cli.command {
        Command::Serve(args) => serve(app, args).await?,
        Command::Migrate => eprintln!("schema at version {}", aims_store::migrate::known_version()),
        Command::Demo => demo(&app).await?,
        Command::Org(OrgCommand::Create { slug, name }) => {
            let org = app.create_org(&slug, &name, &CLI_ACTOR).await?;
            println!("{}", org.slug);
            eprintln!("created organisation {} ({}) with the ISO/IEC 42001:2023 catalogue", org.slug, org.name);
        }
        Command::User(command) => user(&app, command).await?,
        Command::Token(command) => token(&app, command).await?,
        Command::Log(LogCommand::Verify { org, from }) => return verify(&app, org.as_deref(), from.as_deref()).await,
        Command::Import(ImportCommand::AiSystems { file, org }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("file: cannot read {}: {e}", file.display()))?;
            let org = app.org_by_slug(&org).await?;
            let report = app.import_ai_systems_as(&org.id, &CLI_ACTOR, &text).await?;
            println!("created={} updated={} unchanged={}", report.created, report.updated, report.unchanged);
        }
        Command::Evidence(EvidenceCommand::Verify { org }) => return verify_evidence(&app, &org).await,
        Command::Report(args) => write_report(&app, args).await?,
        Command::Backup { .. } | Command::Restore { .. } | Command::Log(LogCommand::VerifyExport { .. }) => {
            unreachable!("handled before the database is opened")
        }
        Command::Log(LogCommand::Export { org, output, from_seq, to_seq }) => {
            export_log(&app, &org, &output, aims_app::activity_export::ExportRange { from_seq, to_seq }).await?
        }
        Command::Log(LogCommand::Head { org, checkpoint }) => {
            let (seq, hash) = app.log_head(&org).await?;
            if checkpoint {
                println!("{seq}:{hash}");
            } else {
                println!("{hash}");
            }
            eprintln!("org={org} seq={seq}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the signed export a chunk at a time into a temporary file beside `output`, renamed
/// into place once complete, so a failed export leaves no half-written file under its name.
async fn export_log(app: &App, org: &str, output: &std::path::Path, range: aims_app::activity_export::ExportRange) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut export = app.export_activity_of_org(org, range).await?;
    let partial = output.with_extension("partial");
    let file = tokio::fs::File::create(&partial).await.map_err(|e| anyhow::anyhow!("output: cannot write {}: {e}", partial.display()))?;
    let mut writer = tokio::io::BufWriter::new(file);
    let written = async {
        while let Some(chunk) = export.next_chunk().await? {
            writer.write_all(&chunk).await?;
        }
        writer.flush().await?;
        writer.get_ref().sync_all().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, output).await.map_err(|e| anyhow::anyhow!("output: cannot write {}: {e}", output.display()))?;
    eprintln!("exported {}'s activity log to {}", org, output.display());
    Ok(())
}

/// Checks a signed export; exit 1 with a line naming what failed.
fn verify_export(file: PathBuf, public_key: Option<&str>) -> anyhow::Result<ExitCode> {
    use aims_app::activity_export::{parse_public_key, verify_export};
    let expected = match public_key {
        None => None,
        Some(given) => {
            let text = if std::path::Path::new(given).is_file() {
                std::fs::read_to_string(given).map_err(|e| anyhow::anyhow!("public-key: cannot read {given}: {e}"))?
            } else {
                given.to_owned()
            };
            Some(parse_public_key(&text).ok_or_else(|| anyhow::anyhow!("public-key: not an Ed25519 public key (64 hex digits or PEM)"))?)
        }
    };
    let text = std::fs::read(&file).map_err(|e| anyhow::anyhow!("file: cannot read {}: {e}", file.display()))?;
    match verify_export(&text, expected.as_ref()) {
        Ok(v) => {
            println!(
                "ok: org={} events={} seq={}..{} head={} public_key={}",
                v.org_slug, v.events, v.from_seq, v.to_seq, v.head_hash, v.public_key_hex
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(fault) => {
            eprintln!("invalid: {fault}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn serve(app: App, args: ServeArgs) -> anyhow::Result<()> {
    if args.demo {
        demo(&app).await?;
    }
    let listener =
        tokio::net::TcpListener::bind(&args.bind).await.map_err(|e| anyhow::anyhow!("bind: cannot listen on {}: {e}", args.bind))?;
    let address = listener.local_addr()?;
    let public_url = args.public_url.unwrap_or_else(|| format!("http://{address}")).trim_end_matches('/').to_owned();
    if let Some(secret) = app.issue_setup_link().await? {
        eprintln!("setup: {public_url}/setup/{secret}");
    }
    let store = aims_store::sessions::DbSessionStore::new(app.db.clone());
    tokio::spawn(async move {
        use tower_sessions::session_store::ExpiredDeletion;
        let mut every_hour = tokio::time::interval(tokio::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    });
    aims_app::notify::set_public_url(&public_url);
    match aims_app::scheduler::SchedulerSettings::from_env(&public_url) {
        Ok(Some(settings)) => {
            aims_app::scheduler::spawn(app.clone(), settings);
        }
        Ok(None) => eprintln!("scheduler: off ({}=0)", aims_app::scheduler::INTERVAL_ENV),
        Err(e) => anyhow::bail!("{e}"),
    }
    let router = server::router(app, &ServerSettings { public_url: public_url.clone() });
    eprintln!("listening on {public_url}");
    crate::return_freed_memory();
    server::serve(listener, router).await?;
    Ok(())
}

/// Writes the report to `--output`; a progress line on a terminal for long work.
async fn write_report(app: &App, args: ReportArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    // The signed log is streamed to the file, whatever the log's size.
    if args.kind == aims_app::reports::ACTIVITY && args.format == "json" && args.id.is_none() {
        return export_log(app, &args.org, &args.output, Default::default()).await;
    }
    let reader = app.report_reader(&args.org).await?;
    let on_terminal = std::io::stderr().is_terminal();
    let progress = move |done: usize, total: usize, what: &str| {
        if on_terminal {
            eprint!("\r\x1b[2K[{done}/{total}] {what}");
        }
    };
    let generated = app.generate_report(&reader, &args.kind, Some(&args.format), args.id.as_deref(), &CLI_ACTOR, &progress).await?;
    if on_terminal {
        eprint!("\r\x1b[2K");
    }
    std::fs::write(&args.output, &generated.bytes).map_err(|e| anyhow::anyhow!("output: cannot write {}: {e}", args.output.display()))?;
    for note in &generated.notes {
        eprintln!("missing: {note}");
    }
    eprintln!(
        "wrote {} ({} bytes, sha256 {}; source data sha256 {})",
        args.output.display(),
        generated.bytes.len(),
        generated.sha256,
        generated.source_sha256
    );
    Ok(())
}

async fn demo(app: &App) -> anyhow::Result<()> {
    match app.create_demo().await? {
        Some(users) => {
            for user in users {
                eprintln!("{} {}", user.email, user.password);
            }
        }
        None => eprintln!("demo organisation exists; nothing changed"),
    }
    Ok(())
}

async fn user(app: &App, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email, org, role, name } => {
            let password = read_password()?;
            let outcome = app.create_member(&email, &org, &role, &password, name.as_deref(), &CLI_ACTOR).await?;
            eprintln!("{email}: {outcome:?} in {org} as {role}");
        }
        UserCommand::Deactivate { email } => {
            let revoked = app.deactivate_user(&email, &CLI_ACTOR).await?;
            eprintln!("{email} deactivated; sessions ended, {revoked} token(s) revoked");
        }
        UserCommand::ResetPassword { email, public_url } => {
            let secret = app.issue_password_reset(&email, &CLI_ACTOR).await?;
            println!("{}/reset/{secret}", public_url.trim_end_matches('/'));
            eprintln!("the link works once, within 24 hours");
        }
    }
    Ok(())
}

/// Reads the password from stdin up to the first newline.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

async fn token(app: &App, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { email, org, name, expires_days } => {
            let member = app.member_by_email(&email, &org).await?;
            let created = app.create_token(&member, name.as_deref(), expires_days, &CLI_ACTOR).await?;
            println!("{}", created.secret);
            eprintln!("token {} for {email} in {org}; shown once", created.token.id);
        }
        TokenCommand::List { email, org } => {
            let member = app.member_by_email(&email, &org).await?;
            for t in app.list_tokens_of(&member).await? {
                let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\tcreated={}\tlast_used={}\texpires={}",
                    t.id,
                    status,
                    t.name,
                    t.created_at,
                    t.last_used_at.as_deref().unwrap_or("-"),
                    t.expires_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let token = app.revoke_token_by_id(&id, &CLI_ACTOR).await?;
            eprintln!("token {} revoked", token.id);
        }
    }
    Ok(())
}

async fn verify_evidence(app: &App, org: &str) -> anyhow::Result<ExitCode> {
    let report = app.verify_evidence(org).await?;
    for problem in &report.problems {
        println!("org={org} evidence={} revision={} sha256={}: {}", problem.evidence_id, problem.revision, problem.sha256, problem.problem);
    }
    eprintln!("org={org} files checked={} problems={} store={}", report.files_checked, report.problems.len(), app.files.describe());
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn verify(app: &App, org: Option<&str>, from: Option<&str>) -> anyhow::Result<ExitCode> {
    let checkpoint = from.map(|text| App::parse_checkpoint("from", text)).transpose()?;
    let mut progress = ProgressLine::new();
    let mut intact = true;
    for (org, outcome) in app.verify_log(org, checkpoint.as_ref(), &mut |org, p| progress.show(&org.slug, p)).await? {
        progress.clear();
        match outcome {
            Ok(verified) if verified.from_seq > 0 => {
                eprintln!("org={} intact from seq {} to {}", org.slug, verified.from_seq, verified.head.seq);
            }
            Ok(_) => eprintln!("org={} intact", org.slug),
            Err(broken) => {
                intact = false;
                println!("org={} seq={} id={}: {}", org.slug, broken.seq, broken.id, broken.reason);
            }
        }
    }
    Ok(if intact { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A verification's progress, redrawn in place on stderr when stderr is a terminal (and
/// silent otherwise, so cron mails and scripts see only the outcome).
struct ProgressLine {
    terminal: bool,
    drawn: Option<std::time::Instant>,
}

impl ProgressLine {
    fn new() -> Self {
        Self { terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()), drawn: None }
    }

    /// Redraws at most ten times a second: a terminal is slower than the walk.
    fn show(&mut self, org: &str, p: aims_store::activity::Progress) {
        if !self.terminal || self.drawn.is_some_and(|at| at.elapsed() < std::time::Duration::from_millis(100)) {
            return;
        }
        let percent = if p.head_seq > 0 { p.checked_seq.saturating_mul(100) / p.head_seq } else { 100 };
        eprint!("\r\x1b[Korg={org} verifying: seq {} of {} ({percent}%)", p.checked_seq, p.head_seq);
        self.drawn = Some(std::time::Instant::now());
    }

    fn clear(&mut self) {
        if self.drawn.take().is_some() {
            eprint!("\r\x1b[K");
        }
    }
}
