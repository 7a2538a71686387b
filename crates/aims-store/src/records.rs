//! The generic record store: every kind of management-system record lives in `records`, keyed
//! by (org_id, id), with its fields as a JSON document; links between records live in
//! `record_links` as real foreign keys on (org_id, id) pairs; frozen editions in
//! `record_revisions`.

use serde_json::{Map, Value};
use sqlx::AssertSqlSafe;

use crate::db::{Backend, Db, WriteTx};
use crate::error::{StoreError, StoreResult};
use crate::model::{Page, Record, Revision};
pub use aims_domain::chain::Head;

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
    Ok(insert_with_links(tx, new, &[]).await?.record)
}

/// What [`insert_with_links`] wrote.
pub struct Inserted {
    pub record: Record,
    /// The head of the organisation's activity chain, locked (PostgreSQL).
    pub head: Option<Head>,
    /// The field of each link written, as [`replace_links`] returns them.
    pub links: Vec<String>,
}

/// Inserts a record with its links. On PostgreSQL one statement also locks the organisation's
/// row and returns the head of its activity chain, for the record's event
/// ([`crate::activity::append_to_locked`]), and writes the links: a create's round trips are
/// few, and this saves one or two. No head on SQLite, whose write lock the transaction holds.
pub async fn insert_with_links(tx: &mut WriteTx, new: &NewRecord<'_>, links: &[(&str, LinkTargets<'_>)]) -> StoreResult<Inserted> {
    tx.inserted += 1;
    let data = Value::Object(new.data.clone()).to_string();
    let mut record = Record {
        seq: 0,
        org_id: new.org_id.to_owned(),
        id: new.id.to_owned(),
        kind: new.kind.to_owned(),
        reference: new.reference.map(str::to_owned),
        version: 1,
        state: new.state.map(str::to_owned),
        archived: false,
        data: new.data.clone(),
        created_at: new.now.to_owned(),
        created_by: new.actor_id.map(str::to_owned),
        updated_at: new.now.to_owned(),
        updated_by: new.actor_id.map(str::to_owned),
    };
    let doc = record.to_json().to_string();
    const INSERT: &str = "INSERT INTO records (org_id, id, kind, ref, version, state, archived, data, created_at, created_by, updated_at, updated_by, doc) \
                          VALUES ($1, $2, $3, $4, 1, $5, FALSE, $6, $7, $8, $7, $8, $9) RETURNING seq";
    let conflict = format!("a {} with reference {} exists", new.kind, new.reference.unwrap_or("-"));
    let backend = tx.backend();
    // The links' values follow the record's nine parameters; `$1`–`$3` (organisation, id,
    // kind) are the same in both.
    let (links_sql, link_values) = match backend {
        Backend::Postgres => insert_links_sql(links, 10),
        Backend::Sqlite => (None, Vec::new()),
    };
    let sql = match (backend, links_sql) {
        // NO KEY UPDATE, as `activity::append` takes it: the foreign-key checks of other
        // writers hold KEY SHARE locks on the row, which FOR UPDATE would wait for. The links'
        // foreign keys on the new record are checked at the end of the statement, when it is there.
        (Backend::Postgres, links) => format!(
            "WITH head AS (SELECT log_seq, log_head FROM organizations WHERE id = $1 FOR NO KEY UPDATE), added AS ({INSERT}){} \
             SELECT added.seq, head.log_seq, head.log_head, {} FROM added, head",
            links.as_ref().map_or(String::new(), |links| format!(", linked AS ({links})")),
            if links.is_some() { "(SELECT string_agg(linked.field, ',') FROM linked)" } else { "CAST(NULL AS TEXT)" }
        ),
        (Backend::Sqlite, _) => format!("{INSERT}, NULL, NULL, NULL"),
    };
    let mut query = tx
        .query(&sql)
        .bind(new.org_id)
        .bind(new.id)
        .bind(new.kind)
        .bind(new.reference)
        .bind(new.state)
        .bind(&data)
        .bind(new.now)
        .bind(new.actor_id)
        .bind(&doc);
    for value in link_values {
        query = query.bind(value);
    }
    let (seq, head_seq, head_hash, linked): (i64, Option<i64>, Option<String>, Option<String>) =
        query.fetch_one().await.map_err(|e| e.on_unique(&conflict))?;
    record.seq = seq;
    let head = match (head_seq, head_hash) {
        (Some(seq), Some(hash)) => Some(Head { seq, hash }),
        _ => None,
    };
    let links = match backend {
        Backend::Postgres => linked.map(|fields| fields.split(',').map(str::to_owned).collect()).unwrap_or_default(),
        Backend::Sqlite => replace_links(tx, LinkSource { org_id: new.org_id, id: new.id, kind: new.kind }, links, true).await?,
    };
    Ok(Inserted { record, head, links })
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
        sql.push_str(" FOR NO KEY UPDATE");
    }
    let row: Option<Row> = tx.query(&sql).bind(org_id).bind(kind).bind(key_value).fetch_optional().await?;
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

