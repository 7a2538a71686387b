//! AI system impact assessments (6.1.4, 8.4, A.5): the form (affected parties and impacts as
//! rows), sign-off by someone other than the author, the re-assessment flag raised when the
//! system changes, and the frozen revisions.

use aims_domain::kinds::{AI_SYSTEM, IMPACT_ASSESSMENT};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{DoneQuery, NewPageText, NewRecordPage, done_notice, field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted};
use crate::text::{datetime, humanize};

#[derive(Deserialize, Default)]
pub(crate) struct NewQuery {
    #[serde(default)]
    ai_system_id: String,
}

pub(crate) async fn new_form(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<NewQuery>) -> Result<Response, UiError> {
    let mut values = Map::new();
    values.insert("ai_system_id".into(), json!(query.ai_system_id));
    render_new(&state, &ctx, values, Notice::None, FormErrors::default()).await
}

async fn render_new(
    state: &UiState,
    ctx: &OrgCtx,
    values: Map<String, Value>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let options = Options::load(&state.app, &ctx.member, IMPACT_ASSESSMENT.fields).await?;
    let system = values.get("ai_system_id").and_then(Value::as_str).unwrap_or_default();
    let back = if system.is_empty() {
        format!("/orgs/{}/ai-systems", ctx.slug())
    } else {
        format!("/orgs/{}/ai-systems/{system}#assessments", ctx.slug())
    };
    let text = NewPageText {
        section: Section::AiSystems,
        eyebrow: "AI system impact assessment · 6.1.4, 8.4",
        title: "New impact assessment",
        intro: "Who the system may affect — individuals, groups, society, the environment — and how. About people, not the organisation's objectives (that is the risk register). Signed off by an admin or owner who did not write it.",
        back_label: "AI system",
        submit: "Save",
    };
    Ok(NewRecordPage::respond(ctx, text, back, IMPACT_ASSESSMENT.fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(IMPACT_ASSESSMENT.fields, &[], false);
    match state.app.create_record(&ctx.member, &IMPACT_ASSESSMENT, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/impact-assessments/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

struct RevisionRow {
    href: String,
    n: i64,
    label: String,
    when: String,
    by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "impact.html")]
struct ImpactPage {
    shell: Shell,
    can_edit: bool,
    /// The sign-off is offered: this member may take it now, or was just refused with text typed.
    can_approve: bool,
    /// Why the sign-off is not offered to this member (the rule that refuses it).
    sign_refusal: Option<String>,
    /// The comment typed before a refused sign-off, given back.
    typed_comment: String,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    system_name: String,
    system_href: String,
    version: i64,
    state: String,
    state_label: String,
    updated: String,
    signed: Option<String>,
    sign_comment: String,
    due_reason: Option<String>,
    form_html: String,
    others: Vec<String>,
    revisions: Vec<RevisionRow>,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &IMPACT_ASSESSMENT, &id).await?;
    let section = if query.done == "signed" { "sign" } else { "top" };
    render(&state, &ctx, &record, None, done_notice(&query.done), section, FormErrors::default(), String::new()).await
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    values: Option<Map<String, Value>>,
    notice: Notice,
    notice_section: &'static str,
    errors: FormErrors,
    typed_comment: String,
) -> Result<Response, UiError> {
    let choices = state.app.transition_choices(&ctx.member, &IMPACT_ASSESSMENT, &record.id).await?;
    let sign_off = choices.iter().find(|c| c.name == "sign-off");
    let sign_refusal = sign_off.and_then(|c| c.refusal.as_ref()).filter(|r| r.rule != "state").map(|r| r.detail.clone());
    let mut options = Options::load(&state.app, &ctx.member, IMPACT_ASSESSMENT.fields).await?;
    options.label_linked(&state.app, &ctx.member, IMPACT_ASSESSMENT.fields, &record.data).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "someone".into());
    let shown: Vec<&str> = IMPACT_ASSESSMENT.fields.iter().map(|f| f.name).collect();
    let system_id = field(record, "ai_system_id");
    let system_name = state.app.get_record(&ctx.member, &AI_SYSTEM, &system_id).await.map(|s| field(&s, "name")).unwrap_or_default();
    let revisions = state
        .app
        .revisions(&ctx.member, &IMPACT_ASSESSMENT, &record.id)
        .await?
        .into_iter()
        .rev()
        .map(|r| RevisionRow {
            href: format!("/orgs/{}/impact-assessments/{}/revisions/{}", ctx.slug(), record.id, r.n),
            n: r.n,
            label: humanize(
                &r.data.get("overall_level").and_then(Value::as_str).map(|l| format!("{l} overall impact")).unwrap_or_default(),
            ),
            when: datetime(&r.created_at),
            by: r.created_by.as_deref().map(&name_of).unwrap_or_default(),
        })
        .collect();
    let state_code = record.state.clone().unwrap_or_default();
    let signed = (!field(record, "signed_off_by").is_empty()).then(|| {
        format!(
            "Revision {} signed off by {} on {}",
            field(record, "signed_off_revision"),
            name_of(&field(record, "signed_off_by")),
            datetime(&field(record, "signed_off_at"))
        )
    });
    let status = crate::forms::form_status(&notice, &errors);
    let page = ImpactPage {
        shell: ctx.shell(Section::AiSystems),
        can_edit: ctx.can(Action::Edit),
        can_approve: sign_off.is_some_and(|c| c.allowed()) || !typed_comment.is_empty(),
        sign_refusal,
        typed_comment,
        id: record.id.clone(),
        title: field(record, "title"),
        system_href: format!("/orgs/{}/ai-systems/{system_id}", ctx.slug()),
        system_name,
        version: record.version,
        state_label: humanize(&state_code),
        state: state_code,
        updated: format!(
            "{} by {}",
            datetime(&record.updated_at),
            record.updated_by.as_deref().map_or_else(|| "the system".into(), name_of)
        ),
        signed,
        sign_comment: field(record, "sign_off_comment"),
        due_reason: (record.data.get("reassessment_due") == Some(&Value::Bool(true))).then(|| field(record, "reassessment_reason")),
        form_html: recform::render(IMPACT_ASSESSMENT.fields, &[], &values.unwrap_or_else(|| record.data.clone()), &errors, &options),
        others: errors.others(&shown),
        revisions,
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
    let patch = posted.to_json(IMPACT_ASSESSMENT.fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, &IMPACT_ASSESSMENT, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/impact-assessments/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let record = state.app.get_record(&ctx.member, &IMPACT_ASSESSMENT, &id).await?;
            render(&state, &ctx, &record, Some(patch), notice, "top", errors, String::new()).await
        }
    }
}

pub(crate) async fn sign_off(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let comment = posted.one("comment");
    let body = if comment.is_empty() { json!({}) } else { json!({ "comment": comment }) };
    match state.app.transition(&ctx.member, &IMPACT_ASSESSMENT, &id, "sign-off", version_of(&posted), &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/impact-assessments/{id}?done=signed#sign", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            let record = state.app.get_record(&ctx.member, &IMPACT_ASSESSMENT, &id).await?;
            render(&state, &ctx, &record, None, notice, "sign", FormErrors::default(), comment).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "impact_revision.html")]
struct RevisionPage {
    shell: Shell,
    id: String,
    title: String,
    n: i64,
    when: String,
    by: String,
    facts: Vec<(&'static str, String)>,
    parties: Vec<(String, String)>,
    impacts: Vec<Vec<(&'static str, String)>>,
}

pub(crate) async fn revision(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, n)): Path<(String, String, i64)>,
) -> Result<Response, UiError> {
    let revision = state.app.revision(&ctx.member, &IMPACT_ASSESSMENT, &id, n).await?;
    let mut options = Options::load(&state.app, &ctx.member, IMPACT_ASSESSMENT.fields).await?;
    options.label_linked(&state.app, &ctx.member, IMPACT_ASSESSMENT.fields, &revision.data).await?;
    let (_, names) = ctx.member_names(&state).await?;
    let data = &revision.data;
    let text = |f: &str| data.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
    let facts = ["ai_system_id", "overall_level", "foreseeable_misuse", "mitigations", "residual_impact"]
        .iter()
        .filter_map(|f| IMPACT_ASSESSMENT.field(f))
        .map(|f| (f.label, recform::show(f, data.get(f.name), &options)))
        .chain([
            ("Signed off by", names.get(&text("signed_off_by")).cloned().unwrap_or_default()),
            ("Signed off at", datetime(&text("signed_off_at"))),
            ("Sign-off comment", text("sign_off_comment")),
        ])
        .collect();
    let rows = |f: &str| data.get(f).and_then(Value::as_array).cloned().unwrap_or_default();
    let parties = rows("affected_parties")
        .iter()
        .map(|p| (humanize(p["party"].as_str().unwrap_or_default()), p["description"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let impact_fields = match IMPACT_ASSESSMENT.field("impacts").map(|f| f.ty) {
        Some(aims_domain::validate::FieldType::Items { fields, .. }) => fields,
        _ => &[],
    };
    let impacts = rows("impacts")
        .iter()
        .map(|i| impact_fields.iter().map(|f| (f.label, recform::show(f, i.get(f.name), &options))).collect())
        .collect();
    Ok(RevisionPage {
        shell: ctx.shell(Section::AiSystems),
        id,
        title: text("title"),
        n: revision.n,
        when: datetime(&revision.created_at),
        by: revision.created_by.as_ref().and_then(|u| names.get(u)).cloned().unwrap_or_default(),
        facts,
        parties,
        impacts,
    }
    .into_response())
}
