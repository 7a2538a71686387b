//! Evidence (7.5): the register of documented evidence with its review dates, the upload form
//! (a file plus what it supports), and one piece of evidence — its file, a download, the records
//! it supports, an edit form for its fields and links, a new version of its file and its history.
//!
//! Files arrive as `multipart/form-data`; the bytes are counted as they stream in, so a file
//! over the limit is refused without being held whole, and the form comes back with what was
//! typed and the reason next to the file field.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use aims_app::AppError;
use aims_app::evidence::{Download, Upload};

use aims_domain::kinds::{CONTROL, EVIDENCE, REQUIREMENT};
use aims_domain::policy::Action;
use aims_domain::validate::{FieldSpec, FieldType};
use aims_domain::{ValidationErrors, clock, uploads};
use aims_store::files::Content;
use aims_store::model::Record;
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::UiState;
use crate::catalogue;
use crate::common::{field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::picker::Search;
use crate::recform::{self, Options, Posted, esc, record_label};
use crate::text::{datetime, encode_query_value, humanize};

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/evidence", get(list).post(upload).layer(DefaultBodyLimit::disable()))
        .route("/orgs/{org}/evidence/{id}", get(detail).post(save))
        .route("/orgs/{org}/evidence/{id}/file", post(replace_file).layer(DefaultBodyLimit::disable()))
        .route("/orgs/{org}/evidence/{id}/download", get(download))
        .route("/orgs/{org}/evidence/{id}/archive", post(archive))
}

/// The fields the upload and edit forms show as ordinary inputs, in the order shown.
const DETAIL_FIELDS: &[&str] = &["title", "evidence_type", "owner_id", "review_by", "description"];
/// The links offered when uploading: the spine an auditor follows.
const UPLOAD_LINKS: &[&str] =
    &["ai_system_ids", "control_refs", "risk_ids", "requirement_refs", "impact_assessment_ids", "policy_ids", "dataset_ids"];
/// Every link the edit form offers (all of them, so saving never drops a link it did not show).
const ALL_LINKS: &[&str] = &[
    "ai_system_ids",
    "control_refs",
    "risk_ids",
    "requirement_refs",
    "impact_assessment_ids",
    "policy_ids",
    "dataset_ids",
    "supplier_ids",
    "objective_ids",
    "action_ids",
];
/// Text sent with a file (titles, descriptions, links) is small; more than this is not a form.
const MAX_TEXT_BYTES: usize = 1 << 20;
/// How far past the limit an oversized file is still read (and dropped), so the fields after
/// it arrive and the form can come back filled in; beyond this the request is cut off.
const DRAIN_BYTES: usize = 16 << 20;

fn specs(names: &[&str]) -> Vec<FieldSpec> {
    names.iter().filter_map(|n| EVIDENCE.field(n).copied()).collect()
}

/// `12.5 KB`, `3.1 MB`.
pub(crate) fn file_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 { format!("{value:.0} {}", UNITS[unit]) } else { format!("{value:.1} {}", UNITS[unit]) }
}

fn today() -> String {
    clock::format_date(clock::today())
}

/// A stored date before today (dates are `YYYY-MM-DD`, so text order is date order).
pub(crate) fn is_past(date: &str, today: &str) -> bool {
    !date.is_empty() && date < today
}

/// How many records a piece of evidence links to (its own link fields).
fn link_count(record: &Record) -> usize {
    ALL_LINKS.iter().map(|f| record.data.get(*f).and_then(Value::as_array).map_or(0, Vec::len)).sum()
}

fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

// ---- link pickers (also used by the policy form) ----

/// Catalogue rows offered in a picker: `(ref, "ref title")`, in natural order.
pub(crate) async fn catalogue_options(state: &UiState, ctx: &OrgCtx) -> Result<(Vec<(String, String)>, Vec<(String, String)>), UiError> {
    let label = |r: &Record| {
        let reference = catalogue::reference(r);
        let title = field(r, "title");
        (reference.clone(), if title.is_empty() { reference } else { format!("{reference} {title}") })
    };
    let controls = catalogue::all(&state.app, &ctx.member, &CONTROL).await?.iter().map(label).collect();
    let requirements = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?.iter().map(label).collect();
    Ok((controls, requirements))
}