/// One page of records of a kind matching every filter (links, fields, state, text search), as
/// records: the page query of [`page_json::list`](crate::page_json::list).
pub async fn list_where(db: &Db, org_id: &str, page: &crate::page_json::PageRequest<'_>) -> StoreResult<Page<Record>> {
    let columns = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let sql = crate::page_json::page_sql_selecting(db.backend(), page.include_archived, page.filters, &columns);
    fetch_page(db, org_id, page, sql).await
}

/// Runs a page query of `page_json` (`$1` organisation, `$2` kind, `$3` position, `$4` one more
/// than the page's size, `$5…` the filters) and reads its rows as a page of records.
async fn fetch_page(db: &Db, org_id: &str, page: &crate::page_json::PageRequest<'_>, sql: String) -> StoreResult<Page<Record>> {
    let rows: Vec<Row> = on_pool!(db, pool => {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(org_id)
            .bind(page.kind)
            .bind(page.after_seq)
            .bind(i64::from(page.limit) + 1);
        for filter in page.filters {
            query = query.bind(crate::page_json::filter_value(filter));
        }
        query.fetch_all(pool).await?
    });
    let records = rows.into_iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(records, page.limit, |r| r.seq))
}

/// [`list_where`] in `sort`'s order: `page.after_seq` is the creation sequence of the previous
/// page's last row, and so is the returned page's `next_after`.
pub async fn list_sorted(
    db: &Db,
    org_id: &str,
    page: &crate::page_json::PageRequest<'_>,
    sort: crate::page_json::Sort,
) -> StoreResult<Page<Record>> {
    let columns = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let sql = crate::page_json::sorted_page_sql(db.backend(), page.include_archived, page.filters, sort, &columns);
    fetch_page(db, org_id, page, sql).await
}

/// How many live records of `kind` match every filter, counted by the database.
pub async fn count_where(db: &Db, org_id: &str, kind: &str, filters: &[crate::page_json::Filter]) -> StoreResult<i64> {
    // `$3 = $4` stands for the page query's paging parameters, bound here as equal values so
    // the filters keep their numbers (`$5…`).
    let sql = format!("SELECT COUNT(*) FROM {} AND $3 = $4", crate::page_json::matching_sql(db.backend(), false, filters));
    let count: (i64,) = on_pool!(db, pool => {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.clone())).bind(org_id).bind(kind).bind(0i64).bind(0i64);
        for filter in filters {
            query = query.bind(crate::page_json::filter_value(filter));
        }
        query.fetch_one(pool).await?
    });
    Ok(count.0)
}

