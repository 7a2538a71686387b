//! Where evidence file contents live: content-addressed by SHA-256 within an organisation, so
//! the same bytes are stored once and any change to them is detectable. Two stores behind one
//! interface: a local folder (the default next to an embedded SQLite database) and the
//! database itself (the default on PostgreSQL, so every instance sharing it reaches every file).

use std::path::{Path, PathBuf};
use std::sync::Arc;

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

impl FileStore {
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

    /// Stores `bytes` under `sha256` (their hash, computed by the caller). In the database the
    /// write is part of `tx`, so the file and its record commit together; in a folder it is
    /// written first (an orphan file after a refused request is harmless: it is addressed by
    /// content). A stored copy that no longer matches its hash is replaced.
    pub async fn put(&self, tx: &mut WriteTx, org_id: &str, sha256: &str, bytes: &[u8], now: &str) -> StoreResult<()> {
        match self {
            FileStore::Folder(root) => {
                let path = Self::path_of(root, org_id, sha256);
                if let Ok(existing) = tokio::fs::read(&path).await {
                    if sha256_hex(&existing) == sha256 {
                        return Ok(());
                    }
                }
                let dir = path.parent().ok_or_else(|| StoreError::Corrupt("file store path has no folder".into()))?;
                tokio::fs::create_dir_all(dir).await?;
                // Write beside, then rename: a reader never sees half a file. Both the file and
                // its folder are fsynced before the record commits, so a power cut cannot leave a
                // committed record whose file is missing or empty.
                let temp = dir.join(format!(".{sha256}.{}", uuid::Uuid::now_v7()));
                let (dir, bytes) = (dir.to_owned(), bytes.to_vec());
                tokio::task::spawn_blocking(move || write_synced(&dir, &temp, &path, &bytes))
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("the file writer stopped: {e}")))??;
            }
            FileStore::Database => {
                let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
                tx.query(
                    "INSERT INTO evidence_files (org_id, sha256, size_bytes, content, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, sha256) DO UPDATE SET content = excluded.content, size_bytes = excluded.size_bytes",
                )
                .bind(org_id)
                .bind(sha256)
                .bind(size)
                .bind(bytes)
                .bind(now)
                .execute()
                .await?;
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
