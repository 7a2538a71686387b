//! The reports page: each report with its formats (links to the API's `reports/{kind}`, which
//! a session may use, so downloads work without scripts), the closed reviews and audits the
//! per-record reports can be made from, and the documents issued — each marked **drifted**
//! when a record it was made from has changed since, naming those records.

use aims_app::reports::{IssuedView, REPORTS};
use aims_domain::kinds::{self, MANAGEMENT_REVIEW};
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::UiState;
use crate::error::UiError;
use crate::layout::{OrgCtx, Section, Shell};
use crate::text::encode_query_value;

const ISSUED_PAGE: i64 = 25;
/// How many closed reviews and audits the pickers offer (the most recent).
const SUBJECTS_SHOWN: u32 = 50;

#[derive(Deserialize, Default)]
pub(crate) struct ReportsQuery {
    #[serde(default)]
    cursor: String,
}

struct FormatLink {
    label: String,
    href: String,
}

struct ReportRow {
    kind: &'static str,
    title: &'static str,
    summary: &'static str,
    /// Formats as direct links (reports about the whole organisation).
    links: Vec<FormatLink>,
    /// For a report about one record: the records to choose from and the formats.
    subjects: Option<Vec<(String, String)>>,
    formats: Vec<&'static str>,
    action: String,
}

struct ChangedRecord {
    label: String,
    href: Option<String>,
    versions: String,
}

struct IssuedRow {
    date: String,
    title: String,
    format: String,
    file_name: String,
    issued_by: String,
    sha256: String,
    changed: Vec<ChangedRecord>,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
struct ReportsPage {
    shell: Shell,
    reports: Vec<ReportRow>,
    issued: Vec<IssuedRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    problem: Option<String>,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<ReportsQuery>) -> Result<Response, UiError> {
    let api = format!("/api/v1/orgs/{}/reports", ctx.slug());
    let mut reports = Vec::new();
    for spec in REPORTS {
        // JSON is a report's source data (for checking its hash), except the activity log's,
        // which is the signed export an outsider verifies.
        let signed = spec.kind == aims_app::reports::ACTIVITY;
        let formats: Vec<&'static str> = spec.formats.iter().map(|f| f.as_str()).filter(|f| signed || *f != "json").collect();
        let subjects = match spec.subject {
            Some(subject) => Some(subject_choices(&state, &ctx, subject).await?),
            None => None,
        };
        let links = if subjects.is_some() {
            Vec::new()
        } else {
            formats
                .iter()
                .map(|f| FormatLink {
                    label: if *f == "json" { "Signed JSON".into() } else { f.to_uppercase() },
                    href: format!("{api}/{}?format={f}", spec.kind),
                })
                .collect()
        };
        reports.push(ReportRow {
            kind: spec.kind,
            title: spec.title,
            summary: spec.summary,
            links,
            subjects,
            formats,
            action: format!("{api}/{}", spec.kind),
        });
    }
    let cursor = query.cursor.trim();
    let (page, problem) = match state.app.issued_documents(&ctx.member, (!cursor.is_empty()).then_some(cursor), ISSUED_PAGE).await {
        Ok(page) => (page, None),
        Err(aims_app::AppError::Validation(_)) => (
            state.app.issued_documents(&ctx.member, None, ISSUED_PAGE).await?,
            Some("That page link is not valid any more; showing the newest documents.".to_owned()),
        ),
        Err(other) => return Err(other.into()),
    };
    let base = format!("/orgs/{}/reports", ctx.slug());
    let next_href = page.next_cursor.map(|c| format!("{base}?cursor={}", encode_query_value(&c)));
    let first_href = (!cursor.is_empty()).then(|| base.clone());
    let issued = page.items.into_iter().map(|view| issued_row(ctx.slug(), view)).collect();
    Ok(ReportsPage { shell: ctx.shell(Section::Reports), reports, issued, next_href, first_href, problem }.into_response())
}

/// The records a per-record report can be made from: closed reviews, audits (newest last).
async fn subject_choices(
    state: &UiState,
    ctx: &OrgCtx,
    spec: &'static aims_domain::validate::KindSpec,
) -> Result<Vec<(String, String)>, UiError> {
    let filters = if spec.kind == MANAGEMENT_REVIEW.kind { vec![Filter::State("closed".into())] } else { Vec::new() };
    let page = state.app.list_records_where(&ctx.member, spec, false, &filters, 0, SUBJECTS_SHOWN).await?;
    Ok(page
        .items
        .iter()
        .rev()
        .map(|r| {
            let title = ["title", "name"].iter().find_map(|f| r.data.get(*f).and_then(Value::as_str)).unwrap_or(&r.id);
            (r.id.clone(), title.to_owned())
        })
        .collect())
}

fn issued_row(slug: &str, view: IssuedView) -> IssuedRow {
    let d = view.document;
    let title = REPORTS.iter().find(|s| s.kind == d.kind).map_or(d.kind.clone(), |s| s.title.to_owned());
    let changed = view
        .drifted
        .into_iter()
        .map(|r| {
            let spec = kinds::by_kind(&r.kind);
            let label = match (&r.reference, r.title.is_empty()) {
                (Some(reference), false) => format!("{reference} {}", r.title),
                (Some(reference), true) => reference.clone(),
                (None, false) => r.title.clone(),
                (None, true) => r.id.clone(),
            };
            let label = format!("{}: {label}", spec.map_or(r.kind.as_str(), |s| s.label));
            let href = spec.filter(|s| s.parent.is_none()).map(|s| {
                if s.singleton {
                    format!("/orgs/{slug}/{}", s.collection)
                } else {
                    format!("/orgs/{slug}/{}/{}", s.collection, r.reference.as_deref().filter(|_| s.addressed_by_ref).unwrap_or(&r.id))
                }
            });
            ChangedRecord { label, href, versions: format!("version {} → {}", r.issued_version, r.current_version) }
        })
        .collect();
    IssuedRow {
        date: d.issued_at.get(..16).unwrap_or(&d.issued_at).replace('T', " "),
        title,
        format: d.format.to_uppercase(),
        file_name: d.file_name,
        issued_by: d.issued_by_name.unwrap_or_else(|| "aims command line".into()),
        sha256: d.sha256,
        changed,
    }
}
