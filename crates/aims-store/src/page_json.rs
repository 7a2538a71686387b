//! Pages of records as JSON text, assembled by the database from each record's stored `doc`.
//! A list request is the hottest path of the API; one aggregated row avoids decoding and
//! re-encoding every record.

use sqlx::AssertSqlSafe;

use crate::db::{Backend, Db};
use crate::error::StoreResult;

/// A page as JSON text: the items array's inside (`{…},{…}`) and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPage {
    pub items: String,
    pub next_after: Option<i64>,
}

fn aggregate_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "group_concat(obj, ',' ORDER BY seq)",
        Backend::Postgres => "string_agg(obj, ',' ORDER BY seq)",
    }
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

/// `page` CTE body: up to `limit + 1` rows after the cursor.
fn page_sql(backend: Backend, include_archived: bool, filters: &[Filter]) -> String {
    let archived = if include_archived { "" } else { "AND r.archived = FALSE" };
    let conditions: String = filters.iter().enumerate().map(|(i, f)| filter_sql(backend, f, 6 + i)).collect::<Vec<_>>().join(" ");
    format!(
        "SELECT r.seq AS seq, r.doc AS obj FROM records r WHERE r.org_id = $1 AND r.kind = $2 {archived} {conditions} \
         AND r.seq > $3 ORDER BY r.seq LIMIT $4"
    )
}

/// The three aggregates of a page: the items' text, the row count, the last included seq.
fn summary_sql(backend: Backend) -> String {
    format!(
        "(SELECT {agg} FROM (SELECT seq, obj FROM page ORDER BY seq LIMIT $5) AS shown), \
         (SELECT COUNT(*) FROM page), \
         (SELECT MAX(seq) FROM (SELECT seq FROM page ORDER BY seq LIMIT $5) AS shown_seq)",
        agg = aggregate_sql(backend)
    )
}

fn to_page(items: Option<String>, fetched: i64, last_seq: Option<i64>, limit: u32) -> JsonPage {
    let more = fetched > i64::from(limit);
    JsonPage { items: items.unwrap_or_default(), next_after: if more { last_seq } else { None } }
}

/// One page of records of a kind in an organisation, matching every filter, assembled by the
/// database from the stored documents.
pub async fn list(
    db: &Db,
    org_id: &str,
    kind: &str,
    include_archived: bool,
    filters: &[Filter],
    after_seq: i64,
    limit: u32,
) -> StoreResult<JsonPage> {
    let backend = db.backend();
    let sql = format!(
        "WITH page AS MATERIALIZED ({page}) SELECT {summary}",
        page = page_sql(backend, include_archived, filters),
        summary = summary_sql(backend)
    );
    let (items, fetched, last): (Option<String>, i64, Option<i64>) = on_pool!(db, pool => {
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(org_id).bind(kind).bind(after_seq).bind(i64::from(limit) + 1).bind(i64::from(limit));
        for filter in filters {
            query = query.bind(filter_value(filter).to_owned());
        }
        query.fetch_one(pool).await?
    });
    Ok(to_page(items, fetched, last, limit))
}
