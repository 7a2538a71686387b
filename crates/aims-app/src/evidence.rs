//! Evidence (7.5): files uploaded with what they support, stored content-addressed by SHA-256,
//! downloadable, re-hashed on demand to prove nothing changed underneath.

use aims_domain::kinds::EVIDENCE;
use aims_domain::policy::Action;
use aims_domain::{ValidationErrors, clock, uploads};
use aims_store::files::{Content, sha256_hex};
use aims_store::model::{Member, Record};
use aims_store::records;
use serde_json::{Map, Value, json};

use crate::access::{actor, require};
use crate::records::{check_references, current_version, insert_logged, update_logged};
use crate::rules::Draft;
use crate::{App, AppError, AppResult};

/// A file as received: its name, declared content type and content (in memory, or received
/// into a temporary file with [`aims_store::files::FileStore::stage`]).
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub content: Content,
}

impl Upload {
    pub fn from_bytes(file_name: impl Into<String>, content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        Upload { file_name: file_name.into(), content_type: content_type.into(), content: Content::from_bytes(bytes) }
    }
}

/// A stored file on its way out.
pub struct Download {
    pub file_name: String,
    pub content_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// One stored file whose bytes no longer hash to their address, or that is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityProblem {
    pub evidence_id: String,
    pub revision: i64,
    pub sha256: String,
    pub problem: &'static str,
}

/// What an integrity check found.
#[derive(Debug, Clone, Default)]
pub struct IntegrityReport {
    pub files_checked: usize,
    pub problems: Vec<IntegrityProblem>,
}

impl App {
    /// Whether a member may upload evidence at all: asked before an upload's body is read, so
    /// a refused upload is answered at once, without receiving the file.
    pub fn may_upload(&self, member: &Member) -> AppResult<()> {
        require(member, Action::Edit)
    }

    /// Checks an upload before anything is written: size, accepted type, content agreeing with it.
    fn check_upload(&self, upload: &Upload) -> AppResult<String> {
        if upload.content.size() > self.max_upload_bytes as u64 {
            return Err(AppError::TooLarge(self.max_upload_bytes));
        }
        uploads::check_received(&upload.content_type, upload.content.received()).map_err(|refusal| match refusal {
            uploads::UploadRefusal::Empty => ValidationErrors::single("file", "required", "the file is empty").into(),
            other => AppError::UnsupportedFile(other.to_string()),
        })
    }

    /// The system fields describing a file, for the record's document.
    fn file_fields(upload: &Upload, content_type: String, sha256: &str, member: &Member, file_revision: i64) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("file_name".into(), json!(uploads::safe_file_name(&upload.file_name)));
        fields.insert("content_type".into(), json!(content_type));
        fields.insert("size_bytes".into(), json!(upload.content.size()));
        fields.insert("sha256".into(), json!(sha256));
        fields.insert("file_revision".into(), json!(file_revision));
        fields.insert("uploaded_at".into(), json!(clock::now_text()));
        fields.insert("uploaded_by".into(), json!(member.user_id));
        fields
    }

    /// Creates a piece of evidence from a file and its metadata (the fields of [`EVIDENCE`]).
    /// The file, the record, its links, its first revision and its event commit together.
    pub async fn upload_evidence(&self, member: &Member, metadata: &Value, upload: Upload) -> AppResult<Record> {
        require(member, Action::Edit)?;
        let mut document = EVIDENCE.validate_create(metadata, &[])?;
        let content_type = self.check_upload(&upload)?;
        let sha256 = upload.content.sha256().to_owned();
        document.extend(Self::file_fields(&upload, content_type, &sha256, member, 1));
        let mut tx = self.db.begin_write().await?;
        check_references(&mut tx, &member.org_id, Some(&member.user_id), &EVIDENCE, &document).await?;
        self.files.put(&mut tx, &member.org_id, upload.content, &clock::now_text()).await?;
        let draft = Draft { reference: None, state: None, document };
        let record = insert_logged(&mut tx, &member.org_id, &actor(member), &EVIDENCE, &draft).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Replaces the file of a piece of evidence (at version `if_match`): a new revision, the
    /// earlier files stay downloadable by revision.
    pub async fn replace_evidence_file(&self, member: &Member, segment: &str, if_match: i64, upload: Upload) -> AppResult<Record> {
        require(member, Action::Edit)?;
        let content_type = self.check_upload(&upload)?;
        let sha256 = upload.content.sha256().to_owned();
        let mut tx = self.db.begin_write().await?;
        let current = current_version(&mut tx, member, &EVIDENCE, segment, if_match).await?;
        if current.archived {
            return Err(AppError::Conflict("archived evidence cannot take a new file".into()));
        }
        let file_revision = current.data.get("file_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
        let mut document = current.data.clone();
        document.extend(Self::file_fields(&upload, content_type, &sha256, member, file_revision));
        self.files.put(&mut tx, &member.org_id, upload.content, &clock::now_text()).await?;
        let draft = Draft { reference: None, state: current.state.clone(), document };
        let updated = update_logged(&mut tx, &member.org_id, &actor(member), &EVIDENCE, &current, &draft, false, "upload").await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The file of a piece of evidence: the current one, or the one a revision held.
    pub async fn evidence_content(&self, member: &Member, segment: &str, revision: Option<i64>) -> AppResult<Download> {
        let record = self.get_record(member, &EVIDENCE, segment).await?;
        let data = match revision {
            Some(n) => self.revision(member, &EVIDENCE, &record.id, n).await?.data,
            None => record.data,
        };
        let text = |f: &str| data.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
        let sha256 = text("sha256");
        let bytes = self
            .files
            .get(&self.db, &member.org_id, &sha256)
            .await?
            .ok_or_else(|| AppError::Internal(format!("the file {sha256} of evidence {} is missing from the store", record.id)))?;
        Ok(Download { file_name: text("file_name"), content_type: text("content_type"), sha256, bytes })
    }

    /// Re-hashes every file the organisation's evidence has held (every revision) and reports
    /// each one that is missing or whose bytes no longer match their hash.
    pub async fn verify_evidence(&self, org_slug: &str) -> AppResult<IntegrityReport> {
        let org = self.org_by_slug(org_slug).await?;
        let mut report = IntegrityReport::default();
        let mut after = 0;
        loop {
            let page = records::list(&self.db, &org.id, EVIDENCE.kind, true, after, 200).await?;
            for record in &page.items {
                let mut seen = std::collections::HashSet::new();
                for revision in records::revisions(&self.db, &org.id, &record.id).await? {
                    let Some(sha256) = revision.data.get("sha256").and_then(Value::as_str).map(str::to_owned) else { continue };
                    if !seen.insert(sha256.clone()) {
                        continue;
                    }
                    report.files_checked += 1;
                    let problem = match self.files.get(&self.db, &org.id, &sha256).await? {
                        None => Some("missing"),
                        Some(bytes) if sha256_hex(&bytes) != sha256 => Some("hash mismatch"),
                        Some(_) => None,
                    };
                    if let Some(problem) = problem {
                        report.problems.push(IntegrityProblem { evidence_id: record.id.clone(), revision: revision.n, sha256, problem });
                    }
                }
            }
            match page.next_after {
                Some(seq) => after = seq,
                None => return Ok(report),
            }
        }
    }
}
