//! The readiness rules' conditions (`aims_domain::readiness::Cond`) as SQL both backends accept,
//! the two grouped reads that gather an organisation's readiness facts, and the daily snapshots
//! (migration 17).
//!
//! All rules are answered by one statement (a `UNION ALL` of one capped, ordered read per rule)
//! and all clause signals by another, so the dashboard costs two round trips whatever the
//! organisation's size. Each rule's read stops after [`COUNT_CAP`] matches: a count beyond it
//! is shown as "at least", and the scan of a large kind ends early when most records offend.

use aims_domain::readiness::{Cond, Found, Offender, Rule, Scope, Signal, When};
use sqlx::AssertSqlSafe;

use crate::db::{Backend, Db};
use crate::error::StoreResult;

/// The most offenders counted per rule.
pub const COUNT_CAP: i64 = 250;

/// The dates a condition compares with, as `YYYY-MM-DD`.
#[derive(Debug, Clone)]
pub struct Dates {
    pub today: String,
    pub year_ago: String,
}

impl Dates {
    fn of(&self, when: When) -> &str {
        match when {
            When::Today => &self.today,
            When::YearAgo => &self.year_ago,
        }
    }
}

/// The text a condition names stands in the SQL: it comes from the rules' declarations, never
/// from input, and is checked to hold no quote all the same.
fn literal(text: &str) -> String {
    debug_assert!(!text.contains('\''), "a readiness literal holds a quote: {text}");
    format!("'{}'", text.replace('\'', "''"))
}

/// A field of record alias `a` as text, blank when absent or null. The record's own timestamps
/// are columns.
fn value_sql(backend: Backend, alias: &str, field: &str) -> String {
    if matches!(field, "updated_at" | "created_at") {
        return format!("{alias}.{field}");
    }
    debug_assert!(field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    match backend {
        Backend::Sqlite => format!("coalesce(CAST(json_extract({alias}.data, '$.{field}') AS TEXT), '')"),
        Backend::Postgres => format!("coalesce({alias}.data::json ->> '{field}', '')"),
    }
}

fn listed(values: &[&str]) -> String {
    values.iter().map(|v| literal(v)).collect::<Vec<_>>().join(", ")
}

/// The condition as an SQL expression over the record aliased `r{depth}`; never NULL, so `NOT`
/// means what it says.
pub fn cond_sql(backend: Backend, cond: &Cond, depth: usize, dates: &Dates) -> String {
    let alias = format!("r{depth}");
    match cond {
        Cond::Unset(field) => format!("{} IN ('', '[]', '{{}}')", value_sql(backend, &alias, field)),
        Cond::Is(field, values) => format!("{} IN ({})", value_sql(backend, &alias, field), listed(values)),
        Cond::Flag(field, value) => {
            let expected = if *value { "true" } else { "false" };
            match backend {
                Backend::Sqlite => format!("coalesce(json_type({alias}.data, '$.{field}'), '') = '{expected}'"),
                Backend::Postgres => format!("coalesce({alias}.data::json ->> '{field}', '') = '{expected}'"),
            }
        }
        Cond::State(states) => format!("coalesce({alias}.state, '') IN ({})", listed(states)),
        Cond::Before(field, when) => {
            let value = value_sql(backend, &alias, field);
            format!("({value} <> '' AND {value} < {})", literal(dates.of(*when)))
        }
        Cond::Since(field, when) => format!("{} >= {}", value_sql(backend, &alias, field), literal(dates.of(*when))),
        Cond::LinkedFrom { field, from, with } => {
            let inner = format!("r{}", depth + 1);
            let mut sql = format!(
                "EXISTS (SELECT 1 FROM record_links l{depth} JOIN records {inner} ON {inner}.org_id = l{depth}.org_id AND {inner}.id = l{depth}.from_id \
                 WHERE l{depth}.org_id = {alias}.org_id AND l{depth}.to_id = {alias}.id AND l{depth}.field = {} \
                 AND {inner}.kind = {} AND {inner}.archived = FALSE",
                literal(field),
                literal(from)
            );
            for condition in *with {
                sql.push_str(" AND ");
                sql.push_str(&cond_sql(backend, condition, depth + 1, dates));
            }
            sql.push(')');
            sql
        }
        Cond::Not(inner) => format!("NOT ({})", cond_sql(backend, inner, depth, dates)),
        Cond::Any(conds) if conds.is_empty() => "1 = 0".to_owned(),
        Cond::All(conds) if conds.is_empty() => "1 = 1".to_owned(),
        Cond::Any(conds) => joined(backend, conds, " OR ", depth, dates),
        Cond::All(conds) => joined(backend, conds, " AND ", depth, dates),
    }
}

fn joined(backend: Backend, conds: &[Cond], with: &str, depth: usize, dates: &Dates) -> String {
    let parts: Vec<String> = conds.iter().map(|c| cond_sql(backend, c, depth, dates)).collect();
    format!("({})", parts.join(with))
}

fn name_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "coalesce(json_extract(r0.data, '$.name'), json_extract(r0.data, '$.title'), r0.ref, r0.id)",
        Backend::Postgres => "coalesce(r0.data::json ->> 'name', r0.data::json ->> 'title', r0.ref, r0.id)",
    }
}