/// A list of checkboxes in a scrolling box, the chosen ones first. Values chosen but not on
/// offer (an archived record) are kept as options, so saving does not drop them silently.
pub(crate) fn picker(name: &str, label: &str, offered: &[(String, String)], chosen: &[String], errors: &FormErrors) -> String {
    let mut options: Vec<(&str, &str, bool)> = Vec::new();
    for value in chosen {
        let shown = offered.iter().find(|(v, _)| v == value).map_or(value.as_str(), |(_, l)| l.as_str());
        options.push((value.as_str(), shown, true));
    }
    options.extend(offered.iter().filter(|(v, _)| !chosen.contains(v)).map(|(v, l)| (v.as_str(), l.as_str(), false)));
    let id = name.replace('_', "-");
    let (attrs, error) = match errors.get(name) {
        Some(message) => (
            format!(r#" aria-invalid="true" aria-describedby="{id}-error""#),
            format!(r#"<p class="field-error" id="{id}-error">{}</p>"#, esc(&message)),
        ),
        None => (String::new(), String::new()),
    };
    let mut html = format!(r#"<fieldset class="field checks picker"{attrs}><legend>{}</legend>"#, esc(label));
    if options.is_empty() {
        html.push_str(r#"<p class="hint">None recorded yet.</p>"#);
    } else {
        html.push_str(r#"<div class="picker-box">"#);
        for (i, (value, shown, checked)) in options.iter().enumerate() {
            let _ = write!(
                html,
                r#"<label class="check" for="{id}-{i}"><input type="checkbox" id="{id}-{i}" name="{name}" value="{}"{}> <span>{}</span></label>"#,
                esc(value),
                if *checked { " checked" } else { "" },
                esc(shown)
            );
        }
        html.push_str("</div>");
    }
    let _ = write!(html, "{error}</fieldset>");
    html
}

/// Every value posted under `name` (checkboxes), also splitting comma-separated text.
pub(crate) fn posted_list(posted: &Posted, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, value) in posted.0.iter().filter(|(k, _)| k == name) {
        for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            if !out.iter().any(|o| o == item) {
                out.push(item.to_owned());
            }
        }
    }
    out
}

fn list_in(values: &Map<String, Value>, name: &str) -> Vec<String> {
    values.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// Only the fields whose value differs from the record's: an unchanged form writes nothing
/// (every change of a revisioned record freezes a revision). Lists compare as sets.
pub(crate) fn changed_only(current: &Map<String, Value>, wanted: Map<String, Value>) -> Map<String, Value> {
    let same = |a: Option<&Value>, b: &Value| -> bool {
        let a = a.unwrap_or(&Value::Null);
        match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                let x: HashSet<String> = x.iter().map(Value::to_string).collect();
                let y: HashSet<String> = y.iter().map(Value::to_string).collect();
                x == y
            }
            (Value::Array(x), Value::Null) | (Value::Null, Value::Array(x)) => x.is_empty(),
            (Value::String(s), Value::Null) | (Value::Null, Value::String(s)) => s.is_empty(),
            _ => a == b,
        }
    };
    wanted.into_iter().filter(|(k, v)| !same(current.get(k), v)).collect()
}

/// The evidence form's inputs: the ordinary fields, then the pickers of the links named.
struct EvidenceForm<'a> {
    values: &'a Map<String, Value>,
    errors: &'a FormErrors,
}

impl EvidenceForm<'_> {
    /// A kind with more records than a form lists (`Options::large`) is linked through the
    /// searchable picker (see `picker`), showing what is linked; a smaller one, and the
    /// catalogue's controls and requirements, as a box of checkboxes.
    async fn render(&self, state: &UiState, ctx: &OrgCtx, links: &[&str]) -> Result<String, UiError> {
        let fields = specs(DETAIL_FIELDS);
        let link_specs = specs(links);
        let mut options = Options::load(&state.app, &ctx.member, &link_specs).await?;
        let values = self.as_typed(links);
        options.label_linked(&state.app, &ctx.member, &link_specs, &values).await?;
        let members = Options { members: options.members.clone(), ..Options::default() };
        let mut html = recform::render(&fields, &[], &values, self.errors, &members);
        let (controls, requirements) = catalogue_options(state, ctx).await?;
        html.push_str(r#"<div class="pickers" role="group" aria-labelledby="supports-legend"><p class="pickers-title" id="supports-legend">What it supports</p><div class="picker-grid">"#);
        for spec in &link_specs {
            let offered: Vec<(String, String)> = match (spec.name, spec.ty) {
                ("control_refs", _) => controls.clone(),
                ("requirement_refs", _) => requirements.clone(),
                (_, FieldType::Ids { kind }) if options.large.contains(kind) => {
                    html.push_str(&recform::render(std::slice::from_ref(spec), &[], &values, self.errors, &options));
                    continue;
                }
                (_, FieldType::Ids { kind }) => options.records.get(kind).cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            html.push_str(&picker(spec.name, spec.label, &offered, &list_in(&values, spec.name), self.errors));
        }
        html.push_str("</div></div>");
        Ok(html)
    }

    /// The values to show: a picker search sent without scripts (a GET of the page with the
    /// form as typed, see `picker`) brings what was typed, which is shown instead.
    fn as_typed(&self, links: &[&str]) -> Map<String, Value> {
        let mut values = self.values.clone();
        if let Some(search) = Search::current().filter(|s| links.contains(&s.field.as_str())) {
            values.extend(posted_json(&search.form, links, true));
        }
        values
    }
}

/// The posted evidence fields as JSON: ordinary fields through the field specs, links from
/// their checkboxes.
fn posted_json(posted: &Posted, links: &[&str], patch: bool) -> Map<String, Value> {
    let mut names: Vec<&str> = DETAIL_FIELDS.to_vec();
    names.extend(links.iter().filter(|l| !l.ends_with("_refs")));
    let mut json = posted.to_json(&specs(&names), &[], patch);
    for refs in links.iter().filter(|l| l.ends_with("_refs")) {
        json.insert((*refs).to_owned(), Value::Array(posted_list(posted, refs).into_iter().map(Value::String).collect()));
    }
    json
}

// ---- receiving files ----

/// A multipart form as received: its text fields and its file, if one was chosen.
struct Received {
    posted: Posted,
    file: Option<Upload>,
    /// The file was over the limit (its bytes were dropped).
    too_large: bool,
}

/// The content type for a file the browser could not name (`application/octet-stream`),
/// from its extension; the service still checks that the bytes agree.
fn guess_type(file_name: &str, declared: &str) -> String {
    let declared = declared.trim();
    if !declared.is_empty() && !declared.eq_ignore_ascii_case("application/octet-stream") {
        return declared.to_owned();
    }
    let extension = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let guessed = match extension.as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "ppt" => "application/vnd.ms-powerpoint",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "eml" => "message/rfc822",
        _ => declared,
    };
    guessed.to_owned()
}

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("The form could not be read: {why}. Go back and try again.")).into_response()
}

