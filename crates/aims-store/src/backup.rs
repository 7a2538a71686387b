//! Backups of a SQLite installation in one file: a tar archive holding a consistent copy of the
//! database, taken with SQLite's online backup while the server keeps writing, the evidence
//! files of a folder store, and last a manifest of every entry's size and SHA-256 (so a
//! truncated archive is one without its manifest). Restoring checks every entry against the
//! manifest before anything is put in place. PostgreSQL has pg_dump; nothing here serves it.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{StoreError, StoreResult};

/// The manifest's name inside the archive; it is the last entry.
pub const MANIFEST: &str = "aims-backup.json";
/// The database copy's name inside the archive.
pub const DATABASE: &str = "aims.db";
/// Evidence files sit under this folder, as `files/<org id>/<xx>/<sha256>`.
const FILES: &str = "files";
const FORMAT: &str = "aims-backup";
/// Pages copied per step of the online backup, between two progress reports.
const PAGES_PER_STEP: i32 = 512;

/// What an archive holds, written last into it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub created_at: String,
    /// `folder` when the evidence files are entries of the archive, `database` when they are
    /// inside the database copy.
    pub file_store: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// The number of evidence files the archive holds.
    pub fn evidence_files(&self) -> usize {
        self.entries.iter().filter(|e| e.path.starts_with(FILES)).count()
    }
}

/// How far a backup or a restore has come, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Database { copied_pages: u64, total_pages: u64 },
    Files { done: usize, total: usize },
}

/// What `backup` made.
#[derive(Debug)]
pub struct Made {
    pub sha256: String,
    pub bytes: u64,
    pub manifest: Manifest,
    /// Files in the folder store whose bytes no longer match their name (left out, named here).
    pub skipped: Vec<PathBuf>,
}

