//! Pages of records as JSON text, assembled by the database from each record's stored `doc`.
//! A list request is the hottest path of the API; one aggregated row avoids decoding and
//! re-encoding every record.

use std::sync::LazyLock;

use rusqlite::OptionalExtension;
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::pg_readers::PgReaders;
use crate::readers::{numbered, sqlite_text};
use crate::records::TraceOf;
use crate::tokens::{AuthRow, TokenAuth, auth_from_row};
use crate::tokens::{token_check_columns, token_columns, token_joins, token_joins_sqlite, token_valid};

use crate::db::{Backend, Db};
use crate::error::StoreResult;

/// A page as JSON text: the caller's prefix followed by the items (`{…},{…}`), and where the
/// next page starts. The prefix lets the web layer wrap the page without copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPage {
    pub items: String,
    pub next_after: Option<i64>,
}

/// What a list page asks for: the kind, whether archived records count, the filters, where
/// the page starts and how many it holds, and the text the items follow (so the web layer
/// wraps the page without copying it).
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub kind: &'a str,
    pub include_archived: bool,
    pub filters: &'a [Filter],
    pub after_seq: i64,
    pub limit: u32,
    pub prefix: &'static str,
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
    /// Records whose name, title or reference contains this text, ignoring case: the lists'
    /// search (`?q=`). Hold it as [`Filter::text`] makes it (lower case).
    Text(String),
    /// Records whose date field holds a date before this one (`YYYY-MM-DD`); a blank date is
    /// before nothing.
    Before { field: &'static str, date: String },
    /// Records whose document field does not hold this text value (a blank field does not).
    Not { field: &'static str, value: String },
    /// Records whose document field is blank or absent (an action nobody owns).
    Unset { field: &'static str },
    /// Records whose true-or-false field holds this value (absent holds neither).
    Flag { field: &'static str, value: bool },
}

impl Filter {
    /// A text search for `query`, matched in lower case.
    pub fn text(query: &str) -> Self {
        Self::Text(query.trim().to_lowercase())
    }
}

/// The text a search looks in: a record's name, title and reference, in lower case. SQLite's
/// `records_search` index and PostgreSQL's `search` column (migration 11) hold this very
/// expression: change them together.
fn searched_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "lower(coalesce(json_extract(r.data, '$.name'), '') || ' ' || coalesce(json_extract(r.data, '$.title'), '') || ' ' || coalesce(r.ref, ''))"
        }
        // Stored with the row (migration 11), so a search reads a short column, not the JSON.
        Backend::Postgres => "r.search",
    }
}

pub(crate) fn filter_sql(backend: Backend, filter: &Filter, param: usize) -> String {
    match filter {
        Filter::Link { field, .. } => format!(
            "AND EXISTS (SELECT 1 FROM record_links l WHERE l.org_id = r.org_id AND l.from_id = r.id AND l.field = '{field}' AND l.to_id = ${param})"
        ),
        // Documents are stored as compact JSON, so a record whose field holds the value contains
        // `"field":"value"`: on PostgreSQL, looking for that text first spares parsing the
        // document of every other record (most of them, for a selective filter; four times
        // faster on 10,000 AI systems); the parse then rules out the text appearing anywhere
        // else. CASE keeps that order (PostgreSQL orders plain ANDs by cost). SQLite's JSON
        // functions are fast enough that the search gained nothing there.
        Filter::Field { field, .. } => match backend {
            Backend::Sqlite => format!("AND json_extract(r.data, '$.{field}') = ${param}"),
            Backend::Postgres => format!(
                "AND CASE WHEN strpos(r.data, '\"{field}\":' || to_json(CAST(${param} AS TEXT))::text) > 0 \
                 THEN (r.data::json ->> '{field}') = ${param} ELSE FALSE END"
            ),
        },
        Filter::State(_) => format!("AND r.state = ${param}"),
        // ISO dates compare as text; the empty text is below every date, so it is ruled out.
        Filter::Before { field, .. } => match backend {
            Backend::Sqlite => format!("AND json_extract(r.data, '$.{field}') < ${param} AND json_extract(r.data, '$.{field}') <> ''"),
            Backend::Postgres => {
                format!("AND (r.data::json ->> '{field}') < ${param} AND (r.data::json ->> '{field}') <> ''")
            }
        },
        // Blank and absent read as '' in both, so "not done" includes an action without a status
        // and "unset" one whose field is null or empty. `Unset` binds '' as its parameter.
        // SQLite reads a JSON true as 1, PostgreSQL's text as 'true'; the parameter is the text.
        Filter::Flag { field, .. } => match backend {
            Backend::Sqlite => format!("AND json_extract(r.data, '$.{field}') = (${param} = 'true')"),
            Backend::Postgres => format!("AND (r.data::json ->> '{field}') = ${param}"),
        },
        Filter::Not { field, .. } | Filter::Unset { field } => {
            let op = if matches!(filter, Filter::Not { .. }) { "<>" } else { "=" };
            match backend {
                Backend::Sqlite => format!("AND coalesce(json_extract(r.data, '$.{field}'), '') {op} ${param}"),
                Backend::Postgres => format!("AND coalesce(r.data::json ->> '{field}', '') {op} ${param}"),
            }
        }
        Filter::Text(_) => match backend {
            Backend::Postgres => format!("AND strpos({}, ${param}) > 0", searched_sql(backend)),
            Backend::Sqlite => format!("AND instr({}, ${param}) > 0", searched_sql(backend)),
        },
    }
}

