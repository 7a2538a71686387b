//! The generic record store: every kind of management-system record lives in `records`, keyed
//! by (org_id, id), with its fields as a JSON document; links between records live in
//! `record_links` as real foreign keys on (org_id, id) pairs; frozen editions in
//! `record_revisions`.

use serde_json::{Map, Value};
use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::{OnUnique, StoreError, StoreResult};
use crate::model::{Page, Record};

const COLUMNS: &str = "seq, org_id, id, kind, ref, version, state, archived, data, created_at, created_by, updated_at, updated_by";

type Row = (i64, String, String, String, Option<String>, i64, Option<String>, bool, String, String, Option<String>, String, Option<String>);

fn from_row(row: Row) -> StoreResult<Record> {
    let (seq, org_id, id, kind, reference, version, state, archived, data, created_at, created_by, updated_at, updated_by) = row;
    let data = match serde_json::from_str(&data) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(StoreError::Corrupt(format!("record {id} has no JSON object document")));
        }
    };
    Ok(Record { seq, org_id, id, kind, reference, version, state, archived, data, created_at, created_by, updated_at, updated_by })
}

/// A record to insert.
pub struct NewRecord<'a> {
    pub org_id: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
    pub reference: Option<&'a str>,
    pub state: Option<&'a str>,
    pub data: &'a Map<String, Value>,
    pub actor_id: Option<&'a str>,
    pub now: &'a str,
}

pub async fn insert(tx: &mut WriteTx, new: &NewRecord<'_>) -> StoreResult<Record> {
    let data = Value::Object(new.data.clone()).to_string();
    let sql = format!(
        "INSERT INTO records (org_id, id, kind, ref, version, state, archived, data, created_at, created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, 1, $5, FALSE, $6, $7, $8, $7, $8) RETURNING {COLUMNS}"
    );
    let conflict = format!("a {} with reference {} exists", new.kind, new.reference.unwrap_or("-"));
    let row: Row = on_conn!(tx, conn => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(new.org_id).bind(new.id).bind(new.kind).bind(new.reference).bind(new.state).bind(&data)
            .bind(new.now).bind(new.actor_id)
            .fetch_one(&mut *conn).await.on_unique(&conflict)?
    });
    from_row(row)
}

/// Reads a record of `kind` by id (or, for catalogue rows and own controls, by reference).
pub async fn get(db: &Db, org_id: &str, kind: &str, key: &RecordKey<'_>) -> StoreResult<Option<Record>> {
    let (sql, key_value) = get_sql(key);
    let row: Option<Row> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(kind).bind(key_value).fetch_optional(pool).await?
    });
    row.map(from_row).transpose()
}

/// The same read inside a write transaction (so a change is based on what it replaces).
pub async fn get_for_update(tx: &mut WriteTx, org_id: &str, kind: &str, key: &RecordKey<'_>) -> StoreResult<Option<Record>> {
    let (mut sql, key_value) = get_sql(key);
    if tx.backend() == crate::Backend::Postgres {
        sql.push_str(" FOR UPDATE");
    }
    let row: Option<Row> = on_conn!(tx, conn => {
        sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(kind).bind(key_value).fetch_optional(&mut *conn).await?
    });
    row.map(from_row).transpose()
}

/// How a record is addressed in a URL.
pub enum RecordKey<'a> {
    Id(&'a str),
    Ref(&'a str),
}

fn get_sql<'a>(key: &RecordKey<'a>) -> (String, &'a str) {
    match key {
        RecordKey::Id(id) => (format!("SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND id = $3"), id),
        RecordKey::Ref(reference) => (format!("SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND ref = $3"), reference),
    }
}

/// One page of records of a kind in creation order, after position `after_seq`. Keyset
/// pagination with one extra row fetched: no OFFSET, no COUNT.
pub async fn list(db: &Db, org_id: &str, kind: &str, include_archived: bool, after_seq: i64, limit: u32) -> StoreResult<Page<Record>> {
    let sql = if include_archived {
        format!("SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND seq > $3 ORDER BY seq LIMIT $4")
    } else {
        format!("SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE AND seq > $3 ORDER BY seq LIMIT $4")
    };
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(kind).bind(after_seq).bind(i64::from(limit) + 1).fetch_all(pool).await?
    });
    let records = rows.into_iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(records, limit, |r| r.seq))
}

