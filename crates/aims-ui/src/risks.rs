//! AI risk: the register with heat maps of inherent and residual positions under the
//! organisation's criteria, one risk's page (ratings, treatment, acceptance of the residual
//! risk), and the risk criteria themselves (matrix, levels, acceptance threshold).

use std::collections::HashMap;
use std::fmt::Write;

use aims_domain::kinds::{RISK, RISK_CRITERIA};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{DoneQuery, NewPageText, NewRecordPage, done_notice, field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, esc};
use crate::text::{datetime, humanize};

/// The organisation's criteria as the pages use them.
pub(crate) struct Criteria {
    pub likelihoods: Vec<String>,
    pub consequences: Vec<String>,
    /// `(name, min_score)`, lowest first.
    pub levels: Vec<(String, i64)>,
    pub threshold: String,
    pub version: i64,
}

impl Criteria {
    pub fn from_record(record: &Record) -> Self {
        let list = |f: &str| -> Vec<String> {
            record
                .data
                .get(f)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let levels = record
            .data
            .get("risk_levels")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|l| Some((l["name"].as_str()?.to_owned(), l["min_score"].as_i64()?))).collect())
            .unwrap_or_default();
        Self {
            likelihoods: list("likelihood_levels"),
            consequences: list("consequence_levels"),
            levels,
            threshold: field(record, "acceptance_threshold"),
            version: record.version,
        }
    }

    /// The level index of a score.
    pub fn level_index(&self, score: i64) -> Option<usize> {
        self.levels.iter().enumerate().filter(|(_, (_, min))| *min <= score).map(|(i, _)| i).last()
    }

    /// A colour class for a level, spread over five tones whatever the number of levels.
    pub fn tone(&self, index: usize) -> usize {
        let n = self.levels.len().max(2);
        (index * 4 + (n - 1) / 2) / (n - 1)
    }

    pub fn tone_of(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|(n, _)| n == name).map(|i| self.tone(i))
    }

    fn scales(&self) -> HashMap<&'static str, Vec<(i64, String)>> {
        let scale = |labels: &[String]| labels.iter().enumerate().map(|(i, l)| (i as i64 + 1, l.clone())).collect::<Vec<_>>();
        HashMap::from([
            ("inherent_likelihood", scale(&self.likelihoods)),
            ("residual_likelihood", scale(&self.likelihoods)),
            ("inherent_consequence", scale(&self.consequences)),
            ("residual_consequence", scale(&self.consequences)),
        ])
    }
}

pub(crate) async fn criteria(state: &UiState, ctx: &OrgCtx) -> Result<Criteria, UiError> {
    Ok(Criteria::from_record(&state.app.get_singleton(&ctx.member, &RISK_CRITERIA).await?))
}

/// A likelihood × consequence grid: likelihood rises upwards, consequence to the right; each
/// cell coloured by its level and showing how many risks sit there.
pub(crate) fn heat_map(criteria: &Criteria, which: &str, counts: &HashMap<(i64, i64), usize>) -> String {
    let total: usize = counts.values().sum();
    let mut cells: Vec<_> = counts.iter().filter(|(_, n)| **n > 0).collect();
    cells.sort();
    let placed: Vec<String> = cells
        .iter()
        .map(|((l, c), n)| {
            format!(
                "{n} at likelihood {} and consequence {}",
                criteria.likelihoods.get(*l as usize - 1).map_or("?", String::as_str),
                criteria.consequences.get(*c as usize - 1).map_or("?", String::as_str)
            )
        })
        .collect();
    let label = format!("Risk heat map — {which}: {total} risk{} rated", if total == 1 { "" } else { "s" });
    let marks = cells.iter().map(|(at, n)| (**at, (n.to_string(), format!("{n} risk{}", if **n == 1 { "" } else { "s" })))).collect();
    grid(criteria, &label, &placed.join("; "), &marks)
}

/// One risk's inherent (I) and residual (R) positions on the matrix.
pub(crate) fn position_map(criteria: &Criteria, inherent: Option<(i64, i64)>, residual: Option<(i64, i64)>) -> String {
    let mut marks: HashMap<(i64, i64), (String, String)> = HashMap::new();
    let mut desc = Vec::new();
    for (at, mark, name) in [(inherent, "I", "inherent"), (residual, "R", "residual")] {
        if let Some(at) = at {
            let entry = marks.entry(at).or_insert_with(|| (String::new(), String::new()));
            entry.0.push_str(mark);
            entry.1 = if entry.1.is_empty() { name.to_owned() } else { format!("{} and {name}", entry.1) };
            desc.push(format!(
                "{name} at likelihood {} and consequence {}",
                criteria.likelihoods.get(at.0 as usize - 1).map_or("?", String::as_str),
                criteria.consequences.get(at.1 as usize - 1).map_or("?", String::as_str)
            ));
        }
    }
    grid(criteria, "Risk heat map — this risk: I inherent, R residual", &desc.join("; "), &marks)
}