pub(crate) fn filter_value(filter: &Filter) -> &str {
    match filter {
        Filter::Link { id, .. } => id,
        Filter::Field { value, .. } => value,
        Filter::State(state) | Filter::Text(state) => state,
        Filter::Before { date, .. } => date,
        Filter::Not { value, .. } => value,
        Filter::Unset { .. } => "",
        Filter::Flag { value, .. } => {
            if *value {
                "true"
            } else {
                "false"
            }
        }
    }
}

/// The page query: up to `limit + 1` rows after the cursor, with their stored documents.
/// Parameters: $1 organisation, $2 kind, $3 after, $4 how many to fetch, $5… filters.
/// With a link filter the query starts from the links pointing at that record (indexed by
/// target), so a filter matching few of many records never scans the whole kind.
fn page_sql(backend: Backend, include_archived: bool, filters: &[Filter]) -> String {
    page_sql_selecting(backend, include_archived, filters, "r.seq, r.doc")
}

/// [`page_sql`] selecting `columns` (of `r`, the records).
pub(crate) fn page_sql_selecting(backend: Backend, include_archived: bool, filters: &[Filter], columns: &str) -> String {
    let matching = matching_sql(backend, include_archived, filters);
    format!("SELECT {columns} FROM {matching} AND r.seq > $3 ORDER BY r.seq LIMIT $4")
}

/// The rows a list holds, as `FROM … WHERE …` without the `FROM`: records `r` of kind `$2` in
/// organisation `$1` matching every filter (`$5…`). Shared by every order a list is read in.
pub(crate) fn matching_sql(backend: Backend, include_archived: bool, filters: &[Filter]) -> String {
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
        // SQLite: a search reads the searched text from `records_search` (migration 11), which
        // holds it beside the list's key, rather than each record's row (a few kilobytes with
        // its document) and JSON: the rows of a page's matches are the only ones read.
        _ if backend == Backend::Sqlite && !include_archived && filters.iter().any(|f| matches!(f, Filter::Text(_))) => {
            "records r INDEXED BY records_search WHERE r.org_id = $1".to_owned()
        }
        _ => "records r WHERE r.org_id = $1".to_owned(),
    };
    format!("{from} AND r.kind = $2 {archived} {conditions}")
}

/// What a list is ordered by besides creation: a document field (in lower case, so the order
/// ignores case) or the time of the last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Field(&'static str),
    Updated,
}

/// A list's order: by its key, then by creation (so rows with the same key keep one order and a
/// page boundary between them loses or repeats none). Blank keys come last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// The sort key of the record aliased `alias`, as text ('' when blank). Field names come from
/// the kinds' specs, never from requests.
fn sort_key_sql(backend: Backend, key: SortKey, alias: &str) -> String {
    match (key, backend) {
        (SortKey::Field(field), Backend::Sqlite) => format!("lower(coalesce(json_extract({alias}.data, '$.{field}'), ''))"),
        (SortKey::Field(field), Backend::Postgres) => format!("lower(coalesce({alias}.data::json ->> '{field}', ''))"),
        (SortKey::Updated, _) => format!("{alias}.updated_at"),
    }
}

