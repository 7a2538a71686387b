//! Maturity assessments' pages: generated from the declaration, with the level scale shown
//! beside each assessment and, on the list, the levels of the latest assessments drawn as
//! grouped bars per dimension, so the trend between assessments reads at a glance.

use std::fmt::Write;

use aims_domain::kinds::MATURITY_ASSESSMENT;
use aims_domain::kinds::maturity::{DIMENSIONS, LEVELS};
use aims_store::model::Record;
use serde_json::Value;

use crate::UiState;
use crate::hooks::{PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section};
use crate::page_spec::{PAGE, PageSection, PageSpec};
use crate::text::esc;

/// Assessments the chart compares (the latest ones, oldest first).
const CHARTED: usize = 4;

pub(crate) static PAGES: &[PageSpec] = &[PageSpec {
    kind: &MATURITY_ASSESSMENT,
    title_field: "title",
    columns: &["assessed_on", "assessor_id"],
    facts: &["assessed_on", "assessor_id"],
    sections: &[
        PageSection { heading: "Governance", fields: &["governance_level", "governance_note"] },
        PageSection { heading: "Risk management", fields: &["risk_level", "risk_note"] },
        PageSection { heading: "Impact assessment", fields: &["impact_level", "impact_note"] },
        PageSection { heading: "AI system lifecycle", fields: &["lifecycle_level", "lifecycle_note"] },
        PageSection { heading: "Data", fields: &["data_level", "data_note"] },
        PageSection { heading: "Transparency", fields: &["transparency_level", "transparency_note"] },
        PageSection { heading: "Third parties", fields: &["third_parties_level", "third_parties_note"] },
        PageSection { heading: "Monitoring", fields: &["monitoring_level", "monitoring_note"] },
        PageSection { heading: "Improvement", fields: &["improvement_level", "improvement_note"] },
    ],
    serves: "Clauses 9.1 and 10.1",
    intro: "How mature the AI management system is, judged from 1 (initial) to 5 (improving) on nine dimensions. Assess it now and then to see the trend.",
    section: Section::Readiness,
    hooks: Some(&MaturityPanel),
    ..PAGE
}];

struct MaturityPanel;

fn scale_html() -> String {
    let mut html = String::from(
        r#"<section class="card maturity-scale" aria-labelledby="scale-h"><h2 id="scale-h">The levels</h2><dl class="scale">"#,
    );
    for (level, name, meaning) in LEVELS {
        let _ = write!(html, "<dt>{level} · {}</dt><dd>{}</dd>", esc(name), esc(meaning));
    }
    html.push_str("</dl></section>");
    html
}

fn level_of(record: &Record, dimension: &str) -> Option<i64> {
    record.data.get(&format!("{dimension}_level")).and_then(Value::as_i64)
}

fn label_of(record: &Record) -> String {
    let date = record.data.get("assessed_on").and_then(Value::as_str).unwrap_or_default();
    let title = record.data.get("title").and_then(Value::as_str).unwrap_or_default();
    if date.is_empty() { title.to_owned() } else { date.to_owned() }
}

/// Grouped horizontal bars: one group per dimension, one bar per assessment (oldest first),
/// with a table of the same figures for whoever prefers numbers.
pub(crate) fn levels_chart(assessments: &[Record]) -> String {
    const ROW: f64 = 12.0;
    const LABEL_W: f64 = 170.0;
    const BAR_W: f64 = 300.0;
    let group_h = ROW * assessments.len() as f64 + 10.0;
    let height = group_h * DIMENSIONS.len() as f64 + 24.0;
    let names: Vec<String> = assessments.iter().map(label_of).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart chart-maturity" viewBox="0 0 {} {height}" role="img" aria-labelledby="maturity-t" xmlns="http://www.w3.org/2000/svg"><title id="maturity-t">Maturity levels per dimension, assessments of {}</title>"#,
        LABEL_W + BAR_W + 40.0,
        esc(&names.join(", ")),
    );
    for tick in 1..=5 {
        let x = LABEL_W + BAR_W * f64::from(tick) / 5.0;
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{x}" x2="{x}" y1="0" y2="{}"/><text class="chart-axis" x="{x}" y="{}" text-anchor="middle">{tick}</text>"#,
            height - 20.0,
            height - 6.0
        );
    }
    for (d, (prefix, label)) in DIMENSIONS.iter().enumerate() {
        let top = group_h * d as f64 + 4.0;
        let _ = write!(svg, r#"<text class="chart-label" x="0" y="{}">{}</text>"#, top + group_h / 2.0, esc(label));
        for (i, record) in assessments.iter().enumerate() {
            let Some(level) = level_of(record, prefix) else { continue };
            let w = BAR_W * level as f64 / 5.0;
            let _ = write!(
                svg,
                r#"<rect class="series-{}" x="{LABEL_W}" y="{}" width="{w}" height="{}"><title>{}: {} {level}</title></rect>"#,
                series(i, assessments.len()),
                top + ROW * i as f64,
                ROW - 2.0,
                esc(label),
                esc(&names[i]),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The colour of the `i`th of `n` assessments: the latest is always the strongest.
fn series(i: usize, n: usize) -> usize {
    CHARTED.saturating_sub(n) + i
}

fn levels_table(assessments: &[Record]) -> String {
    // Scrolls inside its card on a phone rather than widening the page.
    let mut html = String::from(
        r#"<div class="table-scroll" tabindex="0" role="region" aria-label="Maturity levels per dimension"><table class="table maturity-table"><caption class="visually-hidden">Maturity levels per dimension</caption><thead><tr><th scope="col">Dimension</th>"#,
    );
    for (i, record) in assessments.iter().enumerate() {
        let _ = write!(
            html,
            r#"<th scope="col" class="col-num"><span class="swatch series-{}" aria-hidden="true"></span> {}</th>"#,
            series(i, assessments.len()),
            esc(&label_of(record))
        );
    }
    html.push_str("</tr></thead><tbody>");
    for (prefix, label) in DIMENSIONS {
        let _ = write!(html, r#"<tr><th scope="row">{}</th>"#, esc(label));
        for record in assessments {
            let shown = level_of(record, prefix).map_or_else(|| "–".to_owned(), |l| l.to_string());
            let _ = write!(html, r#"<td class="col-num">{shown}</td>"#);
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

impl PageHooks for MaturityPanel {
    fn panel<'a>(
        &'a self,
        _state: &'a UiState,
        _ctx: &'a OrgCtx,
        _record: &'a Record,
        _refused: Option<&'a PanelRefusal>,
    ) -> PanelFuture<'a> {
        Box::pin(async move { Ok(Some(scale_html())) })
    }

    fn list_panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx) -> PanelFuture<'a> {
        Box::pin(async move {
            // A handful of assessments a year: one page holds them all.
            let page = state.app.list_records(&ctx.member, &MATURITY_ASSESSMENT, false, 0, 200).await?;
            let mut assessments = page.items;
            if assessments.is_empty() {
                return Ok(None);
            }
            assessments.sort_by(|a, b| label_of(a).cmp(&label_of(b)));
            let latest: Vec<Record> = assessments.split_off(assessments.len().saturating_sub(CHARTED));
            Ok(Some(format!(
                r#"<section class="card maturity-trend" aria-labelledby="maturity-h"><header class="card-header"><h2 id="maturity-h">Levels over time</h2></header><div class="chart-wrap">{}</div>{}</section>{}"#,
                levels_chart(&latest),
                levels_table(&latest),
                scale_html()
            )))
        })
    }
}