/// The matrix with a mark (short text, and words for its tooltip) in some cells.
fn grid(criteria: &Criteria, aria_label: &str, desc: &str, marks: &HashMap<(i64, i64), (String, String)>) -> String {
    const CELL: f64 = 56.0;
    const LEFT: f64 = 112.0;
    const TOP: f64 = 8.0;
    let rows = criteria.likelihoods.len();
    let cols = criteria.consequences.len();
    let width = LEFT + CELL * cols as f64 + 8.0;
    let height = TOP + CELL * rows as f64 + 64.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="heat-map" viewBox="0 0 {width} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><desc>{}</desc>"#,
        esc(aria_label),
        esc(desc)
    );
    for li in 0..rows {
        let likelihood = (rows - li) as i64;
        let y = TOP + CELL * li as f64;
        let label = criteria.likelihoods.get(likelihood as usize - 1).cloned().unwrap_or_default();
        let _ = write!(
            svg,
            r#"<text class="heat-axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + CELL / 2.0 + 4.0,
            esc(&crate::text::truncate(&label, 16))
        );
        for ci in 0..cols {
            let consequence = ci as i64 + 1;
            let x = LEFT + CELL * ci as f64;
            let score = likelihood * consequence;
            let index = criteria.level_index(score).unwrap_or(0);
            let level = criteria.levels.get(index).map_or("", |(n, _)| n.as_str());
            let mark = marks.get(&(likelihood, consequence));
            let _ = write!(
                svg,
                r#"<rect class="heat-cell heat-{}" x="{x}" y="{y}" width="{}" height="{}" rx="4"><title>{} × {} = {score}: {}{}</title></rect>"#,
                criteria.tone(index),
                CELL - 3.0,
                CELL - 3.0,
                esc(&label),
                esc(criteria.consequences.get(ci).map_or("", String::as_str)),
                esc(level),
                mark.map(|(_, words)| format!(", {words}")).unwrap_or_default()
            );
            if let Some((text, _)) = mark {
                let _ = write!(svg, r#"<circle class="heat-dot" cx="{}" cy="{}" r="14"/>"#, x + (CELL - 3.0) / 2.0, y + (CELL - 3.0) / 2.0);
                let _ = write!(
                    svg,
                    r#"<text class="heat-count" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                    x + (CELL - 3.0) / 2.0,
                    y + (CELL - 3.0) / 2.0 + 5.0,
                    esc(text)
                );
            }
        }
    }
    let base = TOP + CELL * rows as f64;
    for (ci, label) in criteria.consequences.iter().enumerate() {
        let x = LEFT + CELL * ci as f64 + (CELL - 3.0) / 2.0;
        let _ = write!(
            svg,
            r#"<text class="heat-axis heat-axis-x" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            base + 16.0,
            esc(&crate::text::truncate(label, 10))
        );
    }
    let _ = write!(
        svg,
        r#"<text class="heat-title" x="{}" y="{}" text-anchor="middle">Consequence →</text>"#,
        LEFT + CELL * cols as f64 / 2.0,
        base + 40.0
    );
    let _ = write!(
        svg,
        r#"<text class="heat-title" x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle">Likelihood →</text>"#,
        TOP + CELL * rows as f64 / 2.0,
        TOP + CELL * rows as f64 / 2.0
    );
    svg.push_str("</svg>");
    svg
}

// ---- the register ----

struct RiskRow {
    href: String,
    title: String,
    systems: String,
    inherent: String,
    inherent_tone: Option<usize>,
    residual: String,
    residual_tone: Option<usize>,
    above: bool,
    treatment: String,
    /// Treatment actions past their due date and not finished.
    overdue: i64,
    owner: String,
    state: String,
    updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "risks.html")]
struct RisksPage {
    shell: Shell,
    can_edit: bool,
    rows: Vec<RiskRow>,
    inherent_map: String,
    residual_map: String,
    legend: Vec<(String, usize, String)>,
    threshold: String,
    listing: crate::lists::Listing,
    path: String,
}

