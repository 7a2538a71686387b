//! Where evidence file contents live: content-addressed by SHA-256 within an organisation, so
//! the same bytes are stored once and any change to them is detectable. Two stores behind one
//! interface: a local folder (the default next to an embedded SQLite database) and the
//! database itself (the default on PostgreSQL, so every instance sharing it reaches every file).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aims_domain::uploads::Received;
use sha2::{Digest, Sha256};

use crate::db::{Db, WriteTx};
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone)]
pub enum FileStore {
    /// `<root>/<org id>/<first two hex digits>/<sha256>`. Shared, not owned: the store is
    /// cloned with the application state for every request.
    Folder(Arc<Path>),
    /// The `evidence_files` table.
    Database,
}

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How much of a file is held in memory at once while it is copied into the store.
const COPY_CHUNK: usize = 1024 * 1024;
/// The bytes of a file per `COPY` message to PostgreSQL (twice that once hex-encoded).
const COPY_MESSAGE: usize = 64 * 1024;

/// A file on its way into the store: bytes already in memory (the demo's documents), or a
/// file received in pieces into a temporary file ([`Stager`]).
pub enum Content {
    Bytes { bytes: Vec<u8>, received: Received, sha256: String },
    Staged(Staged),
}

impl Content {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let mut received = Received::default();
        received.push(&bytes);
        let sha256 = sha256_hex(&bytes);
        Content::Bytes { bytes, received, sha256 }
    }

    /// What is known of the file without reading it again: its leading bytes, size and text-ness.
    pub fn received(&self) -> &Received {
        match self {
            Content::Bytes { received, .. } => received,
            Content::Staged(staged) => &staged.received,
        }
    }

    pub fn sha256(&self) -> &str {
        match self {
            Content::Bytes { sha256, .. } => sha256,
            Content::Staged(staged) => &staged.sha256,
        }
    }

    pub fn size(&self) -> u64 {
        self.received().size
    }
}

/// A temporary file that is removed when dropped, unless it was moved into the store.
#[derive(Debug)]
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// The path, which the caller now owns (it is no longer removed on drop).
    fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Receives a file in pieces into a temporary file, hashing it as it arrives, so an upload of
/// any size is held in memory one piece at a time.
pub struct Stager {
    file: std::fs::File,
    temp: TempFile,
    hasher: Sha256,
    received: Received,
}

impl Stager {
    /// Appends a piece. It is written on the calling thread: a piece is what one read from the
    /// connection brought (tens of kilobytes), which the kernel takes into its page cache at
    /// once; handing each to the blocking pool had cost a thread and a copy of every piece.
    pub async fn write(&mut self, chunk: &[u8]) -> StoreResult<()> {
        std::io::Write::write_all(&mut self.file, chunk)?;
        self.hasher.update(chunk);
        self.received.push(chunk);
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.received.size
    }

    /// The file as received, flushed to its temporary file.
    pub async fn finish(self) -> StoreResult<Staged> {
        let file = self.file;
        tokio::task::spawn_blocking(move || file.sync_all())
            .await
            .map_err(|e| StoreError::Corrupt(format!("the file writer stopped: {e}")))??;
        Ok(Staged { temp: self.temp, sha256: hex::encode(self.hasher.finalize()), received: self.received })
    }
}

/// A file received completely into a temporary file, with its hash.
#[derive(Debug)]
pub struct Staged {
    temp: TempFile,
    sha256: String,
    received: Received,
}