/// The page query in `sort`'s order, parameters as [`page_sql`]'s except `$3`: the creation
/// sequence of the previous page's last row (0 for the first page). That row's key is read
/// back from the table, so the cursor carries only the sequence, and a row that is no record
/// of the organisation yields an empty page, never rows from elsewhere in the list. Keyset
/// on (blank, key, seq): no OFFSET, whatever the page.
pub(crate) fn sorted_page_sql(backend: Backend, include_archived: bool, filters: &[Filter], sort: Sort, columns: &str) -> String {
    let matching = matching_sql(backend, include_archived, filters);
    let key = sort_key_sql(backend, sort.key, "r");
    let before = format!("(SELECT {} FROM records a WHERE a.org_id = $1 AND a.seq = $3)", sort_key_sql(backend, sort.key, "a"));
    let blank = |k: &str| format!("(CASE WHEN {k} = '' THEN 1 ELSE 0 END)");
    let (dir, op) = if sort.descending { ("DESC", "<") } else { ("ASC", ">") };
    let (blank_r, blank_a) = (blank(&key), blank(&before));
    let after =
        format!("({blank_r} > {blank_a} OR ({blank_r} = {blank_a} AND ({key} {op} {before} OR ({key} = {before} AND r.seq {op} $3))))");
    format!("SELECT {columns} FROM {matching} AND ($3 = 0 OR {after}) ORDER BY {blank_r}, {key} {dir}, r.seq {dir} LIMIT $4")
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
pub async fn list(db: &Db, org_id: &str, page: &PageRequest<'_>) -> StoreResult<JsonPage> {
    let PageRequest { kind, include_archived, filters, after_seq, limit, prefix } = *page;
    let sql = page_sql(db.backend(), include_archived, filters);
    let params = page_params(org_id, kind, filters, after_seq, limit);
    match db {
        Db::Sqlite(_, readers, _) => {
            let sql = numbered(&sql);
            readers.run(move |conn| sqlite_page(conn, &sql, &params, limit, prefix)).await
        }
        Db::Postgres(pool, _, _) => {
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
    page: &PageRequest<'_>,
) -> StoreResult<Option<(TokenAuth, JsonPage)>> {
    let readers = match db {
        Db::Sqlite(_, readers, _) => readers,
        Db::Postgres(_, readers, _) => return pg_list_with_token(readers, token_hash, now, slug, page).await,
    };
    let PageRequest { kind, include_archived, filters, after_seq, limit, prefix } = *page;
    let page_sql = numbered(&page_sql(Backend::Sqlite, include_archived, filters));
    let auth_sql = sqlite_text!(crate::tokens::AUTHENTICATE_SQLITE_SQL);
    let found = readers
        .run_in_snapshot(|conn| {
            let Some(row) = auth_row(conn, auth_sql, token_hash, now)? else { return Ok(None) };
            let page = if row.3 == slug {
                use rusqlite::types::Value as V;
                let mut params =
                    vec![V::Text(row.2.clone()), V::Text(kind.to_owned()), V::Integer(after_seq), V::Integer(i64::from(limit) + 1)];
                params.extend(filters.iter().map(|f| V::Text(filter_value(f).to_owned())));
                sqlite_page(conn, &page_sql, &params, limit, prefix)?
            } else {
                JsonPage { items: prefix.to_owned(), next_after: None }
            };
            Ok(Some((row, page)))
        })
        .await?;
    let Some((row, page)) = found else { return Ok(None) };
    Ok(Some((auth_from_row(row)?, page)))
}

/// [`list_with_token`] on PostgreSQL in one round trip: the token's row (none when the token
/// is not valid), then the page's rows, one more than the page when more exist. The page is
/// empty when the token belongs to another organisation than the slug the path names (`$3`).
/// The page query's parameters move up by two to make room for the token's.
async fn pg_list_with_token(
    readers: &PgReaders,
    token_hash: &str,
    now: &str,
    slug: &str,
    request: &PageRequest<'_>,
) -> StoreResult<Option<(TokenAuth, JsonPage)>> {
    let PageRequest { kind, include_archived, filters, after_seq, limit, prefix } = *request;
    let page = shift_params(&page_sql(Backend::Postgres, include_archived, filters), 2)
        .replace("$3", "(SELECT a.org_id FROM a WHERE a.org_slug = $3)");
    // Rows rather than one aggregate: PostgreSQL copied every document three more times to
    // number, sort and join them (a third of its time on a page of 50).
    let sql = format!(
        "WITH a(token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role, expires_at, generation) AS ({}) \
         SELECT a.*, CAST(NULL AS BIGINT) AS seq, CAST(NULL AS TEXT) AS doc FROM a \
         UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, q.seq, q.doc FROM ({page}) q",
        crate::tokens::AUTHENTICATE_SQL
    );
    let rows = readers
        .read(|connection| {
            let mut query =
                token_read_query(AssertSqlSafe(sql.clone()), token_hash, now, slug, kind).bind(after_seq).bind(i64::from(limit) + 1);
            for filter in filters {
                query = query.bind(filter_value(filter).to_owned());
            }
            Box::pin(query.fetch_all(connection))
        })
        .await?;
    let mut header = None;
    let mut docs = Vec::with_capacity(rows.len());
    for row in &rows {
        match pg_token_header(row)? {
            Some(token) => header = Some(token),
            None => {
                if let Some(seq) = row.try_get::<Option<i64>, _>(11)? {
                    docs.push((seq, row.try_get(12)?));
                }
            }
        }
    }
    let Some(header) = header else { return Ok(None) };
    Ok(Some((auth_from_row(header)?, assemble(in_seq_order(docs), limit, prefix))))
}

/// Rows of a `UNION ALL` in page order. PostgreSQL returns them in the order of the page query
/// (its branches run one after the other), which SQL does not promise: sorted only when not.
fn in_seq_order(mut rows: Vec<(i64, Option<String>)>) -> Vec<(i64, Option<String>)> {
    if !rows.is_sorted_by_key(|(seq, _)| *seq) {
        rows.sort_by_key(|(seq, _)| *seq);
    }
    rows
}

/// The token's row at the head of a `UNION ALL` whose other rows leave its eleven columns
/// ([`AUTHENTICATE_SQL`](crate::tokens::AUTHENTICATE_SQL)'s) NULL: `None` for those rows.
fn pg_token_header(row: &sqlx::postgres::PgRow) -> Result<Option<AuthRow>, sqlx::Error> {
    let Some(token_id) = row.try_get::<Option<String>, _>(0)? else { return Ok(None) };
    let text = |i: usize| row.try_get::<Option<String>, _>(i).map(Option::unwrap_or_default);
    let generation = row.try_get::<Option<i64>, _>(10)?.unwrap_or_default();
    Ok(Some((token_id, row.try_get(1)?, text(2)?, text(3)?, text(4)?, text(5)?, text(6)?, text(7)?, text(8)?, row.try_get(9)?, generation)))
}

/// A page when the auth generation is still `generation` (a remembered token check holds), in
/// one read: `None` when it moved. Parameters and outcome otherwise as [`list`].
pub async fn list_if_generation(db: &Db, generation: i64, org_id: &str, request: &PageRequest<'_>) -> StoreResult<Option<JsonPage>> {
    let PageRequest { kind, include_archived, filters, after_seq, limit, prefix } = *request;
    let page = page_sql(db.backend(), include_archived, filters);
    match db {
        Db::Sqlite(_, readers, _) => {
            let (sql, params) = (numbered(&page), page_params(org_id, kind, filters, after_seq, limit));
            readers
                .run_in_snapshot(move |conn| {
                    if sqlite_generation(conn)? != generation {
                        return Ok(None);
                    }
                    sqlite_page(conn, &sql, &params, limit, prefix).map(Some)
                })
                .await
        }
        Db::Postgres(_, readers, _) => {
            let sql = format!(
                "SELECT g.generation, CAST(NULL AS BIGINT) AS seq, CAST(NULL AS TEXT) AS doc FROM auth_generation g \
                 UNION ALL SELECT NULL, q.seq, q.doc FROM ({page}) q"
            );
            let (after, fetch) = (after_seq, i64::from(limit) + 1);
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&org_id, &kind, &after, &fetch];
            let values: Vec<&str> = filters.iter().map(filter_value).collect();
            params.extend(values.iter().map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync)));
            let rows = readers.pipelined.query(&sql, &params).await?;
            let rows = rows
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
                .collect::<Result<Vec<(Option<i64>, Option<i64>, Option<String>)>, tokio_postgres::Error>>()?;
            let mut seen = None;
            let mut docs = Vec::with_capacity(rows.len());
            for (current, seq, doc) in rows {
                match (current, seq) {
                    (Some(current), _) => seen = Some(current),
                    (None, Some(seq)) => docs.push((seq, doc)),
                    (None, None) => {}
                }
            }
            Ok((seen == Some(generation)).then(|| assemble(in_seq_order(docs), limit, prefix)))
        }
    }
}