/// Writes a new document (and state) over a record whose version is `expected_version`, as one
/// compare-and-set: a concurrent change makes this fail with [`StoreError::Stale`].
pub async fn update(
    tx: &mut WriteTx,
    current: &Record,
    expected_version: i64,
    data: &Map<String, Value>,
    state: Option<&str>,
    archived: bool,
    actor_id: Option<&str>,
    now: &str,
) -> StoreResult<Record> {
    let text = Value::Object(data.clone()).to_string();
    let sql = format!(
        "UPDATE records SET data = $1, state = $2, archived = $3, version = version + 1, updated_at = $4, updated_by = $5 \
         WHERE org_id = $6 AND id = $7 AND version = $8 RETURNING {COLUMNS}"
    );
    let row: Option<Row> = on_conn!(tx, conn => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(&text).bind(state).bind(archived).bind(now).bind(actor_id)
            .bind(&current.org_id).bind(&current.id).bind(expected_version)
            .fetch_optional(&mut *conn).await?
    });
    match row {
        Some(row) => from_row(row),
        None => Err(StoreError::Stale { current: current.version }),
    }
}

/// Replaces the links a record holds in one field with `targets`. The foreign keys refuse a
/// target that is not a record of the same organisation.
pub async fn set_links(tx: &mut WriteTx, org_id: &str, from_id: &str, field: &str, targets: &[String]) -> StoreResult<()> {
    on_conn!(tx, conn => {
        sqlx::query("DELETE FROM record_links WHERE org_id = $1 AND from_id = $2 AND field = $3")
            .bind(org_id).bind(from_id).bind(field).execute(&mut *conn).await?;
        for to_id in targets {
            sqlx::query("INSERT INTO record_links (org_id, from_id, field, to_id) VALUES ($1, $2, $3, $4)")
                .bind(org_id).bind(from_id).bind(field).bind(to_id).execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Which of `ids` are records of `kind` in the organisation (for link validation).
pub async fn existing_ids(tx: &mut WriteTx, org_id: &str, kind: &str, ids: &[String]) -> StoreResult<Vec<String>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let hit: Option<String> = on_conn!(tx, conn => {
            sqlx::query_scalar("SELECT id FROM records WHERE org_id = $1 AND kind = $2 AND id = $3")
                .bind(org_id).bind(kind).bind(id).fetch_optional(&mut *conn).await?
        });
        found.extend(hit);
    }
    Ok(found)
}

/// Records linked to or from a record, with the field that links them and the direction.
#[derive(Debug, Clone)]
pub struct LinkedRecord {
    pub field: String,
    pub outgoing: bool,
    pub record: Record,
}

pub async fn linked(db: &Db, org_id: &str, id: &str) -> StoreResult<Vec<LinkedRecord>> {
    let cols: String = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT l.field, 1, {cols} FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.to_id WHERE l.org_id = $1 AND l.from_id = $2 \
         UNION ALL \
         SELECT l.field, 0, {cols} FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.from_id WHERE l.org_id = $1 AND l.to_id = $2"
    );
    type LinkRow = (
        String,
        i64,
        i64,
        String,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
        bool,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let rows: Vec<LinkRow> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(field, outgoing, a, b, c, d, e, f, g, h, i, j, k, l, m)| {
            Ok(LinkedRecord { field, outgoing: outgoing == 1, record: from_row((a, b, c, d, e, f, g, h, i, j, k, l, m))? })
        })
        .collect()
}

/// Freezes the current edition of a record as its next revision; returns the revision number.
pub async fn add_revision(tx: &mut WriteTx, record: &Record, actor_id: Option<&str>, now: &str) -> StoreResult<i64> {
    let data = Value::Object(record.data.clone()).to_string();
    let n: i64 = on_conn!(tx, conn => {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) + 1 FROM record_revisions WHERE org_id = $1 AND record_id = $2")
            .bind(&record.org_id).bind(&record.id).fetch_one(&mut *conn).await?;
        sqlx::query(
            "INSERT INTO record_revisions (org_id, record_id, n, record_version, state, data, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&record.org_id).bind(&record.id).bind(n).bind(record.version).bind(&record.state).bind(&data).bind(now).bind(actor_id)
        .execute(&mut *conn).await?;
        n
    });
    Ok(n)
}

/// Counts records of a kind (for dashboards and benchmarks), archived ones excluded.
pub async fn count(db: &Db, org_id: &str, kind: &str) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE").bind(org_id).bind(kind).fetch_one(pool).await?
    }))
}