/// How many live records of `kind` hold each combination of the whole numbers in `fields` (a
/// risk's inherent and residual likelihood and consequence), counted by the database in one
/// pass, so heat maps cover every record whatever their number: `(values, count)`, a value
/// `None` where a record has none.
pub async fn count_combinations(db: &Db, org_id: &str, kind: &str, fields: &[&'static str]) -> StoreResult<Vec<(Vec<Option<i64>>, i64)>> {
    use sqlx::Row as _;
    let values: Vec<String> = fields
        .iter()
        .map(|field| match db.backend() {
            Backend::Sqlite => format!("CAST(json_extract(data, '$.{field}') AS BIGINT)"),
            Backend::Postgres => format!("CAST(data::json ->> '{field}' AS BIGINT)"),
        })
        .collect();
    let listed = values.join(", ");
    let sql = format!("SELECT {listed}, COUNT(*) FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE GROUP BY {listed}");
    let n = fields.len();
    let counted = on_pool!(db, pool => {
        let rows = sqlx::query(AssertSqlSafe(sql.clone())).bind(org_id).bind(kind).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                let values = (0..n).map(|i| row.try_get::<Option<i64>, _>(i)).collect::<Result<Vec<_>, _>>()?;
                Ok((values, row.try_get::<i64, _>(n)?))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(counted)
}

/// What [`count_grouped`] groups by: the record's state, or a text field of its document.
#[derive(Debug, Clone, Copy)]
pub enum GroupBy {
    State,
    Field(&'static str),
}

/// How many live records of `kind` hold each value of `by` (a blank or absent value as
/// `None`), counted by the database in one pass: a review's risk levels, a kind's states.
pub async fn count_grouped(db: &Db, org_id: &str, kind: &str, by: GroupBy) -> StoreResult<Vec<(Option<String>, i64)>> {
    let value = match (by, db.backend()) {
        (GroupBy::State, _) => "state".to_owned(),
        (GroupBy::Field(field), Backend::Sqlite) => format!("CAST(json_extract(data, '$.{field}') AS TEXT)"),
        (GroupBy::Field(field), Backend::Postgres) => format!("(data::json ->> '{field}')"),
    };
    let sql = format!("SELECT {value}, COUNT(*) FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE GROUP BY {value}");
    let rows: Vec<(Option<String>, i64)> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql.clone())).bind(org_id).bind(kind).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|(v, n)| (v.filter(|v| !v.is_empty()), n)).collect())
}

/// Which way a counted link runs from the records counted for.
#[derive(Debug, Clone, Copy)]
pub enum LinkSide {
    /// The records hold the link (a nonconformity's `corrective_action_ids`).
    Outgoing(&'static str),
    /// The linked records hold it (an action's `risk_ids`).
    Incoming(&'static str),
}

/// For each of the records `ids` (a page of a list), how many live records of `kind` it is
/// linked with through `side` that match every filter: one grouped query over the links of
/// that page, whatever the size of either kind. Records with none are left out.
pub async fn count_linked_where(
    db: &Db,
    org_id: &str,
    ids: &[String],
    side: LinkSide,
    kind: &str,
    filters: &[crate::page_json::Filter],
) -> StoreResult<Vec<(String, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (field, mine, theirs) = match side {
        LinkSide::Outgoing(field) => (field, "from_id", "to_id"),
        LinkSide::Incoming(field) => (field, "to_id", "from_id"),
    };
    // $1 org, $2 field, $3 kind, then the filters' values, then the page's ids.
    let conditions: String =
        filters.iter().enumerate().map(|(i, f)| crate::page_json::filter_sql(db.backend(), f, 4 + i)).collect::<Vec<_>>().join(" ");
    let first_id = 4 + filters.len();
    let listed: Vec<String> = (0..ids.len()).map(|i| format!("${}", first_id + i)).collect();
    let sql = format!(
        "SELECT l.{mine}, COUNT(*) FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.{theirs} \
         WHERE l.org_id = $1 AND l.field = $2 AND r.kind = $3 AND r.archived = FALSE {conditions} AND l.{mine} IN ({}) GROUP BY l.{mine}",
        listed.join(", ")
    );
    let counted: Vec<(String, i64)> = on_pool!(db, pool => {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.clone())).bind(org_id).bind(field).bind(kind);
        for filter in filters {
            query = query.bind(crate::page_json::filter_value(filter));
        }
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(pool).await?
    });
    Ok(counted)
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
    let doc = Record {
        version: expected_version + 1,
        state: state.map(str::to_owned),
        archived,
        data: data.clone(),
        updated_at: now.to_owned(),
        updated_by: actor_id.map(str::to_owned),
        ..current.clone()
    }
    .to_json()
    .to_string();
    let sql = format!(
        "UPDATE records SET data = $1, state = $2, archived = $3, version = version + 1, updated_at = $4, updated_by = $5, doc = $9 \
         WHERE org_id = $6 AND id = $7 AND version = $8 RETURNING {COLUMNS}"
    );
    let row: Option<Row> = tx
        .query(&sql)
        .bind(&text)
        .bind(state)
        .bind(archived)
        .bind(now)
        .bind(actor_id)
        .bind(&current.org_id)
        .bind(&current.id)
        .bind(expected_version)
        .bind(&doc)
        .fetch_optional()
        .await?;
    match row {
        Some(row) => from_row(row),
        None => Err(StoreError::Stale { current: current.version }),
    }
}

