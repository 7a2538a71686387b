//! Pages of records as JSON text, assembled by the database from each record's stored `doc`.
//! A list request is the hottest path of the API; one aggregated row avoids decoding and
//! re-encoding every record.

use rusqlite::OptionalExtension;
use sqlx::AssertSqlSafe;

use crate::model::Member;
use crate::orgs::parse_role;
use crate::readers::numbered;
use crate::tokens::TokenAuth;

use crate::db::{Backend, Db};
use crate::error::StoreResult;

/// A page as JSON text: the caller's prefix followed by the items (`{…},{…}`), and where the
/// next page starts. The prefix lets the web layer wrap the page without copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPage {
    pub items: String,
    pub next_after: Option<i64>,
}

/// A condition on a list. Field names come from the kinds' specs (never from requests), so
/// they are safe to place in SQL; values are always bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Records whose link field points at this record id.
    Link { field: &'static str, id: String },
    /// Records whose document field holds this text value.
    Field { field: &'static str, value: String },
    /// Records in this state.
    State(String),
}

fn filter_sql(backend: Backend, filter: &Filter, param: usize) -> String {
    match filter {
        Filter::Link { field, .. } => format!(
            "AND EXISTS (SELECT 1 FROM record_links l WHERE l.org_id = r.org_id AND l.from_id = r.id AND l.field = '{field}' AND l.to_id = ${param})"
        ),
        Filter::Field { field, .. } => match backend {
            Backend::Sqlite => format!("AND json_extract(r.data, '$.{field}') = ${param}"),
            Backend::Postgres => format!("AND (r.data::jsonb ->> '{field}') = ${param}"),
        },
        Filter::State(_) => format!("AND r.state = ${param}"),
    }
}

fn filter_value(filter: &Filter) -> &str {
    match filter {
        Filter::Link { id, .. } => id,
        Filter::Field { value, .. } => value,
        Filter::State(state) => state,
    }
}

/// The page query: up to `limit + 1` rows after the cursor, with their stored documents.
/// Parameters: $1 organisation, $2 kind, $3 after, $4 how many to fetch, $5… filters.
/// With a link filter the query starts from the links pointing at that record (indexed by
/// target), so a filter matching few of many records never scans the whole kind.
fn page_sql(backend: Backend, include_archived: bool, filters: &[Filter]) -> String {
    let archived = if include_archived { "" } else { "AND r.archived = FALSE" };
    let driving = filters.iter().position(|f| matches!(f, Filter::Link { .. }));
    let conditions: String = filters
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != driving)
        .map(|(i, f)| filter_sql(backend, f, 5 + i))
        .collect::<Vec<_>>()
        .join(" ");
    let from = match driving.map(|i| (i, &filters[i])) {
        Some((i, Filter::Link { field, .. })) => format!(
            // CROSS JOIN makes SQLite keep the links as the outer loop (PostgreSQL plans it
            // from statistics either way).
            "record_links l CROSS JOIN records r WHERE r.org_id = l.org_id AND r.id = l.from_id AND l.org_id = $1 AND l.to_id = ${} AND l.field = '{field}' AND r.org_id = $1",
            5 + i
        ),
        _ => "records r WHERE r.org_id = $1".to_owned(),
    };
    format!("SELECT r.seq, r.doc FROM {from} AND r.kind = $2 {archived} {conditions} AND r.seq > $3 ORDER BY r.seq LIMIT $4")
}

/// Joins fetched `(seq, doc)` rows into a page: the extra row only says more exist.
fn assemble(rows: Vec<(i64, Option<String>)>, limit: u32, prefix: &str) -> JsonPage {
    let more = rows.len() > limit as usize;
    let mut items = String::with_capacity(prefix.len() + rows.iter().map(|(_, d)| d.as_ref().map_or(0, String::len) + 1).sum::<usize>());
    items.push_str(prefix);
    let mut last = None;
    for (i, (seq, doc)) in rows.into_iter().take(limit as usize).enumerate() {
        if i > 0 {
            items.push(',');
        }
        items.push_str(doc.as_deref().unwrap_or("{}"));
        last = Some(seq);
    }
    JsonPage { items, next_after: if more { last } else { None } }
}