/// Writes a backup of the SQLite database at `database` (and, when `files` is a folder store's
/// root, its evidence files) to `to`, which must not exist. The archive is written beside it
/// and renamed into place once complete and fsynced.
pub fn backup(database: &Path, files: Option<&Path>, to: &Path, now: &str, progress: &mut dyn FnMut(Progress)) -> StoreResult<Made> {
    if !database.is_file() {
        return Err(StoreError::Backup(format!("no SQLite database at {}", database.display())));
    }
    if to.exists() {
        return Err(StoreError::Backup(format!("{} exists; choose a new file name", to.display())));
    }
    let partial = sibling(to, "partial");
    let copy = sibling(to, "db");
    let made = write_archive(database, files, &copy, &partial, now, progress);
    let _ = std::fs::remove_file(&copy);
    match made {
        Ok(made) => {
            std::fs::rename(&partial, to)?;
            sync_parent(to)?;
            Ok(made)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `<to>.<tag>-<uuid>`: a work file beside the destination, on its file system.
fn sibling(to: &Path, tag: &str) -> PathBuf {
    let name = to.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "aims-backup".into());
    to.with_file_name(format!(".{name}.{tag}-{}", uuid::Uuid::now_v7().simple()))
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => std::fs::File::open(".")?.sync_all(),
    }
}

fn write_archive(
    database: &Path,
    files: Option<&Path>,
    copy: &Path,
    partial: &Path,
    now: &str,
    progress: &mut dyn FnMut(Progress),
) -> StoreResult<Made> {
    copy_database(database, copy, progress)?;
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(partial)?;
    let mut tar = tar::Builder::new(Hashing::new(std::io::BufWriter::new(file)));
    let database_copy = std::fs::File::open(copy)?;
    let mut entries = vec![append(&mut tar, DATABASE, database_copy.metadata()?.len(), database_copy)?];
    let mut skipped = Vec::new();
    if let Some(root) = files {
        let found = evidence_files(root)?;
        let total = found.len();
        for (done, (relative, path)) in found.into_iter().enumerate() {
            let bytes = std::fs::read(&path)?;
            // A file whose bytes do not match its name was changed behind the application's
            // back; it would fail the restore's check, so it is named rather than copied.
            if crate::files::sha256_hex(&bytes) != file_name(&path) {
                skipped.push(path);
                continue;
            }
            entries.push(append(&mut tar, &format!("{FILES}/{relative}"), bytes.len() as u64, bytes.as_slice())?);
            progress(Progress::Files { done: done + 1, total });
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        created_at: now.into(),
        file_store: if files.is_some() { "folder" } else { "database" }.into(),
        entries,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Backup(e.to_string()))?;
    append(&mut tar, MANIFEST, json.len() as u64, json.as_slice())?;
    let hashing = tar.into_inner()?;
    let (sha256, bytes, writer) = hashing.finish();
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(Made { sha256, bytes, manifest, skipped })
}

/// Copies the database with SQLite's online backup, a few pages per step. The source
/// connection holds one read transaction throughout, so every step reads the same snapshot:
/// the copy is consistent, and writes by the server meanwhile neither wait for it nor make the
/// backup start over (which they would between steps without that transaction).
fn copy_database(database: &Path, copy: &Path, progress: &mut dyn FnMut(Progress)) -> StoreResult<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = Connection::open_with_flags(database, flags)?;
    source.busy_timeout(Duration::from_secs(15))?;
    source.execute_batch("BEGIN")?;
    // A deferred transaction takes its snapshot at its first read.
    source.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    let mut destination = Connection::open(copy)?;
    {
        let backup = Backup::new(&source, &mut destination)?;
        loop {
            let step = backup.step(PAGES_PER_STEP)?;
            let p = backup.progress();
            let total = u64::try_from(p.pagecount).unwrap_or(0);
            progress(Progress::Database {
                copied_pages: total.saturating_sub(u64::try_from(p.remaining).unwrap_or(0)),
                total_pages: total,
            });
            match step {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(20)),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    source.execute_batch("COMMIT")?;
    // The copy is a standalone file: no WAL beside it, so the archive holds all of it.
    destination.execute_batch("PRAGMA journal_mode = DELETE")?;
    drop(destination);
    Ok(())
}

/// Every evidence file under a folder store's root: `(org/xx/sha, path)`, sorted. Work files
/// (names starting with a dot, being written) are not evidence yet.
fn evidence_files(root: &Path) -> StoreResult<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    if !root.exists() {
        return Ok(found);
    }
    for org in read_dir_sorted(root)? {
        for prefix in read_dir_sorted(&org)? {
            for file in read_dir_sorted(&prefix)? {
                let name = file_name(&file);
                if file.is_file() && !name.starts_with('.') {
                    found.push((format!("{}/{}/{name}", file_name(&org), file_name(&prefix)), file));
                }
            }
        }
    }
    Ok(found)
}

fn read_dir_sorted(dir: &Path) -> StoreResult<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Appends `size` bytes read from `data` as a regular file, hashing them on the way.
fn append<W: Write>(tar: &mut tar::Builder<W>, path: &str, size: u64, data: impl Read) -> StoreResult<Entry> {
    let mut hashing = HashingReader { inner: data, hasher: Sha256::new(), size: 0 };
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, &mut hashing)?;
    if hashing.size != size {
        return Err(StoreError::Backup(format!("{path} changed size while it was copied")));
    }
    Ok(Entry { path: path.into(), size, sha256: hex::encode(hashing.hasher.finalize()) })
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// A writer that hashes what passes through it: the archive's SHA-256 without reading it again.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), bytes: 0 }
    }

    fn finish(mut self) -> (String, u64, W) {
        let _ = self.inner.flush();
        (hex::encode(self.hasher.finalize()), self.bytes, self.inner)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file, as `sha256sum` prints it.
pub fn sha256_of_file(path: &Path) -> StoreResult<String> {
    let mut reader = HashingReader { inner: std::fs::File::open(path)?, hasher: Sha256::new(), size: 0 };
    std::io::copy(&mut reader, &mut std::io::sink())?;
    Ok(hex::encode(reader.hasher.finalize()))
}

/// Where a restore puts things: the database file and, for an archive of a folder store, the
/// folder the evidence files go to. Neither may exist yet (an empty folder is accepted).
#[derive(Debug, Clone)]
pub struct Target {
    pub database: PathBuf,
    pub files: Option<PathBuf>,
}

/// What a restore put in place, removed again by [`Restored::remove`] when the check after it fails.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub target: Target,
}

impl Restored {
    /// Removes the restored database (and its WAL) and evidence folder.
    pub fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.target.database.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(path));
        }
        if let Some(files) = &self.target.files {
            let _ = std::fs::remove_dir_all(files);
        }
    }
}

