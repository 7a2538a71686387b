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

/// `page` CTE body: up to `limit + 1` rows after the cursor; `$org` is how the organisation
/// is selected (an id parameter or the authenticated token's organisation).
fn page_sql(org_condition: &str, include_archived: bool, first_param: usize) -> String {
    let archived = if include_archived { "" } else { "AND r.archived = FALSE" };
    let (kind, after, fetch) = (first_param, first_param + 1, first_param + 2);
    format!(
        "SELECT r.seq AS seq, r.doc AS obj FROM records r WHERE {org_condition} AND r.kind = ${kind} {archived} \
         AND r.seq > ${after} ORDER BY r.seq LIMIT ${fetch}"
    )
}

/// The three aggregates of a page: the items' text, the row count, the last included seq.
fn summary_sql(backend: Backend, limit_param: usize) -> String {
    format!(
        "(SELECT {agg} FROM (SELECT seq, obj FROM page ORDER BY seq LIMIT ${limit_param}) AS shown), \
         (SELECT COUNT(*) FROM page), \
         (SELECT MAX(seq) FROM (SELECT seq FROM page ORDER BY seq LIMIT ${limit_param}) AS shown_seq)",
        agg = aggregate_sql(backend)
    )
}

fn to_page(items: Option<String>, fetched: i64, last_seq: Option<i64>, limit: u32) -> JsonPage {
    let more = fetched > i64::from(limit);
    JsonPage { items: items.unwrap_or_default(), next_after: if more { last_seq } else { None } }
}

/// One page of records of a kind in an organisation, rendered by the database.
pub async fn list(db: &Db, org_id: &str, kind: &str, include_archived: bool, after_seq: i64, limit: u32) -> StoreResult<JsonPage> {
    let backend = db.backend();
    let sql = format!(
        "WITH page AS MATERIALIZED ({page}) SELECT {summary}",
        page = page_sql("r.org_id = $1", include_archived, 2),
        summary = summary_sql(backend, 5)
    );
    let (items, fetched, last): (Option<String>, i64, Option<i64>) = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(org_id).bind(kind).bind(after_seq).bind(i64::from(limit) + 1).bind(i64::from(limit))
            .fetch_one(pool).await?
    });
    Ok(to_page(items, fetched, last, limit))
}