impl FileStore {
    /// Starts receiving a file. Its temporary file lies in the store's folder (so it is
    /// renamed into place, never copied), or the system's temporary folder for the database.
    pub async fn stage(&self) -> StoreResult<Stager> {
        let dir = match self {
            FileStore::Folder(root) => root.join(".staging"),
            FileStore::Database => std::env::temp_dir(),
        };
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("aims-upload-{}", uuid::Uuid::now_v7()));
        let file = std::fs::File::create(&path)?;
        Ok(Stager { file, temp: TempFile(Some(path)), hasher: Sha256::new(), received: Received::default() })
    }

    /// The store a deployment uses: `setting` is `AIMS_FILE_STORE` (`database`, or a folder
    /// path); without it, a folder beside a SQLite file, else the database.
    pub fn choose(setting: Option<&str>, database_url: &str) -> Self {
        match setting.map(str::trim).filter(|s| !s.is_empty()) {
            Some("database") => FileStore::Database,
            Some(folder) => FileStore::Folder(PathBuf::from(folder.strip_prefix("folder:").unwrap_or(folder)).into()),
            None => match crate::db::sqlite_path(database_url) {
                Some(path) if !database_url.starts_with("postgres") && !path.contains(":memory:") => {
                    let path = Path::new(path);
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("aims");
                    FileStore::Folder(path.with_file_name(format!("{stem}-files")).into())
                }
                _ => FileStore::Database,
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            FileStore::Folder(root) => format!("folder {}", root.display()),
            FileStore::Database => "database".to_owned(),
        }
    }

    fn path_of(root: &Path, org_id: &str, sha256: &str) -> PathBuf {
        root.join(org_id).join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    /// Stores a file under its SHA-256. In the database the write is part of `tx`, so the file
    /// and its record commit together; in a folder it is written first (an orphan file after a
    /// refused request is harmless: it is addressed by content). A stored copy that no longer
    /// matches its hash is replaced. Memory stays bounded whatever the file's size: a staged
    /// file is renamed into the folder, or copied into the table a piece at a time.
    pub async fn put(&self, tx: &mut WriteTx, org_id: &str, content: Content, now: &str) -> StoreResult<()> {
        let sha256 = content.sha256().to_owned();
        match self {
            FileStore::Folder(root) => {
                let path = Self::path_of(root, org_id, &sha256);
                if hash_of_file(&path).await?.as_deref() == Some(sha256.as_str()) {
                    return Ok(());
                }
                let dir = path.parent().ok_or_else(|| StoreError::Corrupt("file store path has no folder".into()))?;
                tokio::fs::create_dir_all(dir).await?;
                // Write beside (or receive into a temporary file), then rename: a reader never
                // sees half a file. Both the file and its folder are fsynced before the record
                // commits, so a power cut cannot leave a committed record whose file is missing
                // or empty.
                let dir = dir.to_owned();
                let placed = match content {
                    Content::Bytes { bytes, .. } => {
                        let temp = dir.join(format!(".{sha256}.{}", uuid::Uuid::now_v7()));
                        tokio::task::spawn_blocking(move || write_synced(&dir, &temp, &path, &bytes)).await
                    }
                    Content::Staged(staged) => {
                        let temp = staged.temp;
                        tokio::task::spawn_blocking(move || rename_synced(&dir, temp, &path)).await
                    }
                };
                placed.map_err(|e| StoreError::Corrupt(format!("the file writer stopped: {e}")))??;
            }
            FileStore::Database => {
                let size = i64::try_from(content.size()).unwrap_or(i64::MAX);
                match content {
                    Content::Bytes { bytes, .. } => {
                        tx.query(
                            "INSERT INTO evidence_files (org_id, sha256, size_bytes, content, created_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (org_id, sha256) DO UPDATE SET content = excluded.content, size_bytes = excluded.size_bytes",
                        )
                        .bind(org_id)
                        .bind(sha256.as_str())
                        .bind(size)
                        .bind(bytes.as_slice())
                        .bind(now)
                        .execute()
                        .await?;
                    }
                    Content::Staged(staged) => copy_into_table(tx, org_id, &sha256, size, staged, now).await?,
                }
            }
        }
        Ok(())
    }

    /// The stored bytes under `sha256`, or `None` when the store has no such file.
    pub async fn get(&self, db: &Db, org_id: &str, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        match self {
            FileStore::Folder(root) => match tokio::fs::read(Self::path_of(root, org_id, sha256)).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            FileStore::Database => Ok(on_pool!(db, pool => {
                sqlx::query_scalar::<_, Vec<u8>>("SELECT content FROM evidence_files WHERE org_id = $1 AND sha256 = $2")
                    .bind(org_id).bind(sha256).fetch_optional(pool).await?
            })),
        }
    }
}

/// The SHA-256 of a stored file, read a piece at a time; `None` when there is no such file.
async fn hash_of_file(path: &Path) -> StoreResult<Option<String>> {
    let path = path.to_owned();
    let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut hasher = Sha256::new();
        let mut piece = vec![0u8; COPY_CHUNK];
        loop {
            let n = std::io::Read::read(&mut file, &mut piece)?;
            if n == 0 {
                return Ok(Some(hex::encode(hasher.finalize())));
            }
            hasher.update(&piece[..n]);
        }
    });
    Ok(hashed.await.map_err(|e| StoreError::Corrupt(format!("the file reader stopped: {e}")))??)
}