pub(crate) async fn list(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(params): Query<crate::lists::ListParams>,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(&state).await?;
    let options = Options::load(&state.app, &ctx.member, RISK.fields).await?;
    let systems_field = RISK.field("ai_system_ids").ok_or(UiError::NotFound)?;
    if params.wants_csv() {
        let header = ["id", "title", "ai_systems", "inherent_level", "residual_level", "treatment", "owner", "state"];
        let row = move |r: &Record| {
            vec![
                r.id.clone(),
                field(r, "title"),
                recform::show(systems_field, r.data.get("ai_system_ids"), &options),
                field(r, "inherent_level"),
                field(r, "residual_level"),
                field(r, "treatment"),
                names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                r.state.clone().unwrap_or_default(),
            ]
        };
        return Ok(crate::lists::csv(state.app.clone(), ctx.member.clone(), &RISK, &params, Vec::new(), "risks", &header, row));
    }
    let criteria = criteria(&state, &ctx).await?;
    let path = format!("/orgs/{}/risks", ctx.slug());
    let (risks, mut listing) = crate::lists::page(&state.app, &ctx.member, &RISK, &params, Vec::new(), &path).await?;
    crate::lists::filter_bar(&state.app, &ctx.member, &RISK, &members, &mut listing).await?;
    listing.offer_orders(&[("title", "Risk"), ("treatment", "Treatment"), ("updated", "Updated")]);
    let mut options = options;
    for risk in &risks {
        options.label_linked(&state.app, &ctx.member, RISK.fields, &risk.data).await?;
    }
    // The heat maps count every live risk, not the page shown, in one pass over them.
    let fields = ["inherent_likelihood", "inherent_consequence", "residual_likelihood", "residual_consequence"];
    let (mut inherent, mut residual) = (HashMap::new(), HashMap::new());
    for (values, n) in state.app.count_combinations(&ctx.member, &RISK, &fields).await? {
        let n = usize::try_from(n).unwrap_or(0);
        if let [Some(l), Some(c), ..] = values[..] {
            *inherent.entry((l, c)).or_insert(0) += n;
        }
        if let [_, _, Some(l), Some(c)] = values[..] {
            *residual.entry((l, c)).or_insert(0) += n;
        }
    }
    // Overdue treatment actions (actions linking the risk), counted for this page's risks only.
    let ids: Vec<String> = risks.iter().map(|r| r.id.clone()).collect();
    let overdue = state
        .app
        .count_linked_where(
            &ctx.member,
            &ids,
            aims_store::records::LinkSide::Incoming("risk_ids"),
            &aims_domain::kinds::ACTION,
            &aims_app::review::overdue_action_filters(&crate::common::today()),
        )
        .await?;
    let rows = risks
        .iter()
        .map(|r| {
            let inherent = field(r, "inherent_level");
            let residual = field(r, "residual_level");
            RiskRow {
                href: format!("/orgs/{}/risks/{}", ctx.slug(), r.id),
                title: field(r, "title"),
                systems: recform::show(systems_field, r.data.get("ai_system_ids"), &options),
                inherent_tone: criteria.tone_of(&inherent),
                inherent,
                residual_tone: criteria.tone_of(&residual),
                residual,
                above: r.data.get("residual_above_threshold") == Some(&Value::Bool(true)),
                treatment: humanize(&field(r, "treatment")),
                overdue: overdue.get(&r.id).copied().unwrap_or(0),
                owner: names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                state: r.state.clone().unwrap_or_default(),
                updated: crate::text::date(&r.updated_at),
            }
        })
        .collect();
    let legend = criteria
        .levels
        .iter()
        .enumerate()
        .map(|(i, (name, min))| {
            let next = criteria.levels.get(i + 1).map(|(_, m)| format!("{min}–{}", m - 1)).unwrap_or_else(|| format!("{min}+"));
            (name.clone(), criteria.tone(i), next)
        })
        .collect();
    Ok(RisksPage {
        shell: ctx.shell(Section::Risks),
        can_edit: ctx.can(Action::Edit),
        rows,
        inherent_map: heat_map(&criteria, "inherent", &inherent),
        residual_map: heat_map(&criteria, "residual", &residual),
        legend,
        threshold: criteria.threshold.clone(),
        listing,
        path,
    }
    .into_response())
}

// ---- new risk ----

#[derive(Deserialize, Default)]
pub(crate) struct NewRiskQuery {
    #[serde(default)]
    ai_system_id: String,
}

pub(crate) async fn new_form(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<NewRiskQuery>) -> Result<Response, UiError> {
    let mut values = Map::new();
    if !query.ai_system_id.is_empty() {
        values.insert("ai_system_ids".into(), json!([query.ai_system_id]));
    }
    render_new(&state, &ctx, values, Notice::None, FormErrors::default()).await
}