/// One page of records of a kind in an organisation, matching every filter, from the stored
/// documents.
pub async fn list(
    db: &Db,
    org_id: &str,
    kind: &str,
    include_archived: bool,
    filters: &[Filter],
    after_seq: i64,
    limit: u32,
    prefix: &'static str,
) -> StoreResult<JsonPage> {
    let sql = page_sql(db.backend(), include_archived, filters);
    let params = page_params(org_id, kind, filters, after_seq, limit);
    match db {
        Db::Sqlite(_, readers, _) => {
            let sql = numbered(&sql);
            readers.run(move |conn| sqlite_page(conn, &sql, &params, limit, prefix)).await
        }
        Db::Postgres(pool) => {
            let mut query =
                sqlx::query_as(AssertSqlSafe(sql)).bind(org_id.to_owned()).bind(kind.to_owned()).bind(after_seq).bind(i64::from(limit) + 1);
            for filter in filters {
                query = query.bind(filter_value(filter).to_owned());
            }
            let rows: Vec<(i64, Option<String>)> = query.fetch_all(pool).await?;
            Ok(assemble(rows, limit, prefix))
        }
    }
}

/// The bound values of the page query, in parameter order.
fn page_params(org_id: &str, kind: &str, filters: &[Filter], after_seq: i64, limit: u32) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    let mut params = vec![V::Text(org_id.to_owned()), V::Text(kind.to_owned()), V::Integer(after_seq), V::Integer(i64::from(limit) + 1)];
    params.extend(filters.iter().map(|f| V::Text(filter_value(f).to_owned())));
    params
}

fn sqlite_page(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    limit: u32,
    prefix: &str,
) -> rusqlite::Result<JsonPage> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    // Documents are copied straight from SQLite's buffer into the page: no per-row String.
    let mut items = String::with_capacity(64 * 1024);
    items.push_str(prefix);
    let (mut count, mut last) = (0u32, None);
    while let Some(row) = rows.next()? {
        if count == limit {
            return Ok(JsonPage { items, next_after: last });
        }
        if count > 0 {
            items.push(',');
        }
        items.push_str(row.get_ref(1)?.as_str_or_null()?.unwrap_or("{}"));
        last = Some(row.get::<_, i64>(0)?);
        count += 1;
    }
    Ok(JsonPage { items, next_after: None })
}

/// Checks an API token and lists a page in one blocking call on SQLite (two statements on
/// PostgreSQL). `None` when the token is not valid; an empty page when the token belongs to
/// another organisation than `slug` (the caller compares and answers 404).
pub async fn list_with_token(
    db: &Db,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    include_archived: bool,
    filters: &[Filter],
    after_seq: i64,
    limit: u32,
    prefix: &'static str,
) -> StoreResult<Option<(TokenAuth, JsonPage)>> {
    let readers = match db {
        Db::Sqlite(_, readers, _) => readers,
        Db::Postgres(pool) => {
            return pg_list_with_token(pool, token_hash, now, slug, kind, include_archived, filters, after_seq, limit, prefix).await;
        }
    };
    let page_sql = numbered(&page_sql(Backend::Sqlite, include_archived, filters));
    let auth_sql = numbered(crate::tokens::AUTHENTICATE_SQL);
    let (token_hash, now, slug, kind) = (token_hash.to_owned(), now.to_owned(), slug.to_owned(), kind.to_owned());
    let filter_values: Vec<String> = filters.iter().map(|f| filter_value(f).to_owned()).collect();
    let found = readers
        .run(move |conn| {
            let Some(row) = auth_row(conn, &auth_sql, &token_hash, &now)? else { return Ok(None) };
            let page = if row.3 == slug {
                use rusqlite::types::Value as V;
                let mut params = vec![V::Text(row.2.clone()), V::Text(kind), V::Integer(after_seq), V::Integer(i64::from(limit) + 1)];
                params.extend(filter_values.into_iter().map(V::Text));
                sqlite_page(conn, &page_sql, &params, limit, prefix)?
            } else {
                JsonPage { items: prefix.to_owned(), next_after: None }
            };
            Ok(Some((row, page)))
        })
        .await?;
    let Some((row, page)) = found else { return Ok(None) };
    Ok(Some((token_auth(row)?, page)))
}