/// The live records of `kind` matching `cond`, first `sample` in creation order, each row with
/// how many match (up to [`COUNT_CAP`]).
fn matching_sql(backend: Backend, index: usize, kind: &str, cond: &Cond, sample: i64, dates: &Dates) -> String {
    format!(
        "SELECT * FROM (SELECT CAST({index} AS BIGINT) AS rule, m.id, m.name, m.ref, COUNT(*) OVER () AS total FROM \
         (SELECT r0.seq, r0.id, {name} AS name, r0.ref FROM records r0 WHERE r0.org_id = $1 AND r0.kind = {kind} AND r0.archived = FALSE \
         AND {cond} ORDER BY r0.seq LIMIT {COUNT_CAP}) m ORDER BY m.seq LIMIT {sample}) q{index}",
        name = name_sql(backend),
        kind = literal(kind),
        cond = cond_sql(backend, cond, 0, dates),
    )
}

type MatchRow = (i64, String, Option<String>, Option<String>, i64);

/// What the store finds for each rule, in the rules' order: the first `sample` offending records
/// and their capped count (for an organisation-wide rule, the records that satisfy it).
pub async fn find(db: &Db, org_id: &str, rules: &[Rule], sample: i64, dates: &Dates) -> StoreResult<Vec<Found>> {
    let backend = db.backend();
    let parts: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| match rule.scope {
            Scope::Each(cond) => matching_sql(backend, index, rule.kind, &cond, sample, dates),
            Scope::Absent(cond) => matching_sql(backend, index, rule.kind, &cond, 1, dates),
        })
        .collect();
    let mut found = vec![Found::default(); rules.len()];
    if parts.is_empty() {
        return Ok(found);
    }
    let sql = parts.join(" UNION ALL ");
    let rows: Vec<MatchRow> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql.clone())).bind(org_id).fetch_all(pool).await?
    });
    for (rule, id, name, reference, total) in rows {
        if let Some(entry) = usize::try_from(rule).ok().and_then(|index| found.get_mut(index)) {
            entry.total = total;
            entry.records.push(Offender { name: name.unwrap_or_else(|| id.clone()), id, reference });
        }
    }
    Ok(found)
}

