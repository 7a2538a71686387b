//! `aims backup` and `aims restore`. On SQLite a backup is one file (see `aims_store::backup`);
//! a restore unpacks it into an empty location and then verifies it as `aims log verify` and
//! `aims evidence verify` would: every chain, every evidence file's hash. On PostgreSQL the
//! backup is pg_dump's, and the command says how to take it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aims_app::App;
use aims_store::backup::{self, Progress, Target};
use aims_store::files::FileStore;

/// Where SQLite keeps the database a URL names, or `None` for PostgreSQL.
fn sqlite_file(database: &str) -> anyhow::Result<Option<PathBuf>> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        return Ok(None);
    }
    let path = aims_store::sqlite_path(database).ok_or_else(|| anyhow::anyhow!("database: unsupported URL {database:?}"))?;
    Ok(Some(PathBuf::from(path)))
}

fn file_store(database: &str) -> FileStore {
    FileStore::choose(std::env::var("AIMS_FILE_STORE").ok().as_deref(), database)
}

/// `aims backup --to PATH`: prints `SHA256  PATH` on stdout (the format `sha256sum -c` reads).
pub fn backup(database: &str, to: &Path) -> anyhow::Result<ExitCode> {
    let Some(path) = sqlite_file(database)? else {
        eprintln!("{}", POSTGRES_BACKUP);
        return Ok(ExitCode::FAILURE);
    };
    let store = file_store(database);
    let folder = match &store {
        FileStore::Folder(root) => Some(root.to_path_buf()),
        FileStore::Database => None,
    };
    let mut display = ProgressLine::new();
    let made = backup::backup(&path, folder.as_deref(), to, &aims_domain::clock::now_text(), &mut |p| display.show(p))?;
    display.done();
    for skipped in &made.skipped {
        eprintln!("warning: left out {}: its bytes no longer match its name (see aims evidence verify)", skipped.display());
    }
    eprintln!(
        "backup of {} with {} evidence file(s) from {}: {} bytes",
        path.display(),
        made.manifest.evidence_files(),
        store.describe(),
        made.bytes
    );
    println!("{}  {}", made.sha256, to.display());
    Ok(ExitCode::SUCCESS)
}

const POSTGRES_BACKUP: &str = "\
aims backup writes SQLite backups only. On PostgreSQL use pg_dump, which takes a consistent
snapshot while aims keeps running; evidence files are in the evidence_files table of the same
database (the default store on PostgreSQL), so the dump holds them too:

  pg_dump --format=custom --file=aims.dump \"$AIMS_DATABASE_URL\"
  sha256sum aims.dump

Restore into a new, empty database, then verify every chain and every evidence file:

  createdb aims_restored
  pg_restore --no-owner --dbname=postgres://…/aims_restored aims.dump
  AIMS_DATABASE_URL=postgres://…/aims_restored aims log verify
  AIMS_DATABASE_URL=postgres://…/aims_restored aims evidence verify --org SLUG

If AIMS_FILE_STORE names a folder, back that folder up too, after the dump.";

/// `aims restore PATH`: unpacks into the (empty) location the database URL names and verifies
/// everything; on a failed check it removes what it restored and exits 1.
pub async fn restore(database: &str, archive: &Path) -> anyhow::Result<ExitCode> {
    let Some(path) = sqlite_file(database)? else {
        anyhow::bail!("database: aims restore restores SQLite backups; on PostgreSQL use pg_restore (see aims backup)");
    };
    let folder = match file_store(database) {
        FileStore::Folder(root) => Some(root.to_path_buf()),
        FileStore::Database => None,
    };
    let mut display = ProgressLine::new();
    let restored = backup::restore(archive, Target { database: path, files: folder }, &mut |p| display.show(p))?;
    display.done();
    // The evidence is where the archive kept it: in the database copy, or in the folder.
    let files = match &restored.target.files {
        Some(folder) if restored.manifest.file_store == "folder" => FileStore::Folder(folder.clone().into()),
        _ => FileStore::Database,
    };
    let problems = match verify_restored(database, files).await {
        Ok(problems) => problems,
        Err(e) => vec![format!("cannot open the restored database: {e}")],
    };
    if !problems.is_empty() {
        for problem in &problems {
            println!("{problem}");
        }
        restored.remove();
        eprintln!("error: the restored copy failed its check; nothing was kept");
        return Ok(ExitCode::FAILURE);
    }
    if restored.manifest.file_store == "database" && restored.target.files.is_some() {
        eprintln!("note: the evidence files are in the database: run aims with AIMS_FILE_STORE=database");
    }
    eprintln!(
        "restored {} and {} evidence file(s); every chain and every evidence file verified",
        restored.target.database.display(),
        restored.manifest.evidence_files()
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens the restored database (migrating a backup of an older release) and lists every
/// broken chain and every missing or changed evidence file.
async fn verify_restored(database: &str, files: FileStore) -> anyhow::Result<Vec<String>> {
    let (app, report) = App::open_with(database, files, aims_app::DEFAULT_MAX_UPLOAD_BYTES).await?;
    for applied in report.applied {
        eprintln!("migrated: {applied}");
    }
    let mut problems = Vec::new();
    for (org, outcome) in app.verify_log(None, None, &mut |_, _| {}).await? {
        if let Err(broken) = outcome {
            problems.push(format!("org={} seq={} id={}: {}", org.slug, broken.seq, broken.id, broken.reason));
        }
        let evidence = app.verify_evidence(&org.slug).await?;
        for p in evidence.problems {
            problems
                .push(format!("org={} evidence={} revision={} sha256={}: {}", org.slug, p.evidence_id, p.revision, p.sha256, p.problem));
        }
    }
    app.db.close().await;
    Ok(problems)
}

/// A progress line on a terminal (stderr), redrawn in place; nothing when stderr is not one.
struct ProgressLine {
    terminal: bool,
    last: String,
}

impl ProgressLine {
    fn new() -> Self {
        Self { terminal: std::io::stderr().is_terminal(), last: String::new() }
    }

    fn show(&mut self, progress: Progress) {
        if !self.terminal {
            return;
        }
        let line = match progress {
            Progress::Database { copied_pages, total_pages } => {
                format!("database: {}% ({copied_pages}/{total_pages} pages)", copied_pages * 100 / total_pages.max(1))
            }
            Progress::Files { done, total: 0 } => format!("evidence files: {done}"),
            Progress::Files { done, total } => format!("evidence files: {done}/{total}"),
        };
        if line != self.last {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{line}");
            let _ = stderr.flush();
            self.last = line;
        }
    }

    fn done(&mut self) {
        if self.terminal && !self.last.is_empty() {
            eprintln!();
        }
    }
}