/// [`list_with_token`] on PostgreSQL in one round trip: the token's row joined laterally with
/// the page (one row per record; one row with no record for an empty page or another
/// organisation). The page query's parameters move up by two to make room for the token's; its
/// organisation comes from the token's row, and `$3` becomes the slug the path names.
#[allow(clippy::too_many_arguments)]
async fn pg_list_with_token(
    pool: &sqlx::PgPool,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    include_archived: bool,
    filters: &[Filter],
    after_seq: i64,
    limit: u32,
    prefix: &str,
) -> StoreResult<Option<(TokenAuth, JsonPage)>> {
    let page = shift_params(&page_sql(Backend::Postgres, include_archived, filters), 2).replace("$3", "a.org_id");
    let sql = format!(
        "SELECT a.*, p.seq, p.doc FROM ({}) a(token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role) \
         LEFT JOIN LATERAL ({page}) p ON a.org_slug = $3 ORDER BY p.seq",
        crate::tokens::AUTHENTICATE_SQL
    );
    let mut query =
        sqlx::query_as(AssertSqlSafe(sql)).bind(token_hash).bind(now).bind(slug).bind(kind).bind(after_seq).bind(i64::from(limit) + 1);
    for filter in filters {
        query = query.bind(filter_value(filter).to_owned());
    }
    type Joined = (String, Option<String>, String, String, String, String, String, String, String, Option<i64>, Option<String>);
    let rows: Vec<Joined> = query.fetch_all(pool).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let auth = token_auth((
        first.0.clone(),
        first.1.clone(),
        first.2.clone(),
        first.3.clone(),
        first.4.clone(),
        first.5.clone(),
        first.6.clone(),
        first.7.clone(),
        first.8.clone(),
    ))?;
    let records: Vec<(i64, Option<String>)> = rows.into_iter().filter_map(|r| r.9.map(|seq| (seq, r.10))).collect();
    Ok(Some((auth, assemble(records, limit, prefix))))
}

/// Renumbers `$n` placeholders to `$n+by`.
fn shift_params(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            digits.push(d);
            chars.next();
        }
        out.push('$');
        out.push_str(&(digits.parse::<usize>().unwrap_or(0) + by).to_string());
    }
    out
}

/// A token's row from [`crate::tokens::AUTHENTICATE_SQL`]: token id, last use, organisation id,
/// slug and name, user id, e-mail, display name, role.
type AuthRow = (String, Option<String>, String, String, String, String, String, String, String);

fn auth_row(conn: &rusqlite::Connection, auth_sql: &str, token_hash: &str, now: &str) -> rusqlite::Result<Option<AuthRow>> {
    let mut statement = conn.prepare_cached(auth_sql)?;
    statement
        .query_row(rusqlite::params![token_hash, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })
        .optional()
}

fn token_auth((token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role): AuthRow) -> StoreResult<TokenAuth> {
    let member = Member { org_id, org_slug, org_name, user_id, email, display_name, role: parse_role(&role)? };
    Ok(TokenAuth { token_id, member, last_used_at })
}

/// How a single record is addressed: by id, or by reference (catalogue rows).
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Id(&'a str),
    Ref(&'a str),
}

fn doc_sql(key: Key<'_>) -> &'static str {
    match key {
        Key::Id(_) => "SELECT version, doc FROM records WHERE org_id = $1 AND kind = $2 AND id = $3",
        Key::Ref(_) => "SELECT version, doc FROM records WHERE org_id = $1 AND kind = $2 AND ref = $3",
    }
}

fn key_text(key: Key<'_>) -> &str {
    match key {
        Key::Id(text) | Key::Ref(text) => text,
    }
}

fn sqlite_doc(conn: &rusqlite::Connection, sql: &str, org_id: &str, kind: &str, key: &str) -> rusqlite::Result<Option<(i64, String)>> {
    let mut statement = conn.prepare_cached(sql)?;
    statement
        .query_row(rusqlite::params![org_id, kind, key], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())))
        .optional()
}

/// One record's version and stored JSON document.
pub async fn get_doc(db: &Db, org_id: &str, kind: &str, key: Key<'_>) -> StoreResult<Option<(i64, String)>> {
    Ok(get_id_and_doc(db, org_id, kind, key).await?.map(|(_, version, doc)| (version, doc)))
}