/// Copies a staged file into `evidence_files` a piece at a time. SQLite writes the pieces into
/// a blob of the file's size with its incremental blob I/O; PostgreSQL receives the row by
/// `COPY … FROM STDIN`, the content hex-encoded as it is read.
async fn copy_into_table(tx: &mut WriteTx, org_id: &str, sha256: &str, size: i64, staged: Staged, now: &str) -> StoreResult<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(staged.temp.path())?;
    let mut piece = vec![0u8; COPY_CHUNK];
    match &mut tx.inner {
        crate::db::TxInner::Sqlite(writer) => {
            let connection = writer.connection()?;
            connection.execute(
                "INSERT INTO evidence_files (org_id, sha256, size_bytes, content, created_at) VALUES (?1, ?2, ?3, zeroblob(?3), ?4) \
                 ON CONFLICT (org_id, sha256) DO UPDATE SET content = excluded.content, size_bytes = excluded.size_bytes",
                rusqlite::params![org_id, sha256, size, now],
            )?;
            let rowid: i64 = connection.query_row(
                "SELECT rowid FROM evidence_files WHERE org_id = ?1 AND sha256 = ?2",
                rusqlite::params![org_id, sha256],
                |row| row.get(0),
            )?;
            let mut blob = connection.blob_open(rusqlite::MAIN_DB, "evidence_files", "content", rowid, false)?;
            let mut offset = 0;
            loop {
                let n = file.read(&mut piece)?;
                if n == 0 {
                    break;
                }
                blob.write_at(&piece[..n], offset)?;
                offset += n;
            }
        }
        crate::db::TxInner::Postgres(t) => {
            // COPY cannot update: a stored copy (the same bytes, or damaged ones) goes first.
            sqlx::query("DELETE FROM evidence_files WHERE org_id = $1 AND sha256 = $2").bind(org_id).bind(sha256).execute(&mut **t).await?;
            let mut copy = t.copy_in_raw("COPY evidence_files (org_id, sha256, size_bytes, content, created_at) FROM STDIN").await?;
            // Text format: tab-separated columns; a bytea as `\x` and hex, its backslash doubled.
            // The other values are ids, digits and a timestamp, which need no escaping.
            // Small messages: the connection keeps a buffer the size of the largest it sent.
            piece.truncate(COPY_MESSAGE);
            let mut send = async |copy: &mut sqlx::postgres::PgCopyIn<&mut sqlx::PgConnection>| -> StoreResult<()> {
                copy.send(format!("{org_id}\t{sha256}\t{size}\t\\\\x").into_bytes()).await?;
                loop {
                    let n = file.read(&mut piece)?;
                    if n == 0 {
                        break;
                    }
                    copy.send(hex::encode(&piece[..n]).into_bytes()).await?;
                }
                copy.send(format!("\t{now}\n").into_bytes()).await?;
                Ok(())
            };
            if let Err(e) = send(&mut copy).await {
                // A COPY left open would break the connection's next statement.
                let _ = copy.abort("the upload could not be read").await;
                return Err(e);
            }
            copy.finish().await?;
        }
    }
    Ok(())
}

/// Moves a received file into place under `path` and fsyncs the folder `dir` (the file was
/// fsynced when it was received).
fn rename_synced(dir: &Path, temp: TempFile, path: &Path) -> std::io::Result<()> {
    std::fs::rename(temp.path(), path)?;
    let _ = temp.keep();
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `bytes` to `temp`, fsyncs it, renames it to `path` and fsyncs the folder `dir`.
fn write_synced(dir: &Path, temp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(temp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_store_follows_the_database() {
        assert!(matches!(FileStore::choose(None, "postgres://x/y"), FileStore::Database));
        let FileStore::Folder(path) = FileStore::choose(None, "sqlite:/data/aims.db") else { panic!("folder expected") };
        assert_eq!(&*path, Path::new("/data/aims-files"));
        assert!(matches!(FileStore::choose(Some("database"), "sqlite:/data/aims.db"), FileStore::Database));
        let FileStore::Folder(path) = FileStore::choose(Some("folder:/srv/files"), "postgres://x") else { panic!("folder expected") };
        assert_eq!(&*path, Path::new("/srv/files"));
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