/// The record holding links: its organisation, id and kind.
#[derive(Debug, Clone, Copy)]
pub struct LinkSource<'a> {
    pub org_id: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
}

/// What one link field of a record points at.
#[derive(Debug, Clone, Copy)]
pub enum LinkTargets<'a> {
    /// Record ids as given: the foreign keys refuse one that is not a record of the
    /// organisation.
    Ids(&'a [String]),
    /// Ids of records of `kind`; an id that is not one is left out (callers compare the links
    /// written with the ids given).
    Records { kind: &'a str, ids: &'a [String] },
    /// References of catalogue rows of `kind` (`control_refs`), resolved to their ids as the
    /// links are written; unknown references are left out, as with `Records`.
    Refs { kind: &'a str, refs: &'a [String] },
}

/// Replaces the links a record holds in `fields` with the given targets, in one DELETE (none
/// when `fresh`: the record was just inserted) and one INSERT; returns the field of each link
/// written. The foreign keys refuse a target that is not a record of the same organisation.
pub async fn replace_links(
    tx: &mut WriteTx,
    from: LinkSource<'_>,
    fields: &[(&str, LinkTargets<'_>)],
    fresh: bool,
) -> StoreResult<Vec<String>> {
    let LinkSource { org_id, id: from_id, kind: from_kind } = from;
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    if !fresh {
        let sql = format!("DELETE FROM record_links WHERE org_id = $1 AND from_id = $2 AND field IN ({})", placeholders(3, fields.len()));
        let mut query = tx.query(&sql).bind(org_id).bind(from_id);
        for (field, _) in fields {
            query = query.bind(*field);
        }
        query.execute().await?;
    }
    let (sql, values) = insert_links_sql(fields, 4);
    let Some(sql) = sql else { return Ok(Vec::new()) };
    let mut query = tx.query(&sql).bind(org_id).bind(from_id).bind(from_kind);
    for value in values {
        query = query.bind(value);
    }
    let written: Vec<(String,)> = query.fetch_all().await?;
    Ok(written.into_iter().map(|(field,)| field).collect())
}

/// The INSERT of [`replace_links`] and its values from `$base` on (`None` when there is nothing
/// to link; `$1`–`$3` are the organisation, the record and its kind): per field one SELECT —
/// ids from a VALUES list, or the matching rows of a kind by id or by reference — joined with
/// UNION ALL. Its text depends only on the shape, so it is prepared once per shape.
fn insert_links_sql<'a>(fields: &[(&'a str, LinkTargets<'a>)], base: usize) -> (Option<String>, Vec<&'a str>) {
    let mut parts = Vec::new();
    let mut values: Vec<&'a str> = Vec::new();
    for (field, targets) in fields {
        let (matched, items) = match targets {
            LinkTargets::Ids(ids) => (None, *ids),
            LinkTargets::Records { kind, ids } => (Some((*kind, "id")), *ids),
            LinkTargets::Refs { kind, refs } => (Some((*kind, "ref")), *refs),
        };
        if items.is_empty() {
            continue;
        }
        values.push(field);
        let field_param = base + values.len() - 1;
        let first = field_param + 1;
        values.extend(items.iter().map(String::as_str));
        match matched {
            None => {
                let rows: Vec<String> = (first..first + items.len()).map(|i| format!("(${i})")).collect();
                parts.push(format!("SELECT $1, $2, ${field_param}, $3, v.column1 FROM (VALUES {}) v", rows.join(", ")));
            }
            Some((kind, column)) => {
                values.push(kind);
                parts.push(format!(
                    "SELECT $1, $2, ${field_param}, $3, c.id FROM records c WHERE c.org_id = $1 AND c.kind = ${} AND c.{column} IN ({})",
                    first + items.len(),
                    placeholders(first, items.len())
                ));
            }
        }
    }
    if parts.is_empty() {
        return (None, values);
    }
    (
        Some(format!("INSERT INTO record_links (org_id, from_id, field, from_kind, to_id) {} RETURNING field", parts.join(" UNION ALL "))),
        values,
    )
}

/// `$first, $first+1, …` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Which of `ids` are records of `kind` in the organisation (for link validation).
pub async fn existing_ids(tx: &mut WriteTx, org_id: &str, kind: &str, ids: &[String]) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id FROM records WHERE org_id = $1 AND kind = $2 AND id IN ({})", placeholders(3, ids.len()));
    let mut query = tx.query(&sql).bind(org_id).bind(kind);
    for id in ids {
        query = query.bind(id);
    }
    let found: Vec<(String,)> = query.fetch_all().await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// `(ref, id)` of the catalogue rows of `kind` with the given references, in the order given.
pub async fn refs_to_ids(tx: &mut WriteTx, org_id: &str, kind: &str, refs: &[String]) -> StoreResult<Vec<(String, String)>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT ref, id FROM records WHERE org_id = $1 AND kind = $2 AND ref IN ({})", placeholders(3, refs.len()));
    let mut query = tx.query(&sql).bind(org_id).bind(kind);
    for reference in refs {
        query = query.bind(reference);
    }
    let found: Vec<(String, String)> = query.fetch_all().await?;
    Ok(refs.iter().filter_map(|r| found.iter().find(|(f, _)| f == r).cloned()).collect())
}