async fn receive(state: &UiState, mut multipart: Multipart) -> Result<Received, Response> {
    let limit = state.app.max_upload_bytes;
    let mut pairs = Vec::new();
    let mut file = None;
    let mut too_large = false;
    let mut text_bytes = 0usize;
    let broken = |e: axum::extract::multipart::MultipartError| bad_request(&e.body_text());
    while let Some(mut part) = multipart.next_field().await.map_err(broken)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = part.file_name().unwrap_or_default().to_owned();
            let declared = part.content_type().unwrap_or_default().to_owned();
            // The file streams into the store's staging area, hashed as it arrives.
            let mut stager = state.app.files.stage().await.map_err(|e| bad_request(&e.to_string()))?;
            let mut size = 0usize;
            while let Some(chunk) = part.chunk().await.map_err(broken)? {
                size += chunk.len();
                if size > limit {
                    too_large = true;
                    if size > limit.saturating_add(DRAIN_BYTES) {
                        // Stop reading: answer with what arrived so far.
                        return Ok(Received { posted: Posted(pairs), file: None, too_large });
                    }
                    continue;
                }
                stager.write(&chunk).await.map_err(|e| bad_request(&e.to_string()))?;
            }
            if !too_large && (!file_name.is_empty() || size > 0) {
                let content_type = guess_type(&file_name, &declared);
                let staged = stager.finish().await.map_err(|e| bad_request(&e.to_string()))?;
                file = Some(Upload { file_name, content_type, content: Content::Staged(staged) });
            }
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(broken)? {
                text_bytes += chunk.len();
                if text_bytes > MAX_TEXT_BYTES {
                    return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form's text is too long.").into_response());
                }
                text.extend_from_slice(&chunk);
            }
            pairs.push((name, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    Ok(Received { posted: Posted(pairs), file, too_large })
}

/// A refused upload as the form shows it: the notice, the field errors and the HTTP status.
fn upload_refusal(e: AppError, limit: usize) -> Result<(Notice, FormErrors, StatusCode), UiError> {
    match e {
        AppError::TooLarge(_) => Ok((Notice::Invalid, too_large_error(limit), StatusCode::PAYLOAD_TOO_LARGE)),
        AppError::UnsupportedFile(why) => {
            Ok((Notice::Invalid, FormErrors::single("file", &sentence(&why)), StatusCode::UNSUPPORTED_MEDIA_TYPE))
        }
        other => {
            let (notice, errors) = forms::rejected(other)?;
            let status = crate::forms::form_status(&notice, &errors);
            Ok((notice, errors, status))
        }
    }
}

fn too_large_error(limit: usize) -> FormErrors {
    FormErrors::single("file", &format!("The file is larger than the limit of {}. Choose a smaller file.", file_size(limit as i64)))
}

fn accept_attr() -> String {
    uploads::ACCEPTED_TYPES.join(",") + ",.md,.eml"
}

// ---- the register ----

struct EvidenceRow {
    href: String,
    title: String,
    kind: String,
    owner: String,
    file_name: String,
    size: String,
    review_by: String,
    overdue: bool,
    links: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "evidence_list.html")]
struct ListPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    rows: Vec<EvidenceRow>,
    total: i64,
    overdue_total: i64,
    listing: crate::lists::Listing,
    path: String,
    upload_html: String,
    others: Vec<String>,
    file_error: Option<String>,
    retry: bool,
    max_size: String,
    accept: String,
}