/// Unpacks `archive` into `target` after checking every entry against the manifest: sizes,
/// SHA-256 and that nothing is missing or extra. A truncated or corrupt archive is refused
/// and nothing is left behind. The files are unpacked beside their destinations first and
/// renamed into place only when all of them are good.
pub fn restore(archive: &Path, target: Target, progress: &mut dyn FnMut(Progress)) -> StoreResult<Restored> {
    check_empty(&target)?;
    let staging_db = sibling(&target.database, "restoring");
    let staging_files = target.files.as_ref().map(|f| sibling(f, "restoring"));
    let outcome = unpack(archive, &staging_db, staging_files.as_deref(), progress);
    let manifest = match outcome {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_file(&staging_db);
            if let Some(dir) = &staging_files {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
    };
    if manifest.file_store == "folder" && target.files.is_none() {
        let _ = std::fs::remove_file(&staging_db);
        return Err(StoreError::Backup(
            "the archive holds evidence files from a folder store: restore with AIMS_FILE_STORE set to a folder (or unset)".into(),
        ));
    }
    std::fs::rename(&staging_db, &target.database)?;
    if let (Some(staging), Some(files)) = (&staging_files, &target.files) {
        if files.exists() {
            std::fs::remove_dir(files)?;
        }
        if staging.exists() {
            std::fs::rename(staging, files)?;
        } else {
            std::fs::create_dir_all(files)?;
        }
    }
    sync_parent(&target.database)?;
    Ok(Restored { manifest, target })
}

fn check_empty(target: &Target) -> StoreResult<()> {
    for suffix in ["", "-wal"] {
        let mut path = target.database.clone().into_os_string();
        path.push(suffix);
        if Path::new(&path).exists() {
            return Err(StoreError::Backup(format!(
                "{} exists: restore into an empty location (a new database path)",
                Path::new(&path).display()
            )));
        }
    }
    if let Some(files) = &target.files {
        if files.exists() && std::fs::read_dir(files)?.next().is_some() {
            return Err(StoreError::Backup(format!(
                "the evidence folder {} is not empty: restore into an empty location",
                files.display()
            )));
        }
    }
    Ok(())
}

fn corrupt(archive: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(format!("{} is truncated or corrupt ({why}); nothing was restored", archive.display()))
}

/// Unpacks the database to `database` and the evidence files under `files`, then checks them
/// against the manifest, which must be the last entry.
fn unpack(archive: &Path, database: &Path, files: Option<&Path>, progress: &mut dyn FnMut(Progress)) -> StoreResult<Manifest> {
    let file = std::fs::File::open(archive).map_err(|e| StoreError::Backup(format!("cannot read {}: {e}", archive.display())))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    let mut found: Vec<Entry> = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in tar.entries().map_err(|e| corrupt(archive, e))? {
        let mut entry = entry.map_err(|e| corrupt(archive, e))?;
        if manifest.is_some() {
            return Err(corrupt(archive, "entries after the manifest"));
        }
        let path = entry.path().map_err(|e| corrupt(archive, e))?.to_string_lossy().into_owned();
        if path == MANIFEST {
            let mut json = Vec::new();
            entry.read_to_end(&mut json).map_err(|e| corrupt(archive, e))?;
            manifest = Some(serde_json::from_slice(&json).map_err(|e| corrupt(archive, format!("manifest: {e}")))?);
            continue;
        }
        let destination = match (path.as_str(), path.strip_prefix("files/"), files) {
            (DATABASE, _, _) => database.to_owned(),
            (_, Some(relative), Some(root)) if safe_relative(relative) => root.join(relative),
            (_, Some(_), None) => {
                return Err(StoreError::Backup("the archive holds evidence files but the evidence store is the database".into()));
            }
            _ => return Err(corrupt(archive, format!("unexpected entry {path:?}"))),
        };
        if let Some(dir) = destination.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut reader = HashingReader { inner: &mut entry, hasher: Sha256::new(), size: 0 };
        let mut out = std::fs::File::create(&destination)?;
        std::io::copy(&mut reader, &mut out).map_err(|e| corrupt(archive, e))?;
        out.sync_all()?;
        found.push(Entry { path, size: reader.size, sha256: hex::encode(reader.hasher.finalize()) });
        if found.len() > 1 {
            progress(Progress::Files { done: found.len() - 1, total: 0 });
        }
    }
    let manifest = manifest.ok_or_else(|| corrupt(archive, "no manifest at its end"))?;
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(StoreError::Backup(format!("{} is not an aims backup of a version this binary reads", archive.display())));
    }
    if manifest.entries != found {
        let differing = manifest.entries.iter().find(|e| !found.contains(e)).map_or("an extra entry".to_owned(), |e| e.path.clone());
        return Err(corrupt(archive, format!("{differing} does not match the manifest")));
    }
    Ok(manifest)
}

/// `org/xx/sha256`: plain names only, so an archive cannot write outside the evidence folder.
fn safe_relative(relative: &str) -> bool {
    let path = Path::new(relative);
    path.components().count() == 3 && path.components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_evidence_paths_are_accepted() {
        assert!(safe_relative("0190aaaa/ab/abcdef"));
        assert!(!safe_relative("../ab/abcdef"));
        assert!(!safe_relative("/etc/ab/passwd"));
        assert!(!safe_relative("a/b"));
        assert!(!safe_relative("a/b/c/d"));
    }
}