/// Every link held in `field` across the organisation, as `(to_id, from_id, from_kind)`, for
/// records that are not archived (the SoA snapshot: which risks and evidence point at which control).
pub async fn incoming_links_for_update(tx: &mut WriteTx, org_id: &str, field: &str) -> StoreResult<Vec<(String, String, String)>> {
    tx.query(
        "SELECT l.to_id, l.from_id, r.kind FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.from_id \
         WHERE l.org_id = $1 AND l.field = $2 AND r.archived = FALSE ORDER BY r.seq",
    )
    .bind(org_id)
    .bind(field)
    .fetch_all()
    .await
}

/// Records linked to or from a record, with the field that links them and the direction.
#[derive(Debug, Clone)]
pub struct LinkedRecord {
    pub field: String,
    pub outgoing: bool,
    pub record: Record,
    /// How many records are linked in this group (same direction, field and kind), of which at
    /// most the trace's per-group limit are returned.
    pub group_total: i64,
}

/// Where a trace query takes its organisation, record id and per-group limit from: bound
/// parameters on their own, or expressions over an enclosing query (the token-checked trace
/// of [`crate::page_json::trace_with_token`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceOf<'a> {
    pub org: &'a str,
    pub id: &'a str,
    pub limit: &'a str,
}

impl TraceOf<'static> {
    /// `$1` organisation, `$2` record id, `$3` per-group limit.
    pub(crate) const PARAMS: TraceOf<'static> = TraceOf { org: "$1", id: "$2", limit: "$3" };
}