fn sqlite_generation(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT generation FROM auth_generation WHERE id = 1")?.query_row([], |r| r.get(0))
}

/// A token-checked read on PostgreSQL with the parameters every one starts with: `$1` the
/// token's hash, `$2` now, `$3` the slug the path names, `$4` the kind. Bound as owned values,
/// so the statement borrows nothing of its caller's and [`PgReaders::read`] can run it again.
fn token_read_query(
    sql: impl sqlx::SqlSafeStr,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql).bind(token_hash.to_owned()).bind(now.to_owned()).bind(slug.to_owned()).bind(kind.to_owned())
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

fn auth_row(conn: &rusqlite::Connection, auth_sql: &str, token_hash: &str, now: &str) -> rusqlite::Result<Option<AuthRow>> {
    let mut statement = conn.prepare_cached(auth_sql)?;
    statement
        .query_row(rusqlite::params![token_hash, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?))
        })
        .optional()
}

/// How a single record is addressed: by id, or by reference (catalogue rows).
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Id(&'a str),
    Ref(&'a str),
}

fn id_and_doc_sql(key: Key<'_>) -> &'static str {
    match key {
        Key::Id(_) => "SELECT id, version, doc FROM records WHERE org_id = $1 AND kind = $2 AND id = $3",
        Key::Ref(_) => "SELECT id, version, doc FROM records WHERE org_id = $1 AND kind = $2 AND ref = $3",
    }
}

fn key_text(key: Key<'_>) -> &str {
    match key {
        Key::Id(text) | Key::Ref(text) => text,
    }
}

/// One record's version and stored JSON document.
pub async fn get_doc(db: &Db, org_id: &str, kind: &str, key: Key<'_>) -> StoreResult<Option<(i64, String)>> {
    Ok(get_id_and_doc(db, org_id, kind, key).await?.map(|(_, version, doc)| (version, doc)))
}

/// The token's row with the record joined when the organisation matches (`$3` the slug the
/// path names, `$4` the kind, `$5` the id or reference), the token's tables joined by `$joins`.
macro_rules! doc_with_token_sql {
    ($joins:ident, $column:literal) => {
        concat!(
            "SELECT ",
            token_columns!(),
            ", ",
            token_check_columns!(),
            ", r.version, r.doc FROM ",
            $joins!(),
            " LEFT JOIN records r ON r.org_id = t.org_id AND o.slug = $3 AND r.kind = $4 AND r.",
            $column,
            " = $5 WHERE ",
            token_valid!()
        )
    };
}

/// Checks an API token and reads one record in one statement: one round trip on PostgreSQL,
/// one read transaction on SQLite. `None` when the token is not valid; no record when it
/// belongs to another organisation than `slug`.
pub async fn get_doc_with_token(
    db: &Db,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    key: Key<'_>,
) -> StoreResult<Option<(TokenAuth, Option<(i64, String)>)>> {
    const BY_ID: &str = doc_with_token_sql!(token_joins, "id");
    const BY_REF: &str = doc_with_token_sql!(token_joins, "ref");
    const SQLITE_BY_ID: &str = doc_with_token_sql!(token_joins_sqlite, "id");
    const SQLITE_BY_REF: &str = doc_with_token_sql!(token_joins_sqlite, "ref");
    type Joined =
        (String, Option<String>, String, String, String, String, String, String, String, Option<String>, i64, Option<i64>, Option<String>);
    let row: Option<Joined> = match db {
        Db::Sqlite(_, readers, _) => {
            let sql = match key {
                Key::Id(_) => sqlite_text!(SQLITE_BY_ID),
                Key::Ref(_) => sqlite_text!(SQLITE_BY_REF),
            };
            let params = [token_hash, now, slug, kind, key_text(key)];
            readers
                .run(|conn| {
                    let mut statement = conn.prepare_cached(sql)?;
                    statement
                        .query_row(rusqlite::params_from_iter(params), |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                                r.get(6)?,
                                r.get(7)?,
                                r.get(8)?,
                                r.get(9)?,
                                r.get(10)?,
                                r.get(11)?,
                                r.get(12)?,
                            ))
                        })
                        .optional()
                })
                .await?
        }
        Db::Postgres(_, readers, _) => {
            let sql = match key {
                Key::Id(_) => BY_ID,
                Key::Ref(_) => BY_REF,
            };
            let row = readers
                .read(|connection| {
                    Box::pin(token_read_query(sql, token_hash, now, slug, kind).bind(key_text(key).to_owned()).fetch_optional(connection))
                })
                .await?;
            row.as_ref().map(sqlx::FromRow::from_row).transpose()?
        }
    };
    let Some((a, b, c, d, e, f, g, h, i, expires_at, generation, version, doc)) = row else { return Ok(None) };
    let auth = auth_from_row((a, b, c, d, e, f, g, h, i, expires_at, generation))?;
    Ok(Some((auth, version.map(|v| (v, doc.unwrap_or_default())))))
}