/// The evidence list's query: the list's own (search, filters, order, page) with two of the
/// page's own, "overdue" and `kind` (the evidence type, as links made before the filter bar
/// name it), and the AI system an upload from its page is linked to.
fn list_params(mut params: crate::lists::ListParams) -> crate::lists::ListParams {
    if let Some(kind) = params.rest.remove("kind") {
        params.rest.entry("evidence_type".into()).or_insert(kind);
    }
    params
}

/// Overdue for review: a review date before today.
fn overdue_filter() -> Filter {
    Filter::Before { field: "review_by", date: today() }
}

pub(crate) async fn list(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(params): Query<crate::lists::ListParams>,
) -> Result<Response, UiError> {
    let params = list_params(params);
    let overdue_only = params.rest.get("overdue").is_some_and(|v| !v.is_empty());
    let extra = if overdue_only { vec![overdue_filter()] } else { Vec::new() };
    if params.wants_csv() {
        let (_, names) = ctx.member_names(&state).await?;
        let header = ["id", "title", "evidence_type", "owner", "file_name", "size_bytes", "review_by", "linked_records"];
        let row = move |r: &Record| {
            vec![
                r.id.clone(),
                field(r, "title"),
                field(r, "evidence_type"),
                names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                field(r, "file_name"),
                field(r, "size_bytes"),
                field(r, "review_by"),
                link_count(r).to_string(),
            ]
        };
        return Ok(crate::lists::csv(state.app.clone(), ctx.member.clone(), &EVIDENCE, &params, extra, "evidence", &header, row));
    }
    // Whoever uploads owns the evidence until they say otherwise.
    let mut values = Map::from_iter([
        ("owner_id".to_owned(), Value::String(ctx.member.user_id.clone())),
        ("evidence_type".to_owned(), Value::String("document".into())),
    ]);
    let ai_system_id = params.rest.get("ai_system_id").cloned().unwrap_or_default();
    crate::common::ForSystem { ai_system_id }.prefill(&mut values);
    render_list(&state, &ctx, &params, values, Notice::None, FormErrors::default(), StatusCode::OK, false).await
}