/// Outgoing links are few (a record's own fields): numbered with a window. Incoming ones can
/// be thousands: each group (field, holder's kind) is counted on the index alone, and only its
/// first `limit` links are read — on PostgreSQL by a LATERAL index scan per group; SQLite has no
/// LATERAL, so there each group's cut-off id is found by one index seek and only the links
/// before it are joined. CROSS JOIN keeps SQLite reading records last, by key. Columns:
/// `t.field, t.outgoing`, then `full` (columns of each linked record `f`), then `t.total`;
/// rows come in trace order: outgoing first, then by kind, field and creation.
pub(crate) fn linked_sql(backend: Backend, full: &str, of: TraceOf<'_>) -> String {
    let TraceOf { org, id, limit } = of;
    let incoming = match backend {
        Backend::Postgres => format!(
            "SELECT g.field, CAST(0 AS BIGINT) AS outgoing, l.from_id AS id, CAST(1 AS BIGINT) AS n, g.total FROM ( \
               SELECT lg.field, lg.from_kind, COUNT(*) AS total FROM record_links lg WHERE lg.org_id = {org} AND lg.to_id = {id} \
               GROUP BY lg.field, lg.from_kind \
             ) g CROSS JOIN LATERAL ( \
               SELECT l2.from_id FROM record_links l2 WHERE l2.org_id = {org} AND l2.to_id = {id} AND l2.field = g.field \
               AND l2.from_kind = g.from_kind ORDER BY l2.from_id LIMIT {limit} \
             ) l"
        ),
        Backend::Sqlite => format!(
            "SELECT l.field, CAST(0 AS BIGINT) AS outgoing, l.from_id AS id, CAST(1 AS BIGINT) AS n, g.total FROM ( \
               SELECT lg.field, lg.from_kind, COUNT(*) AS total, \
                      (SELECT l2.from_id FROM record_links l2 WHERE l2.org_id = {org} AND l2.to_id = {id} AND l2.field = lg.field \
                       AND l2.from_kind = lg.from_kind ORDER BY l2.from_id LIMIT 1 OFFSET {limit}) AS cutoff \
               FROM record_links lg WHERE lg.org_id = {org} AND lg.to_id = {id} GROUP BY lg.field, lg.from_kind \
             ) g JOIN record_links l ON l.org_id = {org} AND l.to_id = {id} AND l.field = g.field AND l.from_kind = g.from_kind \
             WHERE g.cutoff IS NULL OR l.from_id < g.cutoff"
        ),
    };
    format!(
        "SELECT t.field, t.outgoing, {full}, t.total FROM ( \
           SELECT l.field, CAST(1 AS BIGINT) AS outgoing, l.to_id AS id, \
                  ROW_NUMBER() OVER (PARTITION BY l.field, r.kind ORDER BY l.to_id) AS n, COUNT(*) OVER (PARTITION BY l.field, r.kind) AS total \
           FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.to_id WHERE l.org_id = {org} AND l.from_id = {id} \
           UNION ALL {incoming} \
         ) t CROSS JOIN records f WHERE f.org_id = {org} AND f.id = t.id AND t.n <= {limit} ORDER BY t.outgoing DESC, f.kind, t.field, f.seq"
    )
}

/// The records linked to and from a record: per group (direction, field, kind) the first
/// `per_group` in creation order (ids are time-ordered UUIDs), each with the group's total.
/// Incoming groups are counted and cut on the links alone (each link carries its holder's
/// kind, in one index), and only the records returned are read, so a trace costs about the
/// same whatever the fan-out of the busiest group.
pub async fn linked(db: &Db, org_id: &str, id: &str, per_group: i64) -> StoreResult<Vec<LinkedRecord>> {
    let full: String = COLUMNS.split(", ").map(|c| format!("f.{c}")).collect::<Vec<_>>().join(", ");
    let sql = linked_sql(db.backend(), &full, TraceOf::PARAMS);
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
        i64,
    );
    let rows: Vec<LinkRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(id).bind(per_group).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(field, outgoing, a, b, c, d, e, f, g, h, i, j, k, l, m, total)| {
            Ok(LinkedRecord {
                field,
                outgoing: outgoing == 1,
                record: from_row((a, b, c, d, e, f, g, h, i, j, k, l, m))?,
                group_total: total,
            })
        })
        .collect()
}

