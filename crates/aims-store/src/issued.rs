//! Issued documents: what each generated report was made from, and drift — records changed
//! since (their version moved on, or they were archived, which also moves the version).

use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

pub struct NewIssuedDocument<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub kind: &'a str,
    pub format: &'a str,
    pub subject_id: Option<&'a str>,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub source_sha256: &'a str,
    pub issued_by: Option<&'a str>,
    pub issued_at: &'a str,
}

/// One record a document was made from: `(record_kind, record_id, version)`.
pub type MadeFrom = (String, String, i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedDocument {
    pub id: String,
    pub kind: String,
    pub format: String,
    pub subject_id: Option<String>,
    pub file_name: String,
    pub sha256: String,
    pub source_sha256: String,
    pub record_count: i64,
    pub issued_by: Option<String>,
    pub issued_by_name: Option<String>,
    pub issued_at: String,
}

/// A record that changed after a document was issued from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drifted {
    pub document_id: String,
    pub record_kind: String,
    pub record_id: String,
    pub reference: Option<String>,
    pub issued_version: i64,
    pub current_version: i64,
    pub data: String,
}

/// Records the document and every record version it shows, inside `tx`.
pub async fn insert(tx: &mut WriteTx, doc: &NewIssuedDocument<'_>, made_from: &[MadeFrom]) -> StoreResult<()> {
    tx.query(
        "INSERT INTO issued_documents (id, org_id, kind, format, subject_id, file_name, sha256, source_sha256, record_count, issued_by, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(doc.id)
    .bind(doc.org_id)
    .bind(doc.kind)
    .bind(doc.format)
    .bind(doc.subject_id)
    .bind(doc.file_name)
    .bind(doc.sha256)
    .bind(doc.source_sha256)
    .bind(made_from.len() as i64)
    .bind(doc.issued_by)
    .bind(doc.issued_at)
    .execute()
    .await?;
    for (kind, record_id, version) in made_from {
        tx.query("INSERT INTO issued_document_records (org_id, document_id, record_id, record_kind, version) VALUES ($1, $2, $3, $4, $5)")
            .bind(doc.org_id)
            .bind(doc.id)
            .bind(record_id)
            .bind(kind)
            .bind(*version)
            .execute()
            .await?;
    }
    Ok(())
}

const SELECT: &str = "SELECT d.id, d.kind, d.format, d.subject_id, d.file_name, d.sha256, d.source_sha256, d.record_count, \
     d.issued_by, u.display_name, d.issued_at FROM issued_documents d LEFT JOIN users u ON u.id = d.issued_by";

type Row = (String, String, String, Option<String>, String, String, String, i64, Option<String>, Option<String>, String);

fn from_row(row: Row) -> IssuedDocument {
    let (id, kind, format, subject_id, file_name, sha256, source_sha256, record_count, issued_by, issued_by_name, issued_at) = row;
    IssuedDocument { id, kind, format, subject_id, file_name, sha256, source_sha256, record_count, issued_by, issued_by_name, issued_at }
}

/// A page of an organisation's issued documents, newest first, before `(issued_at, id)`;
/// reads one more than `limit` so the caller knows whether another page follows.
pub async fn page(db: &Db, org_id: &str, before: Option<(&str, &str)>, limit: i64) -> StoreResult<Vec<IssuedDocument>> {
    let (at, id) = before.unzip();
    let sql = format!(
        "{SELECT} WHERE d.org_id = $1 AND ($2 IS NULL OR d.issued_at < $2 OR (d.issued_at = $2 AND d.id < $3)) \
         ORDER BY d.issued_at DESC, d.id DESC LIMIT $4"
    );
    let rows: Vec<Row> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(at).bind(id).bind(limit + 1).fetch_all(pool).await?);
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn get(db: &Db, org_id: &str, id: &str) -> StoreResult<Option<IssuedDocument>> {
    let sql = format!("{SELECT} WHERE d.org_id = $1 AND d.id = $2");
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(pool).await?);
    Ok(row.map(from_row))
}

/// The records of the given documents whose version moved on since the document was issued.
pub async fn drifted(db: &Db, org_id: &str, document_ids: &[String]) -> StoreResult<Vec<Drifted>> {
    let mut out = Vec::new();
    for document_id in document_ids {
        let rows: Vec<(String, String, String, Option<String>, i64, i64, String)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT i.document_id, i.record_kind, i.record_id, r.ref, i.version, r.version, r.data \
             FROM issued_document_records i JOIN records r ON r.org_id = i.org_id AND r.id = i.record_id \
             WHERE i.org_id = $1 AND i.document_id = $2 AND r.version <> i.version ORDER BY r.seq")
            .bind(org_id).bind(document_id).fetch_all(pool).await?);
        out.extend(rows.into_iter().map(|(document_id, record_kind, record_id, reference, issued_version, current_version, data)| {
            Drifted { document_id, record_kind, record_id, reference, issued_version, current_version, data }
        }));
    }
    Ok(out)
}