async fn render_new(
    state: &UiState,
    ctx: &OrgCtx,
    values: Map<String, Value>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let criteria = criteria(state, ctx).await?;
    let mut options = Options::load(&state.app, &ctx.member, RISK.fields).await?;
    options.scales = criteria.scales();
    let text = NewPageText {
        section: Section::Risks,
        eyebrow: "Risk register · 6.1.2, 8.2",
        title: "New risk",
        intro: "Rate likelihood and consequence on the organisation's scales before treatment (inherent) and after the selected controls (residual); the levels follow from the risk criteria.",
        back_label: "Risks",
        submit: "Save",
    };
    let back = format!("/orgs/{}/risks", ctx.slug());
    Ok(NewRecordPage::respond(ctx, text, back, RISK.fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(RISK.fields, &[], false);
    match state.app.create_record(&ctx.member, &RISK, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/risks/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one risk ----

#[derive(Template, WebTemplate)]
#[template(path = "risk.html")]
struct RiskPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    version: i64,
    state: String,
    links_out: Vec<crate::pages::Link>,
    links_in: Vec<crate::pages::Link>,
    status: String,
    status_label: String,
    updated: String,
    inherent: String,
    inherent_score: String,
    inherent_tone: Option<usize>,
    residual: String,
    residual_score: String,
    residual_tone: Option<usize>,
    above: bool,
    threshold: String,
    accepted: Option<(String, String, String)>,
    form_html: String,
    others: Vec<String>,
    rationale: String,
    rationale_error: Option<String>,
    position: String,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &RISK, &id).await?;
    let section = if query.done == "accepted" { "accept" } else { "top" };
    render_risk(&state, &ctx, &record, None, done_notice(&query.done), section, FormErrors::default(), String::new()).await
}

#[allow(clippy::too_many_arguments)]
async fn render_risk(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    values: Option<Map<String, Value>>,
    notice: Notice,
    notice_section: &'static str,
    errors: FormErrors,
    rationale: String,
) -> Result<Response, UiError> {
    let criteria = criteria(state, ctx).await?;
    let mut options = Options::load(&state.app, &ctx.member, RISK.fields).await?;
    options.scales = criteria.scales();
    options.label_linked(&state.app, &ctx.member, RISK.fields, &record.data).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "someone".into());
    let shown: Vec<&str> = RISK.fields.iter().map(|f| f.name).collect();
    // The risk page names everything the risk is linked to, both ways.
    let (_, linked) = state.app.trace(&ctx.member, &RISK, &record.id).await?;
    let (links_out, links_in) = crate::pages::trace_links(&ctx.slug(), &linked);
    let values = values.unwrap_or_else(|| record.data.clone());
    let inherent = field(record, "inherent_level");
    let residual = field(record, "residual_level");
    let accepted = (!field(record, "accepted_by").is_empty())
        .then(|| (name_of(&field(record, "accepted_by")), datetime(&field(record, "accepted_at")), field(record, "acceptance_rationale")));
    let form_errors = if notice_section == "accept" { FormErrors::default() } else { errors };
    let rationale_error = if notice_section == "accept" { form_errors.get("rationale") } else { None };
    let status = if matches!(notice, Notice::Invalid) { StatusCode::UNPROCESSABLE_ENTITY } else { crate::forms::status_for(&notice) };
    let rating =
        |p: &str| Some((record.data.get(&format!("{p}_likelihood"))?.as_i64()?, record.data.get(&format!("{p}_consequence"))?.as_i64()?));
    let position = position_map(&criteria, rating("inherent"), rating("residual"));
    let page = RiskPage {
        position,
        shell: ctx.shell(Section::Risks),
        can_edit: ctx.can(Action::Edit),
        id: record.id.clone(),
        title: field(record, "title"),
        version: record.version,
        state: record.state.clone().unwrap_or_default(),
        // The badge says what the form's Status says; acceptance is a badge of its own.
        status_label: RISK.field("status").map(|f| recform::show(f, record.data.get("status"), &options)).unwrap_or_default(),
        status: field(record, "status"),
        links_out,
        links_in,
        updated: format!(
            "{} by {}",
            datetime(&record.updated_at),
            record.updated_by.as_deref().map_or_else(|| "the system".into(), name_of)
        ),
        inherent_tone: criteria.tone_of(&inherent),
        inherent,
        inherent_score: field(record, "inherent_score"),
        residual_tone: criteria.tone_of(&residual),
        residual,
        residual_score: field(record, "residual_score"),
        above: record.data.get("residual_above_threshold") == Some(&Value::Bool(true)),
        threshold: criteria.threshold.clone(),
        accepted,
        form_html: recform::render(RISK.fields, &[], &values, &form_errors, &options),
        others: form_errors.others(&shown),
        rationale,
        rationale_error,
        notice,
        notice_section,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(RISK.fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, &RISK, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/risks/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let record = state.app.get_record(&ctx.member, &RISK, &id).await?;
            render_risk(&state, &ctx, &record, Some(patch), notice, "top", errors, String::new()).await
        }
    }
}

pub(crate) async fn accept(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let rationale = posted.one("rationale");
    let body = json!({ "rationale": rationale });
    match state.app.transition(&ctx.member, &RISK, &id, "accept", version_of(&posted), &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/risks/{id}?done=accepted#accept", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let record = state.app.get_record(&ctx.member, &RISK, &id).await?;
            render_risk(&state, &ctx, &record, None, notice, "accept", errors, rationale).await
        }
    }
}