/// Checks an API token and reads one record in one blocking call on SQLite. `None` when the
/// token is not valid; no record when it belongs to another organisation than `slug`.
pub async fn get_doc_with_token(
    db: &Db,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    key: Key<'_>,
) -> StoreResult<Option<(TokenAuth, Option<(i64, String)>)>> {
    let readers = match db {
        Db::Sqlite(_, readers, _) => readers,
        Db::Postgres(pool) => {
            // One round trip: the token's row with the record joined when the organisation matches.
            let column = match key {
                Key::Id(_) => "id",
                Key::Ref(_) => "ref",
            };
            let sql = format!(
                "SELECT a.*, r.version, r.doc FROM ({}) a(token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role) \
                 LEFT JOIN records r ON r.org_id = a.org_id AND a.org_slug = $3 AND r.kind = $4 AND r.{column} = $5",
                crate::tokens::AUTHENTICATE_SQL
            );
            type Joined = (String, Option<String>, String, String, String, String, String, String, String, Option<i64>, Option<String>);
            let row: Option<Joined> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(token_hash)
                .bind(now)
                .bind(slug)
                .bind(kind)
                .bind(key_text(key))
                .fetch_optional(pool)
                .await?;
            let Some((a, b, c, d, e, f, g, h, i, version, doc)) = row else { return Ok(None) };
            let auth = token_auth((a, b, c, d, e, f, g, h, i))?;
            return Ok(Some((auth, version.map(|v| (v, doc.unwrap_or_default())))));
        }
    };
    let (auth_sql, sql) = (numbered(crate::tokens::AUTHENTICATE_SQL), numbered(doc_sql(key)));
    let (token_hash, now, slug, kind, key) =
        (token_hash.to_owned(), now.to_owned(), slug.to_owned(), kind.to_owned(), key_text(key).to_owned());
    let found = readers
        .run(move |conn| {
            let Some(row) = auth_row(conn, &auth_sql, &token_hash, &now)? else { return Ok(None) };
            let doc = if row.3 == slug { sqlite_doc(conn, &sql, &row.2, &kind, &key)? } else { None };
            Ok(Some((row, doc)))
        })
        .await?;
    let Some((row, doc)) = found else { return Ok(None) };
    Ok(Some((token_auth(row)?, doc)))
}

/// One record's id, version and stored JSON document (a trace's subject, addressed by id or by
/// reference).
pub async fn get_id_and_doc(db: &Db, org_id: &str, kind: &str, key: Key<'_>) -> StoreResult<Option<(String, i64, String)>> {
    let sql = match key {
        Key::Id(_) => "SELECT id, version, doc FROM records WHERE org_id = $1 AND kind = $2 AND id = $3",
        Key::Ref(_) => "SELECT id, version, doc FROM records WHERE org_id = $1 AND kind = $2 AND ref = $3",
    };
    let row: Option<(String, i64, Option<String>)> = match db {
        Db::Sqlite(_, readers, _) => {
            let sql = numbered(sql);
            let (org_id, kind, key) = (org_id.to_owned(), kind.to_owned(), key_text(key).to_owned());
            readers
                .run(move |conn| {
                    let mut statement = conn.prepare_cached(&sql)?;
                    statement.query_row(rusqlite::params![org_id, kind, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
                })
                .await?
        }
        Db::Postgres(pool) => sqlx::query_as(sql).bind(org_id).bind(kind).bind(key_text(key)).fetch_optional(pool).await?,
    };
    Ok(row.map(|(id, version, doc)| (id, version, doc.unwrap_or_default())))
}

/// A linked record in a trace, as stored JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedDoc {
    pub field: String,
    pub outgoing: bool,
    pub kind: String,
    /// How many records the group (direction, field, kind) holds.
    pub group_total: i64,
    pub doc: String,
}

/// The trace of a record as stored documents (the API's trace route): the same records as
/// [`crate::records::linked`], without decoding them.
pub async fn linked_docs(db: &Db, org_id: &str, id: &str, per_group: i64) -> StoreResult<Vec<LinkedDoc>> {
    let sql = crate::records::linked_sql(db.backend(), "f.kind, f.doc");
    type Row = (String, i64, String, Option<String>, i64);
    let into = |(field, outgoing, kind, doc, group_total): Row| LinkedDoc {
        field,
        outgoing: outgoing == 1,
        kind,
        group_total,
        doc: doc.unwrap_or_default(),
    };
    match db {
        Db::Sqlite(_, readers, _) => {
            let sql = numbered(&sql);
            let (org_id, id) = (org_id.to_owned(), id.to_owned());
            readers
                .run(move |conn| {
                    let mut statement = conn.prepare_cached(&sql)?;
                    let rows = statement.query_map(rusqlite::params![org_id, id, per_group], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?;
                    rows.map(|row| row.map(into)).collect()
                })
                .await
        }
        Db::Postgres(pool) => {
            let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(id).bind(per_group).fetch_all(pool).await?;
            Ok(rows.into_iter().map(into).collect())
        }
    }
}