#[allow(clippy::too_many_arguments)]
async fn render_list(
    state: &UiState,
    ctx: &OrgCtx,
    params: &crate::lists::ListParams,
    values: Map<String, Value>,
    notice: Notice,
    errors: FormErrors,
    status: StatusCode,
    retry: bool,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(state).await?;
    let today = today();
    let overdue_only = params.rest.get("overdue").is_some_and(|v| !v.is_empty());
    let extra = if overdue_only { vec![overdue_filter()] } else { Vec::new() };
    let path = format!("/orgs/{}/evidence", ctx.slug());
    let (records, mut listing) = crate::lists::page(&state.app, &ctx.member, &EVIDENCE, params, extra, &path).await?;
    crate::lists::filter_bar(&state.app, &ctx.member, &EVIDENCE, &members, &mut listing).await?;
    listing.offer_orders(&[("title", "Evidence"), ("evidence_type", "Kind"), ("review_by", "Review by"), ("updated", "Updated")]);
    // The upload form below labels its fields with the declaration's labels: the filters
    // say it their own way, so each label names one control on the page.
    for control in &mut listing.controls {
        match control.name {
            "evidence_type" => control.label = "Kind".into(),
            "owner_id" => control.label = "Owned by".into(),
            _ => {}
        }
    }
    listing.controls.push(crate::lists::FilterControl {
        name: "overdue",
        label: "Review".into(),
        options: vec![(String::new(), "Any".into(), !overdue_only), ("1".into(), "Overdue for review".into(), overdue_only)],
    });
    if overdue_only {
        listing.keep("overdue", "1");
    }
    // The counts cover every piece of evidence, not the page shown.
    let total = state.app.count_records_where(&ctx.member, &EVIDENCE, &[]).await?;
    let overdue_total = state.app.count_records_where(&ctx.member, &EVIDENCE, &[overdue_filter()]).await?;
    let rows: Vec<EvidenceRow> = records
        .iter()
        .map(|r| {
            let review_by = field(r, "review_by");
            EvidenceRow {
                href: format!("/orgs/{}/evidence/{}", ctx.slug(), r.id),
                title: field(r, "title"),
                kind: humanize(&field(r, "evidence_type")),
                owner: names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                file_name: field(r, "file_name"),
                size: r.data.get("size_bytes").and_then(Value::as_i64).map(file_size).unwrap_or_default(),
                overdue: is_past(&review_by, &today),
                review_by,
                links: link_count(r),
            }
        })
        .collect();
    let can_edit = ctx.can(Action::Edit);
    let upload_html =
        if can_edit { EvidenceForm { values: &values, errors: &errors }.render(state, ctx, UPLOAD_LINKS).await? } else { String::new() };
    let mut shown: Vec<&str> = DETAIL_FIELDS.to_vec();
    shown.extend(UPLOAD_LINKS);
    shown.push("file");
    let page = ListPage {
        shell: ctx.shell(Section::Evidence),
        can_edit,
        total,
        overdue_total,
        rows,
        listing,
        path,
        upload_html,
        others: errors.others(&shown),
        file_error: errors.get("file"),
        retry,
        max_size: file_size(state.app.max_upload_bytes as i64),
        accept: accept_attr(),
        notice,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn upload(State(state): State<UiState>, ctx: OrgCtx, multipart: Multipart) -> Result<Response, UiError> {
    // The role is checked before the form is read: a refused upload is not received.
    state.app.may_upload(&ctx.member)?;
    let received = match receive(&state, multipart).await {
        Ok(received) => received,
        Err(response) => return Ok(response),
    };
    let metadata = posted_json(&received.posted, UPLOAD_LINKS, false);
    let limit = state.app.max_upload_bytes;
    let query = crate::lists::ListParams::default();
    let (notice, errors, status) = match received.file {
        _ if received.too_large => (Notice::Invalid, too_large_error(limit), StatusCode::PAYLOAD_TOO_LARGE),
        None => {
            // No file chosen: say so, with whatever else the fields lack.
            let mut errors = ValidationErrors::single("file", "required", "choose the file to upload");
            if let Err(more) = EVIDENCE.validate_create(&Value::Object(metadata.clone()), &[]) {
                errors.0.extend(more.0);
            }
            (Notice::Invalid, FormErrors::from_validation(errors), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Some(file) => match state.app.upload_evidence(&ctx.member, &Value::Object(metadata.clone()), file).await {
            Ok(record) => return Ok(Redirect::to(&format!("/orgs/{}/evidence/{}?done=uploaded", ctx.slug(), record.id)).into_response()),
            Err(e) => upload_refusal(e, limit)?,
        },
    };
    render_list(&state, &ctx, &query, metadata, notice, errors, status, true).await
}

// ---- one piece of evidence ----

struct SupportItem {
    href: Option<String>,
    label: String,
    detail: String,
}

struct SupportGroup {
    label: &'static str,
    items: Vec<SupportItem>,
}

struct RevisionRow {
    n: i64,
    what: &'static str,
    file_name: String,
    sha_prefix: String,
    by: String,
    when: String,
    href: String,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "evidence.html")]
struct DetailPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    kind: String,
    version: i64,
    archived: bool,
    updated: String,
    description: String,
    owner: String,
    review_by: String,
    overdue: bool,
    file_name: String,
    content_type: String,
    size: String,
    sha256: String,
    file_revision: String,
    uploaded_by: String,
    uploaded_at: String,
    download_href: String,
    supports: Vec<SupportGroup>,
    supports_count: usize,
    revisions: Vec<RevisionRow>,
    edit_html: String,
    edit_open: bool,
    others: Vec<String>,
    file_error: Option<String>,
    max_size: String,
    accept: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_notice(code: &str) -> (Notice, &'static str) {
    let (text, section) = match code {
        "uploaded" => ("Evidence uploaded. Its file and links are recorded below.", "top"),
        "saved" => return (Notice::Saved, "edit"),
        "unchanged" => ("Nothing changed, so nothing was saved.", "edit"),
        "file" => ("New version uploaded. The earlier file stays downloadable from the history.", "file"),
        "archived" => ("Evidence archived. It no longer counts as evidence for what it supported.", "top"),
        _ => return (Notice::None, "top"),
    };
    (Notice::Done(text.into()), section)
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let (notice, section) = done_notice(&query.done);
    render_detail(&state, &ctx, &id, None, notice, section, FormErrors::default(), StatusCode::OK).await
}

/// Where a linked record's page is, and a word about its state; the number orders the groups.
fn support_item(slug: &str, record: &Record) -> (usize, SupportItem) {
    let reference = catalogue::reference(record);
    let path_ref = encode_query_value(&reference).replace('/', "%2F");
    let page = |path: &str| Some(format!("/orgs/{slug}/{path}/{}", record.id));
    let name = record_label(record);
    let catalogue_name = format!("{reference} {}", field(record, "title"));
    let state = humanize(record.state.as_deref().unwrap_or_default());
    let residual = field(record, "residual_level");
    let (order, href, label, detail) = match record.kind.as_str() {
        "ai_system" => (0, page("ai-systems"), name, crate::text::stage_label(&field(record, "lifecycle_stage"))),
        "control" => {
            (1, Some(format!("/orgs/{slug}/controls/{path_ref}")), catalogue_name, humanize(&field(record, "implementation_status")))
        }
        "risk" => (2, page("risks"), name, if residual.is_empty() { String::new() } else { format!("Residual {residual}") }),
        "requirement" => (3, Some(format!("/orgs/{slug}/requirements/{path_ref}")), catalogue_name, humanize(&field(record, "status"))),
        "impact_assessment" => (4, page("impact-assessments"), name, state),
        "policy" => (5, page("policies"), name, crate::text::state_label(record.state.as_deref().unwrap_or_default())),
        "dataset" => (6, None, name, String::new()),
        "objective" => (7, page("objectives"), name, String::new()),
        "supplier" => (8, None, name, String::new()),
        "action" => (9, page("actions"), name, state),
        _ => (10, None, name, String::new()),
    };
    (order, SupportItem { href, label, detail })
}

fn group_label(order: usize) -> &'static str {
    [
        "AI systems",
        "Controls",
        "Risks",
        "Requirements",
        "Impact assessments",
        "Policies",
        "Datasets",
        "Objectives",
        "Suppliers",
        "Actions",
        "Other records",
    ]
    .get(order)
    .copied()
    .unwrap_or("Other records")
}

#[allow(clippy::too_many_arguments)]
async fn render_detail(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    values: Option<Map<String, Value>>,
    notice: Notice,
    notice_section: &'static str,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let (record, linked) = state.app.trace(&ctx.member, &EVIDENCE, id).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of =
        |user: &str| names.get(user).cloned().unwrap_or_else(|| if user.is_empty() { String::new() } else { "former member".into() });
    let slug = ctx.slug().to_owned();

    let mut seen = HashSet::new();
    let mut grouped: HashMap<usize, Vec<SupportItem>> = HashMap::new();
    for link in linked.iter().filter(|l| !l.record.archived) {
        if !seen.insert(link.record.id.clone()) {
            continue;
        }
        let (order, item) = support_item(&slug, &link.record);
        grouped.entry(order).or_default().push(item);
    }
    let mut orders: Vec<usize> = grouped.keys().copied().collect();
    orders.sort_unstable();
    let supports: Vec<SupportGroup> =
        orders.into_iter().map(|o| SupportGroup { label: group_label(o), items: grouped.remove(&o).unwrap_or_default() }).collect();
    let supports_count = supports.iter().map(|g| g.items.len()).sum();

    let history = state.app.revisions(&ctx.member, &EVIDENCE, &record.id).await?;
    let current_n = history.last().map(|r| r.n);
    let mut revisions = Vec::new();
    let mut previous: Option<&Map<String, Value>> = None;
    for revision in &history {
        let text = |f: &str| revision.data.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
        let sha = text("sha256");
        let what = match previous {
            None => "Uploaded",
            Some(before) if before.get("sha256") != revision.data.get("sha256") => "New file",
            // Only the envelope changed: archived.
            Some(before) if *before == revision.data => "Archived",
            Some(_) => "Details changed",
        };
        revisions.push(RevisionRow {
            n: revision.n,
            what,
            file_name: text("file_name"),
            sha_prefix: sha.chars().take(12).collect(),
            by: revision.created_by.as_deref().map(&name_of).unwrap_or_default(),
            when: datetime(&revision.created_at),
            href: format!("/orgs/{slug}/evidence/{}/download?revision={}", record.id, revision.n),
            current: Some(revision.n) == current_n,
        });
        previous = Some(&revision.data);
    }
    revisions.reverse();

    let can_edit = ctx.can(Action::Edit) && !record.archived;
    // Without the edit form, its notices go to the top of the page.
    let notice_section = if notice_section == "edit" && !can_edit { "top" } else { notice_section };
    // A picker search sent without scripts comes back to the edit form it was typed in.
    let edit_open = (!errors.is_empty() && notice_section == "edit") || Search::current().is_some();
    let form_values = values.unwrap_or_else(|| record.data.clone());
    let edit_html =
        if can_edit { EvidenceForm { values: &form_values, errors: &errors }.render(state, ctx, ALL_LINKS).await? } else { String::new() };
    let mut shown: Vec<&str> = DETAIL_FIELDS.to_vec();
    shown.extend(ALL_LINKS);
    shown.push("file");
    let review_by = field(&record, "review_by");
    let page = DetailPage {
        shell: ctx.shell(Section::Evidence),
        can_edit,
        id: record.id.clone(),
        title: field(&record, "title"),
        kind: humanize(&field(&record, "evidence_type")),
        version: record.version,
        archived: record.archived,
        updated: format!(
            "{} by {}",
            datetime(&record.updated_at),
            record.updated_by.as_deref().map_or_else(|| "the system".into(), &name_of)
        ),
        description: field(&record, "description"),
        owner: name_of(&field(&record, "owner_id")),
        overdue: is_past(&review_by, &today()),
        review_by,
        file_name: field(&record, "file_name"),
        content_type: field(&record, "content_type"),
        size: record.data.get("size_bytes").and_then(Value::as_i64).map(file_size).unwrap_or_default(),
        sha256: field(&record, "sha256"),
        file_revision: field(&record, "file_revision"),
        uploaded_by: name_of(&field(&record, "uploaded_by")),
        uploaded_at: datetime(&field(&record, "uploaded_at")),
        download_href: format!("/orgs/{slug}/evidence/{}/download", record.id),
        supports,
        supports_count,
        revisions,
        edit_html,
        edit_open,
        others: if notice_section == "file" { Vec::new() } else { errors.others(&shown) },
        file_error: if notice_section == "file" { errors.get("file") } else { None },
        max_size: file_size(state.app.max_upload_bytes as i64),
        accept: accept_attr(),
        notice,
        notice_section,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let wanted = posted_json(&posted, ALL_LINKS, true);
    let record = state.app.get_record(&ctx.member, &EVIDENCE, &id).await?;
    let version = version_of(&posted);
    let patch = changed_only(&record.data, wanted.clone());
    if patch.is_empty() && version == record.version {
        return Ok(Redirect::to(&format!("/orgs/{}/evidence/{id}?done=unchanged#edit", ctx.slug())).into_response());
    }
    match state.app.patch_record(&ctx.member, &EVIDENCE, &id, version, &Value::Object(patch)).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/evidence/{id}?done=saved#edit", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let status = crate::forms::form_status(&notice, &errors);
            render_detail(&state, &ctx, &id, Some(wanted), notice, "edit", errors, status).await
        }
    }
}

pub(crate) async fn replace_file(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, UiError> {
    state.app.may_upload(&ctx.member)?;
    let received = match receive(&state, multipart).await {
        Ok(received) => received,
        Err(response) => return Ok(response),
    };
    let limit = state.app.max_upload_bytes;
    let refusal = match received.file {
        _ if received.too_large => (Notice::Invalid, too_large_error(limit), StatusCode::PAYLOAD_TOO_LARGE),
        None => (Notice::Invalid, FormErrors::single("file", "Choose the file to upload."), StatusCode::UNPROCESSABLE_ENTITY),
        Some(file) => match state.app.replace_evidence_file(&ctx.member, &id, version_of(&received.posted), file).await {
            Ok(_) => return Ok(Redirect::to(&format!("/orgs/{}/evidence/{id}?done=file#file", ctx.slug())).into_response()),
            Err(e) => upload_refusal(e, limit)?,
        },
    };
    let (notice, errors, status) = refusal;
    render_detail(&state, &ctx, &id, None, notice, "file", errors, status).await
}

pub(crate) async fn archive(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    match state.app.archive_record(&ctx.member, &EVIDENCE, &id, version_of(&posted)).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/evidence/{id}?done=archived", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let status = crate::forms::status_for(&notice);
            render_detail(&state, &ctx, &id, None, notice, "top", errors, status).await
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct DownloadQuery {
    #[serde(default)]
    revision: Option<String>,
}

pub(crate) async fn download(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, UiError> {
    let revision = match query.revision.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(n) => Some(n.parse::<i64>().ok().filter(|n| *n >= 1).ok_or(UiError::NotFound)?),
    };
    let file = state.app.evidence_content(&ctx.member, &id, revision).await?;
    Ok(attachment(file))
}

/// A stored file sent as a download: never rendered by the browser (attachment, no sniffing).
fn attachment(file: Download) -> Response {
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    let name = uploads::safe_file_name(&file.file_name);
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"._-".contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"sha256:{}\"", file.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(file_size(12), "12 bytes");
        assert_eq!(file_size(2048), "2.0 KB");
        assert_eq!(file_size(25 * 1024 * 1024), "25.0 MB");
        assert_eq!(file_size(300 * 1024 * 1024), "300 MB");
    }

    #[test]
    fn unnamed_types_are_guessed_from_the_extension() {
        assert_eq!(guess_type("notes.md", "application/octet-stream"), "text/markdown");
        assert_eq!(guess_type("card.pdf", ""), "application/pdf");
        assert_eq!(guess_type("card.pdf", "text/plain"), "text/plain", "a declared type is kept");
        assert_eq!(guess_type("tool.exe", "application/octet-stream"), "application/octet-stream");
    }

    #[test]
    fn unchanged_fields_are_left_out_of_a_patch() {
        let current: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"title": "A", "risk_ids": ["1", "2"], "description": null})).unwrap_or_default();
        let wanted: Map<String, Value> = serde_json::from_value(
            serde_json::json!({"title": "A", "risk_ids": ["2", "1"], "description": null, "review_by": null, "policy_ids": []}),
        )
        .unwrap_or_default();
        assert!(changed_only(&current, wanted).is_empty());
        let wanted: Map<String, Value> = serde_json::from_value(serde_json::json!({"title": "B"})).unwrap_or_default();
        assert_eq!(changed_only(&current, wanted).len(), 1);
    }

    #[test]
    fn pickers_put_chosen_values_first_and_keep_unknown_ones() {
        let offered = vec![("a".to_owned(), "Alpha".to_owned()), ("b".to_owned(), "Beta".to_owned())];
        let html = picker("risk_ids", "Risks", &offered, &["b".to_owned(), "gone".to_owned()], &FormErrors::default());
        let beta = html.find("Beta").unwrap_or(usize::MAX);
        let alpha = html.find("Alpha").unwrap_or(0);
        assert!(beta < alpha);
        assert!(html.contains(r#"value="gone" checked"#));
        assert!(html.contains("<legend>Risks</legend>"));
    }
}
