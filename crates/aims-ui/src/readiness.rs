//! The readiness dashboard: the overall figure, bars per clause and per Annex A group, the
//! trend of the daily snapshots, what is missing for a Stage 1 audit, and the gaps grouped by
//! clause and group, each linking to the record that causes it. All of it is
//! `App::readiness`; this page only arranges it.

use aims_app::readiness::{GapView, Readiness};
use aims_domain::readiness::{AreaFigure, RuleSummary};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::UiState;
use crate::charts::{self, BarRow, Segment, TrendPoint, TrendTarget};
use crate::error::UiError;
use crate::layout::{OrgCtx, Section, Shell};

/// Days of history the trend shows.
const TREND_DAYS: i64 = 180;

/// One rule's gaps within an area: the rule once, then the records.
struct RuleGaps {
    rule_id: &'static str,
    title: &'static str,
    reference: &'static str,
    severity: &'static str,
    explanation: &'static str,
    records: Vec<GapView>,
    /// Offending records beyond those listed.
    more: i64,
    /// What to open for an organisation-wide gap ("Audits").
    kind_label: &'static str,
    /// The first place the rule is listed, which the Stage 1 list links to.
    anchor: bool,
}

/// A leaf clause's judgement beside what the record shows, as the table prints it.
struct EvidenceRow {
    clause: String,
    status: String,
    judged: String,
    shows: String,
}

/// A clause or group with its gaps.
struct AreaGaps {
    id: &'static str,
    title: &'static str,
    figure: Option<u32>,
    rules: Vec<RuleGaps>,
    /// Open on arrival: the area holds a high-severity gap.
    high: bool,
    /// Records listed under the area.
    listed: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "readiness.html")]
struct ReadinessPage {
    shell: Shell,
    readiness: Readiness,
    clause_chart: String,
    group_chart: String,
    trend_chart: Option<String>,
    snapshots: usize,
    areas: Vec<AreaGaps>,
    evidence: Vec<EvidenceRow>,
    /// Counts stop here; a count at it reads "or more".
    cap: i64,
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

fn bars(slug: &str, areas: &[AreaFigure], prefix: &str) -> Vec<BarRow> {
    areas
        .iter()
        .map(|area| {
            let figure = area.figure.unwrap_or(100) as usize;
            BarRow {
                label: format!("{prefix}{}  {}", area.id, area.title),
                href: format!("/orgs/{slug}/readiness#area-{}", area.id),
                segments: vec![
                    Segment { status: "in_place", label: "Ready", count: figure },
                    Segment { status: "missing", label: "Not ready", count: 100 - figure.min(100) },
                ],
                done: figure,
            }
        })
        .collect()
}

/// The gaps of each area that has any, rules most severe first.
fn group_gaps(readiness: &Readiness) -> Vec<AreaGaps> {
    let mut areas = gaps_by_area(readiness);
    let mut anchored = std::collections::HashSet::new();
    for rule in areas.iter_mut().flat_map(|a| &mut a.rules) {
        rule.anchor = anchored.insert(rule.rule_id);
    }
    areas
}

fn gaps_by_area(readiness: &Readiness) -> Vec<AreaGaps> {
    let all_areas = readiness.clauses.iter().chain(&readiness.groups);
    all_areas
        .filter_map(|area| {
            let mut rules: Vec<RuleGaps> = Vec::new();
            for gap in readiness.gaps.iter().filter(|g| g.area == area.id) {
                match rules.iter_mut().find(|r| r.rule_id == gap.rule_id) {
                    Some(rule) => rule.records.push(gap.clone()),
                    None => rules.push(RuleGaps {
                        rule_id: gap.rule_id,
                        title: gap.title,
                        reference: gap.reference,
                        severity: gap.severity.as_str(),
                        explanation: gap.explanation,
                        records: vec![gap.clone()],
                        more: 0,
                        kind_label: aims_domain::kinds::ALL
                            .iter()
                            .find(|spec| spec.kind == gap.record_kind)
                            .map_or("records", |spec| spec.plural_label),
                        anchor: false,
                    }),
                }
            }
            if rules.is_empty() {
                return None;
            }
            for rule in &mut rules {
                let count = summary(&readiness.rules_failing, rule.rule_id).map_or(0, |s| s.count);
                // Rules about controls spread over groups: only a single-area rule's count says
                // how many records were left out of the list.
                let spread = readiness.gaps.iter().any(|g| g.rule_id == rule.rule_id && g.area != area.id);
                if !spread && rule.records.iter().all(|r| r.record_id.is_some()) {
                    rule.more = (count - rule.records.len() as i64).max(0);
                }
            }
            rules.sort_by_key(|r| severity_rank(r.severity));
            let high = rules.iter().any(|r| r.severity == "high");
            let listed = rules.iter().map(|r| r.records.len() + r.more as usize).sum();
            Some(AreaGaps { id: area.id, title: area.title, figure: area.figure, rules, high, listed })
        })
        .collect()
}

fn summary<'a>(failing: &'a [RuleSummary], rule_id: &str) -> Option<&'a RuleSummary> {
    failing.iter().find(|s| s.rule_id == rule_id)
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let readiness = state.app.readiness(&ctx.member).await?;
    let slug = ctx.slug().to_owned();
    let since = time::Date::from_julian_day(aims_domain::clock::today().to_julian_day() - TREND_DAYS as i32)
        .map(aims_domain::clock::format_date)
        .unwrap_or_default();
    let history = state.app.readiness_history(&ctx.member, &since, "", TREND_DAYS + 1).await?;
    let points: Vec<TrendPoint> = history.iter().map(|p| TrendPoint { date: p.day.clone(), value: p.overall as f64 }).collect();
    let goal = TrendTarget { target: 100.0, at_most: false, baseline: None, unit: "%" };
    let trend_chart = (points.len() >= 2).then(|| charts::trend("readiness-trend", "Overall readiness by day", &points, &goal));
    let clause_chart = charts::stacked_bars("readiness-clauses", "Readiness per clause", &bars(&slug, &readiness.clauses, "Clause "));
    let group_chart = charts::stacked_bars("readiness-groups", "Readiness per Annex A group", &bars(&slug, &readiness.groups, ""));
    let areas = group_gaps(&readiness);
    let evidence = readiness
        .clause_evidence
        .iter()
        .map(|row| EvidenceRow {
            clause: row.clause.clone(),
            status: row.judged.clone().unwrap_or_default(),
            judged: row.judged.as_deref().map_or_else(|| "not judged".to_owned(), |s| s.replace('_', " ")),
            shows: format!("{}{} {}", row.count, if row.count >= aims_store::readiness::COUNT_CAP { "+" } else { "" }, row.shows),
        })
        .collect();
    Ok(ReadinessPage {
        shell: ctx.shell(Section::Readiness),
        clause_chart,
        group_chart,
        trend_chart,
        snapshots: history.len(),
        areas,
        evidence,
        cap: aims_store::readiness::COUNT_CAP,
        readiness,
    }
    .into_response())
}