/// One record's version and document when the auth generation is still `generation` (a
/// remembered token check holds), in one statement: `None` when it moved.
pub async fn get_doc_if_generation(
    db: &Db,
    generation: i64,
    org_id: &str,
    kind: &str,
    key: Key<'_>,
) -> StoreResult<Option<Option<(i64, String)>>> {
    macro_rules! doc_if_generation_sql {
        ($column:literal) => {
            concat!(
                "SELECT (SELECT g.generation FROM auth_generation g), r.version, r.doc FROM (SELECT 1) one \
                 LEFT JOIN records r ON r.org_id = $1 AND r.kind = $2 AND r.",
                $column,
                " = $3"
            )
        };
    }
    let (current, version, doc): (i64, Option<i64>, Option<String>) = match db {
        Db::Sqlite(_, readers, _) => {
            let sql = match key {
                Key::Id(_) => sqlite_text!(doc_if_generation_sql!("id")),
                Key::Ref(_) => sqlite_text!(doc_if_generation_sql!("ref")),
            };
            let params = [org_id, kind, key_text(key)];
            readers
                .run(|conn| {
                    conn.prepare_cached(sql)?.query_row(rusqlite::params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                })
                .await?
        }
        Db::Postgres(_, readers, _) => {
            let sql = match key {
                Key::Id(_) => doc_if_generation_sql!("id"),
                Key::Ref(_) => doc_if_generation_sql!("ref"),
            };
            let rows = readers.pipelined.query(sql, &[&org_id, &kind, &key_text(key)]).await?;
            let row = rows.first().ok_or(crate::error::StoreError::NotFound)?;
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)
        }
    };
    Ok((current == generation).then(|| version.map(|v| (v, doc.unwrap_or_default()))))
}

