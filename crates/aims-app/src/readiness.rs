//! Certification readiness (`aims_domain::readiness`): the facts gathered from the store in
//! three grouped reads (every rule's offenders, every clause's signal, the requirements), judged
//! by the domain, each gap given the page of the record that causes it; and the daily snapshot
//! that shows progress between management reviews.

use aims_domain::clock;
use aims_domain::kinds;
use aims_domain::policy::Action;
use aims_domain::readiness::{self, AreaFigure, ClauseEvidence, Facts, RuleSummary, Severity};
use aims_store::readiness::{self as store, Dates, Snapshot};
use serde::Serialize;

use crate::App;
use crate::error::AppResult;
use aims_store::model::Member;

/// Offending records listed per rule; the count goes on up to `store::COUNT_CAP`.
pub const SAMPLE: i64 = 50;

/// A gap as the API and pages show it: the rule and the record that causes it, with the page
/// to open (the record's, or its collection's for an organisation-wide gap).
#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    pub rule_id: &'static str,
    pub reference: &'static str,
    pub area: String,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
    pub record_kind: &'static str,
    pub record_id: Option<String>,
    pub record_name: Option<String>,
    pub record_ref: Option<String>,
    pub link: String,
}

/// Gaps counted by severity (every offending record, up to the count cap per rule).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct GapCounts {
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

/// The organisation's readiness now.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub day: String,
    pub assessed_at: String,
    /// Percent of the severity-weighted rules that pass (see `aims_domain::readiness`).
    pub overall: u32,
    pub gap_counts: GapCounts,
    pub clauses: Vec<AreaFigure>,
    pub groups: Vec<AreaFigure>,
    pub rules_failing: Vec<RuleSummary>,
    pub gaps: Vec<GapView>,
    /// What is missing for a Stage 1 audit: the high rules that fire and unsupported clauses.
    pub stage1: Vec<RuleSummary>,
    pub clause_evidence: Vec<ClauseEvidence>,
}

/// One day's snapshot as the history answers it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub day: String,
    pub overall: i64,
    pub gap_counts: GapCounts,
    pub figures: serde_json::Value,
    pub taken_at: String,
}

fn dates() -> Dates {
    let today = clock::today();
    // The same day a year earlier (29 February → 28 February).
    let year_ago = today
        .replace_year(today.year() - 1)
        .or_else(|_| today.replace_day(28).and_then(|d| d.replace_year(today.year() - 1)))
        .unwrap_or(today);
    Dates { today: clock::format_date(today), year_ago: clock::format_date(year_ago) }
}

/// The UI page of a record of `kind` (or its collection when there is no record).
pub fn record_link(org_slug: &str, kind: &str, id: Option<&str>, reference: Option<&str>) -> String {
    let Some(spec) = kinds::ALL.iter().find(|spec| spec.kind == kind) else {
        return format!("/orgs/{org_slug}/readiness");
    };
    let key = if spec.addressed_by_ref { reference.or(id) } else { id };
    match (spec.singleton, key) {
        (false, Some(key)) => format!("/orgs/{org_slug}/{}/{key}", spec.collection),
        _ => format!("/orgs/{org_slug}/{}", spec.collection),
    }
}

impl App {
    /// The organisation's readiness as the record stands, and the day's snapshot if none was
    /// taken yet (the first reading of a day is the one kept).
    pub async fn readiness(&self, member: &Member) -> AppResult<Readiness> {
        crate::access::require(member, Action::Read)?;
        let readiness = self.assess_readiness(member).await?;
        self.snapshot_readiness(&member.org_id, &readiness).await?;
        Ok(readiness)
    }

    async fn assess_readiness(&self, member: &Member) -> AppResult<Readiness> {
        let dates = dates();
        let org = member.org_id.as_str();
        let found = store::find(&self.db, org, readiness::RULES, SAMPLE, &dates).await?;
        let signals = store::signal_counts(&self.db, org, readiness::SIGNALS, &dates).await?;
        let requirements = store::requirements(&self.db, org).await?;
        let evaluation = readiness::evaluate(&Facts { found, signals, requirements });
        let stage1 = readiness::stage1(&evaluation).into_iter().cloned().collect();
        let mut gap_counts = GapCounts::default();
        for rule in &evaluation.failing {
            match rule.severity {
                Severity::High => gap_counts.high += rule.count,
                Severity::Medium => gap_counts.medium += rule.count,
                Severity::Low => gap_counts.low += rule.count,
            }
        }
        let gaps = evaluation
            .gaps
            .into_iter()
            .map(|gap| GapView {
                link: record_link(&member.org_slug, gap.record_kind, gap.record_id.as_deref(), gap.record_ref.as_deref()),
                rule_id: gap.rule_id,
                reference: gap.reference,
                area: gap.area,
                severity: gap.severity,
                title: gap.title,
                explanation: gap.explanation,
                record_kind: gap.record_kind,
                record_id: gap.record_id,
                record_name: gap.record_name,
                record_ref: gap.record_ref,
            })
            .collect();
        Ok(Readiness {
            day: dates.today,
            assessed_at: clock::now_text(),
            overall: evaluation.overall,
            gap_counts,
            clauses: evaluation.clauses,
            groups: evaluation.groups,
            rules_failing: evaluation.failing,
            gaps,
            stage1,
            clause_evidence: evaluation.clause_evidence,
        })
    }

    /// Writes the day's snapshot of this reading unless the day has one.
    async fn snapshot_readiness(&self, org_id: &str, readiness: &Readiness) -> AppResult<bool> {
        if store::has_snapshot(&self.db, org_id, &readiness.day).await? {
            return Ok(false);
        }
        let figures: serde_json::Map<String, serde_json::Value> = readiness
            .clauses
            .iter()
            .chain(&readiness.groups)
            .map(|area| (area.id.to_owned(), area.figure.map_or(serde_json::Value::Null, serde_json::Value::from)))
            .collect();
        let snapshot = Snapshot {
            day: readiness.day.clone(),
            overall: i64::from(readiness.overall),
            gaps_high: readiness.gap_counts.high,
            gaps_medium: readiness.gap_counts.medium,
            gaps_low: readiness.gap_counts.low,
            figures: serde_json::Value::Object(figures).to_string(),
            taken_at: readiness.assessed_at.clone(),
        };
        Ok(store::record_snapshot(&self.db, org_id, &snapshot).await?)
    }

    /// Takes the day's snapshot if none was taken yet (the scheduler's round): answers whether
    /// it measured.
    pub async fn readiness_snapshot_if_due(&self, member: &Member) -> AppResult<bool> {
        if store::has_snapshot(&self.db, &member.org_id, &clock::format_date(clock::today())).await? {
            return Ok(false);
        }
        let readiness = self.assess_readiness(member).await?;
        self.snapshot_readiness(&member.org_id, &readiness).await
    }

    /// The daily snapshots from `since` (a date) on, oldest first, after day `after` (the
    /// previous page's last day), at most `limit`.
    pub async fn readiness_history(&self, member: &Member, since: &str, after: &str, limit: i64) -> AppResult<Vec<HistoryPoint>> {
        crate::access::require(member, Action::Read)?;
        let rows = store::history(&self.db, &member.org_id, since, after, limit).await?;
        Ok(rows
            .into_iter()
            .map(|row| HistoryPoint {
                figures: serde_json::from_str(&row.figures).unwrap_or(serde_json::Value::Null),
                day: row.day,
                overall: row.overall,
                gap_counts: GapCounts { high: row.gaps_high, medium: row.gaps_medium, low: row.gaps_low },
                taken_at: row.taken_at,
            })
            .collect())
    }
}