/// Freezes the current edition of a record as its next revision; returns the revision number.
pub async fn add_revision(tx: &mut WriteTx, record: &Record, actor_id: Option<&str>, now: &str) -> StoreResult<i64> {
    let data = Value::Object(record.data.clone()).to_string();
    let (n,): (i64,) = tx
        .query(
            "INSERT INTO record_revisions (org_id, record_id, n, record_version, state, data, created_at, created_by) \
             SELECT $1, $2, COALESCE(MAX(n), 0) + 1, $3, $4, $5, $6, $7 FROM record_revisions WHERE org_id = $1 AND record_id = $2 RETURNING n",
        )
        .bind(&record.org_id).bind(&record.id).bind(record.version).bind(&record.state).bind(&data).bind(now).bind(actor_id)
        .fetch_one().await?;
    Ok(n)
}

/// Fills `doc` for rows written before it existed (migration 0002). Returns how many.
pub async fn backfill_documents(db: &Db) -> StoreResult<u64> {
    let mut filled = 0;
    loop {
        let sql = format!("SELECT {COLUMNS} FROM records WHERE doc IS NULL ORDER BY seq LIMIT 500");
        let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?);
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin_write().await?;
        for row in rows {
            let record = from_row(row)?;
            let doc = record.to_json().to_string();
            tx.query("UPDATE records SET doc = $1 WHERE seq = $2").bind(&doc).bind(record.seq).execute().await?;
            filled += 1;
        }
        tx.commit().await?;
    }
}

/// The revisions of a record, oldest first.
pub async fn revisions(db: &Db, org_id: &str, record_id: &str) -> StoreResult<Vec<Revision>> {
    let rows: Vec<RevisionRow> = on_pool!(db, pool => {
        sqlx::query_as("SELECT n, record_version, state, data, created_at, created_by FROM record_revisions WHERE org_id = $1 AND record_id = $2 ORDER BY n")
            .bind(org_id).bind(record_id).fetch_all(pool).await?
    });
    rows.into_iter().map(revision_from_row).collect()
}

pub async fn revision(db: &Db, org_id: &str, record_id: &str, n: i64) -> StoreResult<Option<Revision>> {
    let row: Option<RevisionRow> = on_pool!(db, pool => {
        sqlx::query_as("SELECT n, record_version, state, data, created_at, created_by FROM record_revisions WHERE org_id = $1 AND record_id = $2 AND n = $3")
            .bind(org_id).bind(record_id).bind(n).fetch_optional(pool).await?
    });
    row.map(revision_from_row).transpose()
}

type RevisionRow = (i64, i64, Option<String>, String, String, Option<String>);

fn revision_from_row((n, record_version, state, data, created_at, created_by): RevisionRow) -> StoreResult<Revision> {
    let data = match serde_json::from_str(&data) {
        Ok(Value::Object(map)) => map,
        _ => return Err(StoreError::Corrupt(format!("revision {n} has no JSON object document"))),
    };
    Ok(Revision { n, record_version, state, data, created_at, created_by })
}

/// Records of `kind` whose link `field` points at `target_id`, in creation order.
pub async fn list_linked(
    db: &Db,
    org_id: &str,
    kind: &str,
    field: &str,
    target_id: &str,
    after_seq: i64,
    limit: u32,
) -> StoreResult<Page<Record>> {
    let cols: String = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.from_id \
         WHERE l.org_id = $1 AND l.to_id = $2 AND l.field = $3 AND r.kind = $4 AND r.archived = FALSE AND r.seq > $5 ORDER BY r.seq LIMIT $6"
    );
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(target_id).bind(field).bind(kind).bind(after_seq).bind(i64::from(limit) + 1).fetch_all(pool).await?
    });
    let records = rows.into_iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(records, limit, |r| r.seq))
}

/// The same inside a write transaction, every match (for side effects on linked records).
pub async fn linked_for_update(tx: &mut WriteTx, org_id: &str, kind: &str, field: &str, target_id: &str) -> StoreResult<Vec<Record>> {
    let cols: String = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM record_links l JOIN records r ON r.org_id = l.org_id AND r.id = l.from_id \
         WHERE l.org_id = $1 AND l.to_id = $2 AND l.field = $3 AND r.kind = $4 AND r.archived = FALSE ORDER BY r.seq"
    );
    let rows: Vec<Row> = tx.query(&sql).bind(org_id).bind(target_id).bind(field).bind(kind).fetch_all().await?;
    rows.into_iter().map(from_row).collect()
}