// ---- risk criteria ----

#[derive(Template, WebTemplate)]
#[template(path = "risk_criteria.html")]
struct CriteriaPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    version: i64,
    updated: String,
    matrix: String,
    legend: Vec<(String, usize, String)>,
    threshold: String,
    form_html: String,
    others: Vec<String>,
}

pub(crate) async fn criteria_page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<DoneQuery>) -> Result<Response, UiError> {
    let record = state.app.get_singleton(&ctx.member, &RISK_CRITERIA).await?;
    render_criteria(&state, &ctx, &record, None, done_notice(&query.done), FormErrors::default()).await
}

async fn render_criteria(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    values: Option<Map<String, Value>>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let criteria = Criteria::from_record(record);
    let (_, names) = ctx.member_names(state).await?;
    let shown: Vec<&str> = RISK_CRITERIA.fields.iter().map(|f| f.name).collect();
    let values = values.unwrap_or_else(|| record.data.clone());
    let legend = criteria
        .levels
        .iter()
        .enumerate()
        .map(|(i, (name, min))| {
            let next = criteria.levels.get(i + 1).map(|(_, m)| format!("{min}–{}", m - 1)).unwrap_or_else(|| format!("{min}+"));
            (name.clone(), criteria.tone(i), next)
        })
        .collect();
    let status = crate::forms::form_status(&notice, &errors);
    let by = record.updated_by.as_ref().and_then(|u| names.get(u)).cloned().unwrap_or_else(|| "the system".into());
    let page = CriteriaPage {
        shell: ctx.shell(Section::Risks),
        can_edit: ctx.can(Action::Approve),
        version: criteria.version,
        updated: format!("{} by {by}", datetime(&record.updated_at)),
        matrix: heat_map(&criteria, "criteria matrix", &HashMap::new()),
        legend,
        threshold: criteria.threshold.clone(),
        form_html: recform::render(RISK_CRITERIA.fields, &[], &values, &errors, &Options::default()),
        others: errors.others(&shown),
        notice,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn criteria_save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(RISK_CRITERIA.fields, &[], true);
    match state.app.patch_singleton(&ctx.member, &RISK_CRITERIA, version_of(&posted), &Value::Object(patch.clone())).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/risk-criteria?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let record = state.app.get_singleton(&ctx.member, &RISK_CRITERIA).await?;
            render_criteria(&state, &ctx, &record, Some(patch), notice, errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_domain::kinds::risk::default_criteria;

    fn defaults() -> Criteria {
        let data = default_criteria().as_object().cloned().unwrap_or_default();
        Criteria::from_record(&Record {
            seq: 1,
            org_id: "o".into(),
            id: "c".into(),
            kind: "risk_criteria".into(),
            reference: None,
            version: 1,
            state: None,
            archived: false,
            data,
            created_at: String::new(),
            created_by: None,
            updated_at: String::new(),
            updated_by: None,
        })
    }

    #[test]
    fn heat_map_places_counts_and_colours_levels() {
        let criteria = defaults();
        assert_eq!(criteria.level_index(4), Some(0));
        assert_eq!(criteria.level_index(20), Some(3));
        assert_eq!(criteria.tone(0), 0);
        assert_eq!(criteria.tone(3), 4);
        let svg = heat_map(&criteria, "inherent", &HashMap::from([((4, 5), 2)]));
        assert!(svg.contains(r#"aria-label="Risk heat map — inherent: 2 risks rated""#));
        assert!(svg.contains("2 at likelihood Likely and consequence Severe"));
        assert_eq!(svg.matches("<rect").count(), 25);
    }
}