/// The requirements (clause leaves, about thirty) with their gap-assessment status.
pub async fn requirements(db: &Db, org_id: &str) -> StoreResult<Vec<(Offender, Option<String>)>> {
    let backend = db.backend();
    let sql = format!(
        "SELECT r0.id, {name}, r0.ref, {status} FROM records r0 WHERE r0.org_id = $1 AND r0.kind = 'requirement' AND r0.archived = FALSE ORDER BY r0.seq",
        name = name_sql(backend),
        status = value_sql(backend, "r0", "status"),
    );
    let rows: Vec<(String, Option<String>, Option<String>, String)> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql.clone())).bind(org_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, name, reference, status)| {
            (Offender { name: name.unwrap_or_else(|| id.clone()), id, reference }, Some(status).filter(|s| !s.is_empty()))
        })
        .collect())
}

/// How many live records show each signal, counted up to [`COUNT_CAP`], in one statement.
pub async fn signal_counts(db: &Db, org_id: &str, signals: &[Signal], dates: &Dates) -> StoreResult<Vec<i64>> {
    use sqlx::Row as _;
    if signals.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.backend();
    let columns: Vec<String> = signals
        .iter()
        .map(|signal| {
            format!(
                "(SELECT COUNT(*) FROM (SELECT 1 FROM records r0 WHERE r0.org_id = $1 AND r0.kind = {} AND r0.archived = FALSE AND {} LIMIT {COUNT_CAP}) c)",
                literal(signal.kind),
                cond_sql(backend, &signal.cond, 0, dates)
            )
        })
        .collect();
    let sql = format!("SELECT {}", columns.join(", "));
    let n = signals.len();
    let counts = on_pool!(db, pool => {
        let row = sqlx::query(AssertSqlSafe(sql.clone())).bind(org_id).fetch_one(pool).await?;
        (0..n).map(|i| row.try_get::<i64, _>(i)).collect::<Result<Vec<_>, _>>()?
    });
    Ok(counts)
}

/// One day's readiness as measured then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub day: String,
    pub overall: i64,
    pub gaps_high: i64,
    pub gaps_medium: i64,
    pub gaps_low: i64,
    /// The figures per clause and group, as JSON (`{"4": 80, "A.2": null, …}`).
    pub figures: String,
    pub taken_at: String,
}

/// Records the day's snapshot unless one exists: the first reading of a day stands. Answers
/// whether this call wrote it.
pub async fn record_snapshot(db: &Db, org_id: &str, snapshot: &Snapshot) -> StoreResult<bool> {
    let written = on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO readiness_snapshots (org_id, day, overall, gaps_high, gaps_medium, gaps_low, figures, taken_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, day) DO NOTHING",
        )
        .bind(org_id).bind(&snapshot.day).bind(snapshot.overall).bind(snapshot.gaps_high).bind(snapshot.gaps_medium)
        .bind(snapshot.gaps_low).bind(&snapshot.figures).bind(&snapshot.taken_at)
        .execute(pool).await?.rows_affected()
    });
    Ok(written > 0)
}

/// Whether the organisation has a snapshot for the day (so a read can skip measuring again).
pub async fn has_snapshot(db: &Db, org_id: &str, day: &str) -> StoreResult<bool> {
    let found: Option<(i64,)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM readiness_snapshots WHERE org_id = $1 AND day = $2")
            .bind(org_id).bind(day).fetch_optional(pool).await?
    });
    Ok(found.is_some())
}

type SnapshotRow = (String, i64, i64, i64, i64, String, String);

/// The snapshots from `since` on, oldest first, at most `limit` of them after day `after`.
pub async fn history(db: &Db, org_id: &str, since: &str, after: &str, limit: i64) -> StoreResult<Vec<Snapshot>> {
    let rows: Vec<SnapshotRow> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT day, overall, gaps_high, gaps_medium, gaps_low, figures, taken_at FROM readiness_snapshots \
             WHERE org_id = $1 AND day >= $2 AND day > $3 ORDER BY day LIMIT $4",
        )
        .bind(org_id).bind(since).bind(after).bind(limit).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(day, overall, gaps_high, gaps_medium, gaps_low, figures, taken_at)| Snapshot {
            day,
            overall,
            gaps_high,
            gaps_medium,
            gaps_low,
            figures,
            taken_at,
        })
        .collect())
}