/// The live record of a kind whose `name` field equals `name` case-insensitively (the
/// database's `lower`), inside a write transaction; the oldest if several do. One look-up in
/// the `records_by_name` index, whatever the size of the organisation.
pub async fn by_name_for_update(tx: &mut WriteTx, org_id: &str, kind: &str, name: &str) -> StoreResult<Option<Record>> {
    let sql = by_name_sql(tx.backend());
    let row: Option<Row> = tx.query(&sql).bind(org_id).bind(kind).bind(name).fetch_optional().await?;
    row.map(from_row).transpose()
}

/// The statement of [`by_name_for_update`] (`$1` org, `$2` kind, `$3` name), public so that a
/// test can ask the planner how it runs. On PostgreSQL it must hold without statistics: the key
/// is one array expression that only `records_by_name` indexes (migration 10), and the order is
/// `seq + 0`, which no index yields, so neither `records_by_kind` nor the primary key can offer
/// the rows ready-sorted and win on a guessed selectivity; the few matches are sorted instead.
pub fn by_name_sql(backend: crate::Backend) -> String {
    match backend {
        crate::Backend::Sqlite => format!(
            "SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND lower(json_extract(data, '$.name')) = lower($3) \
             AND archived = FALSE ORDER BY seq LIMIT 1"
        ),
        crate::Backend::Postgres => format!(
            "SELECT {COLUMNS} FROM records WHERE ARRAY[org_id, kind, lower(data::jsonb ->> 'name')] = ARRAY[$1, $2, lower($3)] \
             AND archived = FALSE ORDER BY seq + 0 LIMIT 1 FOR NO KEY UPDATE"
        ),
    }
}

/// Every record of a kind in the organisation, inside a write transaction (small kinds only:
/// gate requirements, singletons).
pub async fn all_for_update(tx: &mut WriteTx, org_id: &str, kind: &str) -> StoreResult<Vec<Record>> {
    let sql = format!("SELECT {COLUMNS} FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE ORDER BY seq");
    let rows: Vec<Row> = tx.query(&sql).bind(org_id).bind(kind).fetch_all().await?;
    rows.into_iter().map(from_row).collect()
}

/// Counts records of a kind (for dashboards and benchmarks), archived ones excluded.
pub async fn count(db: &Db, org_id: &str, kind: &str) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE org_id = $1 AND kind = $2 AND archived = FALSE").bind(org_id).bind(kind).fetch_one(pool).await?
    }))
}

#[cfg(test)]
mod tests {
    use super::{LinkTargets, insert_links_sql};

    #[test]
    fn link_values_are_numbered_from_the_base() {
        let (risks, controls) = (vec!["r1".to_owned(), "r2".to_owned()], vec!["A.2.2".to_owned()]);
        let fields = [
            ("risk_ids", LinkTargets::Records { kind: "risk", ids: &risks }),
            ("control_refs", LinkTargets::Refs { kind: "control", refs: &controls }),
        ];
        let (sql, values) = insert_links_sql(&fields, 10);
        let sql = sql.expect("links to write");
        assert_eq!(values, ["risk_ids", "r1", "r2", "risk", "control_refs", "A.2.2", "control"]);
        assert!(
            sql.contains("SELECT $1, $2, $10, $3, c.id FROM records c WHERE c.org_id = $1 AND c.kind = $13 AND c.id IN ($11, $12)"),
            "{sql}"
        );
        assert!(
            sql.contains("SELECT $1, $2, $14, $3, c.id FROM records c WHERE c.org_id = $1 AND c.kind = $16 AND c.ref IN ($15)"),
            "{sql}"
        );
        let (from_four, _) = insert_links_sql(&fields, 4);
        assert!(from_four.expect("links").contains("c.kind = $7 AND c.id IN ($5, $6)"));
        let empty: [(&str, LinkTargets<'_>); 1] = [("risk_ids", LinkTargets::Records { kind: "risk", ids: &[] })];
        assert!(insert_links_sql(&empty, 10).0.is_none());
    }
}