/// One record's id, version and stored JSON document (a trace's subject, addressed by id or by
/// reference).
pub async fn get_id_and_doc(db: &Db, org_id: &str, kind: &str, key: Key<'_>) -> StoreResult<Option<(String, i64, String)>> {
    let row: Option<(String, i64, Option<String>)> = match db {
        Db::Sqlite(_, readers, _) => {
            let by_ref = matches!(key, Key::Ref(_));
            readers.run(|conn| sqlite_id_and_doc(conn, by_ref, org_id, kind, key_text(key))).await?
        }
        Db::Postgres(pool, _, _) => {
            sqlx::query_as(id_and_doc_sql(key)).bind(org_id).bind(kind).bind(key_text(key)).fetch_optional(pool).await?
        }
    };
    Ok(row.map(|(id, version, doc)| (id, version, doc.unwrap_or_default())))
}

/// [`get_id_and_doc`] on a SQLite read connection (`by_ref`: `key` is a reference).
fn sqlite_id_and_doc(
    conn: &rusqlite::Connection,
    by_ref: bool,
    org_id: &str,
    kind: &str,
    key: &str,
) -> rusqlite::Result<Option<(String, i64, Option<String>)>> {
    let sql = if by_ref { sqlite_text!(id_and_doc_sql(Key::Ref(""))) } else { sqlite_text!(id_and_doc_sql(Key::Id(""))) };
    conn.prepare_cached(sql)?.query_row(rusqlite::params![org_id, kind, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
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

/// A linked record's row: field, direction (1 outgoing), kind, document, group total.
type LinkedRow = (String, i64, String, Option<String>, i64);

fn linked_doc((field, outgoing, kind, doc, group_total): LinkedRow) -> LinkedDoc {
    LinkedDoc { field, outgoing: outgoing == 1, kind, group_total, doc: doc.unwrap_or_default() }
}

/// [`linked_docs`] on a SQLite read connection.
fn sqlite_linked(conn: &rusqlite::Connection, org_id: &str, id: &str, per_group: i64) -> rusqlite::Result<Vec<LinkedDoc>> {
    let sql = sqlite_text!(&crate::records::linked_sql(Backend::Sqlite, "f.kind, f.doc", TraceOf::PARAMS));
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement
        .query_map(rusqlite::params![org_id, id, per_group], |r| Ok(linked_doc((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))?;
    rows.collect()
}

/// The trace of a record as stored documents (the API's trace route): the same records as
/// [`crate::records::linked`], without decoding them.
pub async fn linked_docs(db: &Db, org_id: &str, id: &str, per_group: i64) -> StoreResult<Vec<LinkedDoc>> {
    match db {
        Db::Sqlite(_, readers, _) => readers.run(|conn| sqlite_linked(conn, org_id, id, per_group)).await,
        Db::Postgres(pool, _, _) => {
            let sql = crate::records::linked_sql(Backend::Postgres, "f.kind, f.doc", TraceOf::PARAMS);
            let rows: Vec<LinkedRow> = sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(id).bind(per_group).fetch_all(pool).await?;
            Ok(rows.into_iter().map(linked_doc).collect())
        }
    }
}

/// A trace as stored JSON: the record's version and document, and its linked records.
pub type TraceDocs = (i64, String, Vec<LinkedDoc>);

/// Checks an API token and reads a trace (the record and its linked records) — on SQLite in one
/// blocking call, on PostgreSQL in one statement. `None` when the token is not valid; no trace
/// when the record is not found or the token belongs to another organisation than `slug`.
pub async fn trace_with_token(
    db: &Db,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    key: Key<'_>,
    per_group: i64,
) -> StoreResult<Option<(TokenAuth, Option<TraceDocs>)>> {
    let readers = match db {
        Db::Sqlite(_, readers, _) => readers,
        Db::Postgres(_, readers, _) => return pg_trace_with_token(readers, token_hash, now, slug, kind, key, per_group).await,
    };
    let auth_sql = sqlite_text!(crate::tokens::AUTHENTICATE_SQLITE_SQL);
    let by_ref = matches!(key, Key::Ref(_));
    let found = readers
        .run_in_snapshot(|conn| {
            let Some(row) = auth_row(conn, auth_sql, token_hash, now)? else { return Ok(None) };
            if row.3 != slug {
                return Ok(Some((row, None)));
            }
            let Some((id, version, doc)) = sqlite_id_and_doc(conn, by_ref, &row.2, kind, key_text(key))? else {
                return Ok(Some((row, None)));
            };
            let linked = sqlite_linked(conn, &row.2, &id, per_group)?;
            Ok(Some((row, Some((version, doc.unwrap_or_default(), linked)))))
        })
        .await?;
    let Some((row, trace)) = found else { return Ok(None) };
    Ok(Some((auth_from_row(row)?, trace)))
}

/// [`trace_with_token`] on PostgreSQL: the token's row with the record (one header row), then
/// the linked records, whose query takes the organisation and record id from the header.
/// `outgoing` sorts the header first (2), then the trace order of [`crate::records::linked_sql`].
async fn pg_trace_with_token(
    readers: &PgReaders,
    token_hash: &str,
    now: &str,
    slug: &str,
    kind: &str,
    key: Key<'_>,
    per_group: i64,
) -> StoreResult<Option<(TokenAuth, Option<TraceDocs>)>> {
    static BY_ID: LazyLock<String> = LazyLock::new(|| pg_trace_sql("id"));
    static BY_REF: LazyLock<String> = LazyLock::new(|| pg_trace_sql("ref"));
    let sql: &'static str = match key {
        Key::Id(_) => &BY_ID,
        Key::Ref(_) => &BY_REF,
    };
    let rows = readers
        .read(|connection| {
            Box::pin(
                token_read_query(sql, token_hash, now, slug, kind).bind(key_text(key).to_owned()).bind(per_group).fetch_all(connection),
            )
        })
        .await?;
    let Some(header) = rows.first() else { return Ok(None) };
    let Some(token) = pg_token_header(header)? else { return Ok(None) };
    let auth = auth_from_row(token)?;
    let Some(version) = header.try_get::<Option<i64>, _>(11)? else { return Ok(Some((auth, None))) };
    let text = |row: &sqlx::postgres::PgRow, i: usize| row.try_get::<Option<String>, _>(i).map(Option::unwrap_or_default);
    let linked = rows[1..]
        .iter()
        .map(|r| {
            Ok(linked_doc((text(r, 13)?, r.try_get(14)?, text(r, 15)?, r.try_get(12)?, r.try_get::<Option<i64>, _>(16)?.unwrap_or(0))))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some((auth, Some((version, text(header, 12)?, linked)))))
}

/// The statement of [`pg_trace_with_token`] for a record addressed by `column` (`id` or `ref`).
fn pg_trace_sql(column: &str) -> String {
    let linked = crate::records::linked_sql(
        Backend::Postgres,
        "f.kind, f.doc, f.seq",
        TraceOf { org: "(SELECT s.org_id FROM s)", id: "(SELECT s.id FROM s)", limit: "$6" },
    );
    format!(
        "WITH a(token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role, expires_at, generation) AS ({auth}), \
         s AS (SELECT r.org_id, r.id, r.version, r.doc FROM a JOIN records r \
               ON r.org_id = a.org_id AND a.org_slug = $3 AND r.kind = $4 AND r.{column} = $5) \
         SELECT a.*, s.version, s.doc, CAST(NULL AS TEXT) AS field, CAST(2 AS BIGINT) AS outgoing, \
                CAST(NULL AS TEXT) AS kind, CAST(NULL AS BIGINT) AS total, CAST(NULL AS BIGINT) AS seq FROM a LEFT JOIN s ON TRUE \
         UNION ALL \
         SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, x.doc, x.field, x.outgoing, x.kind, x.total, x.seq \
         FROM ({linked}) x(field, outgoing, kind, doc, seq, total) \
         ORDER BY outgoing DESC, kind, field, seq",
        auth = crate::tokens::AUTHENTICATE_SQL
    )
}

#[cfg(test)]
mod tests {
    use super::in_seq_order;

    #[test]
    fn union_rows_come_back_in_page_order() {
        let doc = |n: i64| Some(format!("{{\"n\":{n}}}"));
        let sorted = vec![(1, doc(1)), (5, doc(5)), (9, doc(9))];
        assert_eq!(in_seq_order(sorted.clone()), sorted);
        assert_eq!(in_seq_order(vec![(9, doc(9)), (1, doc(1)), (5, doc(5))]), sorted);
        assert!(in_seq_order(Vec::new()).is_empty());
    }
}
