//! An organisation larger than any page: 260 AI systems. A form saved unchanged from its page
//! keeps every link, even to records the form does not list, and every field; on SQLite and
//! PostgreSQL.

use aims_domain::identity::Role;
use aims_domain::kinds::{self, AI_SYSTEM, OBJECTIVE, RISK};
use aims_domain::validate::{FieldSpec, FieldType, KindSpec};
use aims_store::model::Member;
use axum::http::StatusCode;
use serde_json::json;

use crate::{TestUi, member_of, start_on};

const SYSTEMS: usize = 260;
/// Kinds with link fields whose pages have no edit form: none (a gate, requested and decided on
/// its AI system's page, has its own generated page too). The check names any that loses it.
const WITHOUT_EDIT_FORM: &[&str] = &[];

/// The `(name, value)` pairs a browser submits for the first form whose opening tag contains
/// `marker`: text inputs and hidden ones, checked boxes, each select's selected option (or its
/// first), and text areas.
pub(crate) fn form_fields(html: &str, marker: &str) -> Vec<(String, String)> {
    let start = html.find(marker).unwrap_or_else(|| panic!("form {marker}"));
    let form = &html[start..start + html[start..].find("</form>").expect("form end")];
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let tag_end = rest.find('>').expect("tag end");
        let tag = &rest[..tag_end];
        let name = tag.split([' ', '>']).next().unwrap_or_default();
        match name {
            "input" => {
                let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
                let Some(field) = attr(tag, "name") else { continue };
                if matches!(kind.as_str(), "checkbox" | "radio") && !has_flag(tag, "checked") || kind == "submit" {
                    continue;
                }
                fields.push((field, attr(tag, "value").unwrap_or_default()));
            }
            "select" => {
                let Some(field) = attr(tag, "name") else { continue };
                let body = &rest[tag_end + 1..rest.find("</select>").expect("select end")];
                let options: Vec<&str> = body.split("<option").skip(1).collect();
                let chosen = options.iter().find(|o| has_flag(o.split('>').next().unwrap_or_default(), "selected")).or(options.first());
                fields.push((field, chosen.and_then(|o| attr(o.split('>').next().unwrap_or_default(), "value")).unwrap_or_default()));
            }
            "textarea" => {
                let Some(field) = attr(tag, "name") else { continue };
                let body = &rest[tag_end + 1..rest.find("</textarea>").expect("textarea end")];
                fields.push((field, unescape(body)));
            }
            _ => {}
        }
    }
    fields
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    Some(unescape(&tag[start..start + tag[start..].find('"')?]))
}

fn has_flag(tag: &str, name: &str) -> bool {
    tag.split([' ', '>']).any(|word| word == name)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

async fn with_systems(ui: &TestUi) -> Vec<String> {
    let editor = member_of(ui, Role::Editor).await;
    let mut ids = Vec::new();
    for n in 1..=SYSTEMS {
        let body = json!({ "name": format!("Scale system {n:03}"), "intended_use": "Scoring at scale" });
        ids.push(ui.app.create_record(&editor, &AI_SYSTEM, &body).await.expect("system").id);
    }
    ids
}

/// Opens `path`, submits its edit form as it came and returns the stored record before and after.
async fn save_unchanged(ui: &TestUi, cookie: &str, spec: &'static aims_domain::validate::KindSpec, path: &str, id: &str) {
    let editor = member_of(ui, Role::Editor).await;
    let before = ui.app.get_record(&editor, spec, id).await.expect("record");
    let page = ui.get(path, Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    assert!(fields.iter().any(|(k, _)| k == "version"), "the form carries its version");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(path, Some(cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = ui.app.get_record(&editor, spec, id).await.expect("record");
    assert_eq!(after.data, before.data, "{path}: every field kept");
    assert_eq!(after.version, before.version, "{path}: nothing changed, nothing written");
}

/// The register pages by `rel="next"` links from the first system to the last, finds both by
/// `?q=`, and downloads all of them (and only the matching ones) as CSV.
async fn the_list_reaches_every_system(ui: &TestUi, cookie: &str) {
    let listed = ui.pages_of(cookie, "/orgs/demo/ai-systems").await;
    let pages = listed.len();
    let seen: Vec<String> =
        listed.iter().flat_map(|(_, body)| body.match_indices("Scale system ").map(|(i, _)| body[i..i + 16].to_owned())).collect();
    assert!(pages >= 6, "{SYSTEMS} systems (and the demo's) on pages of 50: {pages}");
    assert_eq!(seen.first().map(String::as_str), Some("Scale system 001"));
    assert_eq!(seen.last().map(String::as_str), Some("Scale system 260"));
    assert_eq!(seen.len(), SYSTEMS, "each system once");

    for wanted in ["Scale system 001", "Scale system 260"] {
        let found = ui.get(&format!("/orgs/demo/ai-systems?q={}", wanted.to_lowercase().replace(' ', "+")), Some(cookie)).await;
        assert_eq!(found.body.matches("Scale system ").count(), 1, "{wanted}");
        assert!(found.body.contains(wanted));
    }
    let csv = ui.get("/orgs/demo/ai-systems?format=csv", Some(cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap_or_default().starts_with("text/csv"));
    assert_eq!(csv.body.matches("Scale system ").count(), SYSTEMS, "every system, not one page");
    let some = ui.get("/orgs/demo/ai-systems?format=csv&q=system+25", Some(cookie)).await;
    assert_eq!(some.body.lines().count(), 1 + 10, "header and systems 250–259");
}

async fn links_to_the_last_system_survive_an_unchanged_save(ui: TestUi) {
    let systems = with_systems(&ui).await;
    let last = systems.last().expect("systems").clone();
    let editor = member_of(&ui, Role::Editor).await;
    let cookie = ui.sign_in(Role::Editor).await;
    the_list_reaches_every_system(&ui, &cookie).await;

    let risk = json!({
        "title": "Drift in the last system",
        "source_category": "technical",
        "ai_system_ids": [last],
        "inherent_likelihood": 3,
        "inherent_consequence": 4,
    });
    let risk = ui.app.create_record(&editor, &RISK, &risk).await.expect("risk");
    let page = ui.get(&format!("/orgs/demo/risks/{}", risk.id), Some(&cookie)).await;
    assert!(page.body.contains("Scale system 260"), "the form names the linked system it does not list");
    assert!(page.body.contains(&format!(r#"<a href="/orgs/demo/ai-systems/{last}">Scale system 260</a>"#)), "the risk links to its system");
    assert!(page.body.contains(r#"<span class="badge badge-identified">Identified</span>"#), "the badge says what Status says");
    save_unchanged(&ui, &cookie, &RISK, &format!("/orgs/demo/risks/{}", risk.id), &risk.id).await;
    let kept = ui.app.get_record(&editor, &RISK, &risk.id).await.expect("risk");
    assert_eq!(kept.data["ai_system_ids"], json!([last]));

    // A change to one field changes only that field.
    let mut fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    for (k, v) in &mut fields {
        if k == "title" {
            *v = "Drift in the last system, renamed".into();
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&format!("/orgs/demo/risks/{}", risk.id), Some(&cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let renamed = ui.app.get_record(&editor, &RISK, &risk.id).await.expect("risk");
    assert_eq!(renamed.data["title"], "Drift in the last system, renamed");
    assert_eq!(renamed.data["ai_system_ids"], json!([last]));

    // An objective linked to the last system, and the last system itself (its own link fields).
    let objective = json!({ "title": "Keep the last system fair", "metric": "Parity gap", "target": 0.05, "ai_system_ids": [last] });
    let objective = ui.app.create_record(&editor, &OBJECTIVE, &objective).await.expect("objective");
    save_unchanged(&ui, &cookie, &OBJECTIVE, &format!("/orgs/demo/objectives/{}", objective.id), &objective.id).await;
    let kept = ui.app.get_record(&editor, &OBJECTIVE, &objective.id).await.expect("objective");
    assert_eq!(kept.data["ai_system_ids"], json!([last]));

    the_picker_finds_and_links_the_last_system(&ui, &cookie, &risk.id, &systems).await;
    the_evidence_form_links_the_last_system(&ui, &cookie, &systems).await;
    every_kind_with_links_keeps_them(&ui, &cookie).await;
}

#[tokio::test]
async fn links_beyond_a_form_survive_an_unchanged_save_sqlite() {
    let Some(ui) = start_on(crate::Backend::Sqlite).await else { return };
    links_to_the_last_system_survive_an_unchanged_save(ui).await;
}

#[tokio::test]
async fn links_beyond_a_form_survive_an_unchanged_save_postgres() {
    let Some(ui) = start_on(crate::Backend::Postgres).await else { return };
    links_to_the_last_system_survive_an_unchanged_save(ui).await;
}

/// The generated pages of a declared kind: list, new, detail with links both ways, an unchanged
/// save and a change, the search; and a list for every declared kind.
#[tokio::test]
async fn declared_kinds_get_list_new_detail_and_edit_pages() {
    let ui = crate::start().await;
    let cookie = ui.sign_in(Role::Editor).await;
    for collection in [
        "context-issues",
        "interested-parties",
        "suppliers",
        "risk-sources",
        "datasets",
        "gates",
        "gate-requirements",
        "lifecycle-records",
        "impact-assessments",
    ] {
        let list = ui.get(&format!("/orgs/demo/{collection}"), Some(&cookie)).await;
        assert_eq!(list.status, StatusCode::OK, "{collection}: {}", list.body);
        assert!(list.body.contains(r#"name="q""#), "{collection} has a search");
    }
    let new = ui.get("/orgs/demo/suppliers/new", Some(&cookie)).await;
    assert_eq!(new.status, StatusCode::OK);
    let refused = ui.post("/orgs/demo/suppliers/new", Some(&cookie), &[("name", ""), ("contact_email", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "the name is required");
    let created =
        ui.post("/orgs/demo/suppliers/new", Some(&cookie), &[("name", "Model House Ltd"), ("supplied_ai", "A scoring model")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let path = created.location.expect("location").split('?').next().unwrap_or_default().to_owned();
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let editor = member_of(&ui, Role::Editor).await;
    let system = json!({ "name": "Supplied scorer", "supplier_ids": [id] });
    ui.app.create_record(&editor, &AI_SYSTEM, &system).await.expect("system");

    let page = ui.get(&path, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Model House Ltd</h1>"));
    assert!(page.body.contains("A scoring model"), "facts show what was entered");
    assert!(page.body.contains("Supplied scorer"), "the AI system linking to it is listed");
    save_unchanged(&ui, &cookie, &aims_domain::kinds::SUPPLIER, &path, &id).await;

    let mut fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    for (k, v) in &mut fields {
        if k == "contact_email" {
            *v = "ai@modelhouse.example".into();
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(&cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let supplier = ui.app.get_record(&editor, &aims_domain::kinds::SUPPLIER, &id).await.expect("supplier");
    assert_eq!(supplier.data["contact_email"], "ai@modelhouse.example");
    assert_eq!(supplier.data["supplied_ai"], "A scoring model");

    let found = ui.get("/orgs/demo/suppliers?q=model+house", Some(&cookie)).await;
    assert!(found.body.contains("Model House Ltd"));
    let none = ui.get("/orgs/demo/suppliers?q=nobody", Some(&cookie)).await;
    assert!(!none.body.contains("Model House Ltd"));
    let csv = ui.get("/orgs/demo/suppliers?format=csv", Some(&cookie)).await;
    assert!(csv.body.starts_with("id,name,risk_rating,next_review_on,owner_id\r\n"));
    assert!(csv.body.contains("Model House Ltd"));
    let viewer = ui.sign_in(Role::Viewer).await;
    let read_only = ui.get(&path, Some(&viewer)).await;
    assert!(!read_only.body.contains(r#"class="form form-2col""#), "a viewer gets no form");
    let refused = ui.post(&path, Some(&viewer), &pairs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// The newest record of `kind`, made (with what its required fields need) when there is none.
fn last_of<'a>(ui: &'a TestUi, editor: &'a Member, kind: &'a str) -> futures::future::BoxFuture<'a, String> {
    Box::pin(async move {
        let spec = kinds::by_kind(kind).unwrap_or_else(|| panic!("kind {kind}"));
        let mut after = 0;
        let mut last = None;
        loop {
            let page = ui.app.list_records(editor, spec, false, after, 200).await.expect("list");
            last = page.items.last().map(|r| r.id.clone()).or(last);
            match page.next_after {
                Some(next) => after = next,
                None => break,
            }
        }
        match last {
            Some(id) => id,
            None => {
                let body = sample_record(ui, editor, spec, false).await;
                ui.app.create_record(editor, spec, &body).await.unwrap_or_else(|e| panic!("a {kind} to link to: {e}")).id
            }
        }
    })
}

/// A record of `spec` with its required fields filled, and (with `links`) every link field
/// linked to the newest record of its kind.
async fn sample_record(ui: &TestUi, editor: &Member, spec: &KindSpec, links: bool) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    for field in spec.fields.iter().filter(|f| f.required || links && is_link(f.ty)) {
        if let Some(value) = sample_value(ui, editor, field, &field.name.to_owned()).await {
            body.insert(field.name.to_owned(), value);
        }
    }
    if spec.addressed_by_ref {
        // An organisation's own control: its reference is given on creation.
        body.insert("ref".into(), json!(format!("OWN-{}", uuid::Uuid::new_v4().simple())));
    }
    serde_json::Value::Object(body)
}

fn is_link(ty: FieldType) -> bool {
    matches!(ty, FieldType::Ids { .. } | FieldType::Link { .. })
}

fn sample_value<'a>(
    ui: &'a TestUi,
    editor: &'a Member,
    field: &'a FieldSpec,
    name: &'a str,
) -> futures::future::BoxFuture<'a, Option<serde_json::Value>> {
    Box::pin(async move {
        Some(match field.ty {
            FieldType::Text { max } => json!(format!("Sample {name}").chars().take(max).collect::<String>()),
            // The last choice: the first is often the state a rule starts from (a gate to `idea`).
            FieldType::Choice(values) => json!(values.last()?),
            FieldType::ChoiceList(values) => json!([values.first()?]),
            // An incident reported externally needs its regime too, which a sample does not pick.
            FieldType::Bool => json!(name != "external_report_required"),
            FieldType::Date => json!("2026-06-01"),
            FieldType::UserId => json!(editor.user_id),
            // A nonconformity's corrective actions are actions raised as corrective actions.
            FieldType::Ids { kind } if name == "corrective_action_ids" => {
                let raised = json!({"title": "Sample corrective action", "source": "corrective_action"});
                json!([ui.app.create_record(editor, kinds::by_kind(kind)?, &raised).await.ok()?.id])
            }
            FieldType::Ids { kind } => json!([last_of(ui, editor, kind).await]),
            FieldType::Link { kind } => json!(last_of(ui, editor, kind).await),
            FieldType::Refs { .. } => json!(["A.6.2.4"]),
            FieldType::TextList { .. } => json!(["Sample"]),
            FieldType::Integer { min, .. } => json!(min.max(1)),
            FieldType::Number => json!(1.5),
            FieldType::Items { fields, .. } => {
                let mut row = serde_json::Map::new();
                for sub in fields.iter().filter(|f| f.required) {
                    row.insert(sub.name.to_owned(), sample_value(ui, editor, sub, sub.name).await?);
                }
                json!([row])
            }
        })
    })
}

/// For every kind with link fields (read from the declarations): a record linked to the newest
/// record of each linked kind (the 260th AI system among them), opened on its page and saved
/// from its edit form as it came, keeps every field and link.
async fn every_kind_with_links_keeps_them(ui: &TestUi, cookie: &str) {
    let editor = member_of(ui, Role::Editor).await;
    let mut checked = Vec::new();
    let mut without_form = Vec::new();
    // The editor writes the kinds written with `edit`; audit records (the auditor's, with their
    // own rules on who audits) keep their links by the same forms, tested in `audit`.
    let edited = |k: &&&KindSpec| k.write == aims_domain::policy::Action::Edit;
    for spec in kinds::ALL
        .iter()
        .filter(edited)
        .filter(|k| k.creatable && !k.uploads && k.parent.is_none() && k.fields.iter().any(|f| is_link(f.ty)))
    {
        let body = sample_record(ui, &editor, spec, true).await;
        let record = ui.app.create_record(&editor, spec, &body).await.unwrap_or_else(|e| panic!("{}: {e}", spec.kind));
        let segment = record.reference.clone().filter(|_| spec.addressed_by_ref).unwrap_or(record.id.clone());
        let path = format!("/orgs/demo/{}/{segment}", spec.collection);
        let page = ui.get(&path, Some(cookie)).await;
        let link = spec.fields.iter().find(|f| is_link(f.ty)).expect("a link field").name;
        let Some(start) = edit_form(&page.body, link).filter(|_| page.status == StatusCode::OK) else {
            without_form.push(spec.kind);
            continue;
        };
        let form = &page.body[start..];
        let action = attr(&form[..form.find('>').expect("tag")], "action").unwrap_or_else(|| path.clone());
        let fields = form_fields(form, "<form");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let saved = ui.post(&action, Some(cookie), &pairs).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{path}: {}", saved.body);
        let after = ui.app.get_record(&editor, spec, &segment).await.expect("record");
        assert_eq!(after.data, record.data, "{path}: every field and link kept");
        assert_eq!(after.version, record.version, "{path}: nothing changed, nothing written");
        checked.push(spec.kind);
    }
    assert!(checked.contains(&"risk") && checked.contains(&"objective"), "{checked:?}");
    assert_eq!(without_form, WITHOUT_EDIT_FORM, "kinds with link fields and no edit form (checked: {checked:?})");
}

/// Where the edit form (the one with a version) that holds `field` starts.
fn edit_form(html: &str, field: &str) -> Option<usize> {
    html.match_indices("<form").map(|(i, _)| i).find(|&i| {
        let body = &html[i..i + html[i..].find("</form>").unwrap_or(html.len() - i)];
        body.contains(r#"name="version""#) && body.contains(&format!(r#"name="{field}""#))
    })
}

fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The risk's AI systems are a picker (260 are more than a form lists): it shows the linked
/// system; its search, sent without scripts, keeps what was typed and offers the matches to
/// tick; the ticked one is linked on save; the typeahead's fragment offers the same matches.
async fn the_picker_finds_and_links_the_last_system(ui: &TestUi, cookie: &str, risk: &str, systems: &[String]) {
    let path = format!("/orgs/demo/risks/{risk}");
    let (last, before_last) = (&systems[SYSTEMS - 1], &systems[SYSTEMS - 2]);
    let page = ui.get(&path, Some(cookie)).await;
    assert!(page.body.contains(r#"name="pick_q.ai_system_ids""#), "a search box");
    assert!(page.body.contains(r#"<label for="ai_system_ids-q">Search "#), "labelled");
    assert!(page.body.contains(r#"id="ai_system_ids-found" aria-live="polite""#), "results announced");
    assert!(!page.body.contains("Scale system 001"), "the form does not list 260 systems");
    assert!(page.body.contains(&format!(r#"name="ai_system_ids" value="{last}" checked> Scale system 260"#)), "the link, named");

    let start = edit_form(&page.body, "ai_system_ids").expect("edit form");
    let mut fields = form_fields(&page.body[start..], "<form");
    for (k, v) in &mut fields {
        if k == "title" {
            *v = "Typed, not yet saved".into();
        } else if k == "pick_q.ai_system_ids" {
            *v = "scale system 259".into();
        }
    }
    fields.push(("pick_field".into(), "ai_system_ids".into()));
    let query: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encoded(k), encoded(v))).collect();
    let searched = ui.get(&format!("{path}?{}", query.join("&")), Some(cookie)).await;
    assert_eq!(searched.status, StatusCode::OK);
    assert!(searched.body.contains(r#"value="Typed, not yet saved""#), "what was typed is kept");
    assert!(searched.body.contains(&format!(r#"name="ai_system_ids" value="{last}" checked>"#)), "the link is kept");
    assert!(
        searched.body.contains(&format!(r#"id="ai_system_ids-found-0" name="ai_system_ids" value="{before_last}"> Scale system 259"#)),
        "the match, to tick"
    );

    // Ticking the match and saving links both.
    let start = edit_form(&searched.body, "ai_system_ids").expect("edit form");
    let mut fields = form_fields(&searched.body[start..], "<form");
    fields.push(("ai_system_ids".into(), before_last.clone()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let editor = member_of(ui, Role::Editor).await;
    let linked = ui.app.get_record(&editor, &RISK, risk).await.expect("risk");
    assert_eq!(linked.data["ai_system_ids"], json!([last, before_last]));
    assert_eq!(linked.data["title"], "Typed, not yet saved");

    // The typeahead: the matches as a fragment, without what is linked already.
    let found =
        ui.get(&format!("/orgs/demo/pick/ai-systems?pick_field=ai_system_ids&q=scale+system+26&ai_system_ids={last}"), Some(cookie)).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("Nothing more to link contains “scale system 26”"), "{}", found.body);
    let found = ui.get("/orgs/demo/pick/ai-systems?pick_field=ai_system_ids&q=scale+system+00", Some(cookie)).await;
    assert_eq!(found.body.matches(r#"type="checkbox""#).count(), 9, "systems 001–009");
    assert!(!found.body.contains("<html"), "a fragment");
    let unknown = ui.get("/orgs/demo/pick/nothing?pick_field=x&q=a", Some(cookie)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// Evidence linked to the 260th AI system: its edit form's AI systems are a picker that shows
/// the link, keeps it on an unchanged save, and finds and links another system beyond any
/// first page; the upload form's picker finds the last system too, keeping what was typed.
async fn the_evidence_form_links_the_last_system(ui: &TestUi, cookie: &str, systems: &[String]) {
    let (last, before_last) = (&systems[SYSTEMS - 1], &systems[SYSTEMS - 2]);
    let editor = member_of(ui, Role::Editor).await;
    let file = aims_app::evidence::Upload {
        file_name: "drift-report.txt".into(),
        content_type: "text/plain".into(),
        content: aims_store::files::Content::from_bytes(b"Drift within bounds.".to_vec()),
    };
    let metadata = json!({ "title": "Drift report", "evidence_type": "test_result", "ai_system_ids": [last], "control_refs": ["A.6.2.6"] });
    let evidence = ui.app.upload_evidence(&editor, &metadata, file).await.expect("evidence");
    let path = format!("/orgs/demo/evidence/{}", evidence.id);
    let marker = format!(r#"action="{path}#edit""#);

    let page = ui.get(&path, Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"name="pick_q.ai_system_ids""#), "the AI systems are a search");
    assert!(!page.body.contains("Scale system 001"), "the form does not list 260 systems");
    assert!(page.body.contains(&format!(r#"name="ai_system_ids" value="{last}" checked> Scale system 260"#)), "the link, named");

    // Saved unchanged: every field and link kept, nothing written.
    let fields = form_fields(&page.body, &marker);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = ui.app.get_record(&editor, &aims_domain::kinds::EVIDENCE, &evidence.id).await.expect("evidence");
    assert_eq!(after.data, evidence.data, "every field and link kept");
    assert_eq!(after.version, evidence.version, "nothing changed, nothing written");

    // The search sent without scripts keeps what was typed and offers the 259th to tick.
    let mut fields = form_fields(&page.body, &marker);
    for (k, v) in &mut fields {
        if k == "title" {
            *v = "Drift report, typed".into();
        } else if k == "pick_q.ai_system_ids" {
            *v = "scale system 259".into();
        }
    }
    fields.push(("pick_field".into(), "ai_system_ids".into()));
    let query: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encoded(k), encoded(v))).collect();
    let searched = ui.get(&format!("{path}?{}", query.join("&")), Some(cookie)).await;
    assert_eq!(searched.status, StatusCode::OK);
    assert!(searched.body.contains(r#"value="Drift report, typed""#), "what was typed is kept");
    assert!(searched.body.contains(&format!(r#"name="ai_system_ids" value="{last}" checked>"#)), "the link is kept");
    assert!(
        searched.body.contains(&format!(r#"id="ai_system_ids-found-0" name="ai_system_ids" value="{before_last}"> Scale system 259"#)),
        "the match, to tick"
    );
    let mut fields = form_fields(&searched.body, &marker);
    fields.push(("ai_system_ids".into(), before_last.clone()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let linked = ui.app.get_record(&editor, &aims_domain::kinds::EVIDENCE, &evidence.id).await.expect("evidence");
    assert_eq!(linked.data["ai_system_ids"], json!([last, before_last]));
    assert_eq!(linked.data["control_refs"], json!(["A.6.2.6"]), "the catalogue links kept");
    assert_eq!(linked.data["title"], "Drift report, typed");

    // The upload form: the same picker, its search keeping what was typed.
    let typed = "title=Typed+upload&pick_field=ai_system_ids&pick_q.ai_system_ids=scale+system+260";
    let upload = ui.get(&format!("/orgs/demo/evidence?{typed}"), Some(cookie)).await;
    assert_eq!(upload.status, StatusCode::OK);
    assert!(upload.body.contains(r#"value="Typed upload""#), "what was typed is kept");
    assert!(upload.body.contains(&format!(r#"name="ai_system_ids" value="{last}"> Scale system 260"#)), "the last system, to tick");
}

/// Every action of the organisation, read a page at a time (what the tracker should count).
async fn every_action(ui: &TestUi, member: &Member) -> Vec<aims_store::model::Record> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = ui.app.list_records(member, &aims_domain::kinds::ACTION, false, after, 200).await.expect("actions");
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// The titles of the actions in the tracker's second list (every action under the filters),
/// leaving out "My actions" above it.
fn listed_actions(body: &str) -> Vec<String> {
    let all = &body[body.find(r#"id="all-h""#).expect("the list")..];
    all.match_indices("Scale action ").map(|(i, _)| all[i..i + 16].to_owned()).collect()
}

/// The actions tracker with 230 actions of its own besides the demo's: the list pages by
/// `rel="next"` from the first to the last, finds one by `?q=`, filters by status, source and
/// owner in the database, downloads every matching row as CSV, and "My actions" counts every
/// open and overdue action of the member while showing the most urgent.
async fn the_action_tracker_at_scale(ui: TestUi) {
    const ACTIONS: usize = 230;
    let editor = member_of(&ui, Role::Editor).await;
    for n in 1..=ACTIONS {
        let mut body = json!({
            "title": format!("Scale action {n:03}"),
            "source": if n % 3 == 0 { "gap_assessment" } else { "other" },
            "due_date": if n <= 5 { "2020-01-01" } else { "2099-01-01" },
        });
        if n % 2 == 0 {
            body["owner_id"] = json!(editor.user_id);
        }
        if n % 10 == 0 {
            body["status"] = json!("done");
            body["completed_on"] = json!("2026-01-01");
        }
        ui.app.create_record(&editor, &aims_domain::kinds::ACTION, &body).await.expect("action");
    }
    let cookie = ui.sign_in(Role::Editor).await;

    // Every action, by next pages.
    let listed = ui.pages_of(&cookie, "/orgs/demo/actions?status=any&q=scale+action").await;
    let pages = listed.len();
    for (path, _) in &listed {
        assert!(path.contains("status=any"), "the next page keeps the filters: {path}");
    }
    let seen: Vec<String> = listed.iter().flat_map(|(_, body)| listed_actions(body)).collect();
    assert!(pages >= 5, "{ACTIONS} actions on pages of 50: {pages}");
    assert_eq!(seen.first().map(String::as_str), Some("Scale action 001"));
    assert_eq!(seen.last().map(String::as_str), Some("Scale action 230"));
    assert_eq!(seen.len(), ACTIONS, "each action once");

    // The search finds the last; the default list holds only open ones.
    let found = ui.get("/orgs/demo/actions?q=scale+action+229", Some(&cookie)).await;
    assert_eq!(listed_actions(&found.body), vec!["Scale action 229".to_owned()]);
    let done = ui.get("/orgs/demo/actions?q=scale+action+230", Some(&cookie)).await;
    assert!(listed_actions(&done.body).is_empty(), "a done action is not open");

    // The download holds every matching row, whatever the page.
    let csv = |query: &str| {
        let path = format!("/orgs/demo/actions?format=csv&q=scale+action&{query}");
        let cookie = cookie.clone();
        let ui = &ui;
        async move {
            let reply = ui.get(&path, Some(&cookie)).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert!(reply.body.starts_with("id,title,source,owner,due_date,status,completed_on\r\n"), "{}", reply.body);
            reply.body.lines().count() - 1
        }
    };
    assert_eq!(csv("").await, ACTIONS - ACTIONS / 10, "open ones");
    assert_eq!(csv("status=any").await, ACTIONS);
    assert_eq!(csv("status=done").await, ACTIONS / 10);
    assert_eq!(csv("status=any&source=gap_assessment").await, ACTIONS / 3);
    assert_eq!(csv("status=any&owner=none").await, ACTIONS / 2);
    assert_eq!(csv(&format!("status=any&owner={}", editor.user_id)).await, ACTIONS / 2);

    // My actions: counted in full (the demo's too), the overdue ones first, at most 20 shown.
    let today = aims_domain::clock::format_date(aims_domain::clock::today());
    let all = every_action(&ui, &editor).await;
    let mine: Vec<_> = all
        .iter()
        .filter(|r| r.data.get("owner_id") == Some(&json!(editor.user_id)))
        .filter(|r| matches!(r.data.get("status").and_then(|s| s.as_str()), Some("open" | "in_progress")))
        .collect();
    let overdue = mine
        .iter()
        .filter(|r| r.data.get("due_date").and_then(|d| d.as_str()).is_some_and(|d| !d.is_empty() && d < today.as_str()))
        .count();
    let page = ui.get("/orgs/demo/actions", Some(&cookie)).await;
    let my_section = &page.body[page.body.find(r#"id="mine""#).expect("mine")..page.body.find(r#"id="all-h""#).expect("all")];
    assert!(my_section.contains(&format!("{} open", mine.len())), "{my_section}");
    assert!(my_section.contains(&format!("{overdue} overdue")), "{my_section}");
    assert!(my_section.contains(&format!("all {} of mine", mine.len())), "a link to every one");
    let rows = my_section.matches("<tr").count() - 1;
    assert_eq!(rows, 20, "the most urgent twenty");
    let first_row = &my_section[my_section.find("<tbody>").expect("rows")..];
    assert!(first_row[..first_row.find("</tr>").expect("row")].contains("row-overdue"), "overdue first");
    let dashboard = ui.get("/orgs/demo/", Some(&cookie)).await;
    assert!(dashboard.body.contains(&format!(r#"<span class="kpi-value">{}</span>"#, mine.len())), "the dashboard counts the same");
}

#[tokio::test]
async fn the_action_tracker_pages_searches_filters_and_downloads_beyond_200_sqlite() {
    let Some(ui) = start_on(crate::Backend::Sqlite).await else { return };
    the_action_tracker_at_scale(ui).await;
}

#[tokio::test]
async fn the_action_tracker_pages_searches_filters_and_downloads_beyond_200_postgres() {
    let Some(ui) = start_on(crate::Backend::Postgres).await else { return };
    the_action_tracker_at_scale(ui).await;
}

/// The objectives' list with 230 objectives besides the demo's: pages by `rel="next"` from the
/// first to the last, finds one by `?q=`, downloads every one as CSV, and counts those on and
/// off track over all of them, not one page.
async fn the_objectives_at_scale(ui: TestUi) {
    const OBJECTIVES: usize = 230;
    let editor = member_of(&ui, Role::Editor).await;
    for n in 1..=OBJECTIVES {
        let body = json!({ "title": format!("Scale objective {n:03}"), "metric": "Share validated", "unit": "%", "target": 90 });
        let objective = ui.app.create_record(&editor, &OBJECTIVE, &body).await.expect("objective");
        // The last few are measured: two meet the target, one does not.
        if n > OBJECTIVES - 3 {
            let value = if n == OBJECTIVES { 50 } else { 95 };
            let measurement = json!({ "value": value, "measured_on": "2026-01-10" });
            ui.app.create_child_record(&editor, &aims_domain::kinds::MEASUREMENT, &objective.id, &measurement).await.expect("measurement");
        }
    }
    let cookie = ui.sign_in(Role::Editor).await;
    let names = |body: &str| body.match_indices("Scale objective ").map(|(i, _)| body[i..i + 19].to_owned()).collect::<Vec<_>>();

    let mut seen: Vec<String> = Vec::new();
    let listed = ui.pages_of(&cookie, "/orgs/demo/objectives").await;
    let pages = listed.len();
    for (_, body) in &listed {
        for name in names(body) {
            if seen.last() != Some(&name) {
                seen.push(name);
            }
        }
    }
    assert!(pages >= 5, "{OBJECTIVES} objectives on pages of 50: {pages}");
    assert_eq!(seen.first().map(String::as_str), Some("Scale objective 001"));
    assert_eq!(seen.last().map(String::as_str), Some("Scale objective 230"));
    assert_eq!(seen.len(), OBJECTIVES, "each objective once");

    let found = ui.get("/orgs/demo/objectives?q=scale+objective+229", Some(&cookie)).await;
    assert!(found.body.contains("Scale objective 229") && !found.body.contains("Scale objective 228"));
    assert!(found.body.contains(r#"<svg class="sparkline""#), "its figures as a sparkline");
    let csv = ui.get("/orgs/demo/objectives?format=csv&q=scale+objective", Some(&cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), 1 + OBJECTIVES, "every objective, not one page");

    // The counts cover every objective (the demo's too), as the records say.
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = ui.app.list_records(&editor, &OBJECTIVE, false, after, 200).await.expect("objectives");
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    let on = all.iter().filter(|o| o.data.get("on_track") == Some(&json!(true))).count();
    let off = all.iter().filter(|o| o.data.get("on_track") == Some(&json!(false))).count();
    let first = ui.get("/orgs/demo/objectives", Some(&cookie)).await;
    assert!(first.body.contains(&format!("<strong>{on}</strong> on track")), "{on} on track");
    assert!(first.body.contains(&format!("<strong>{off}</strong> off track")), "{off} off track");
    assert!(first.body.contains(&format!("<strong>{}</strong> without measurements", all.len() - on - off)));
    assert!(on >= 2 && off >= 1);
}

#[tokio::test]
async fn the_objectives_page_search_download_and_count_beyond_200_sqlite() {
    let Some(ui) = start_on(crate::Backend::Sqlite).await else { return };
    the_objectives_at_scale(ui).await;
}

#[tokio::test]
async fn the_objectives_page_search_download_and_count_beyond_200_postgres() {
    let Some(ui) = start_on(crate::Backend::Postgres).await else { return };
    the_objectives_at_scale(ui).await;
}

/// Walks a generated list from its first page by `rel="next"`, collecting the names starting
/// with `prefix` (each `width` characters long).
async fn walk_list(ui: &TestUi, cookie: &str, start: &str, prefix: &str, width: usize) -> (Vec<String>, usize) {
    let listed = ui.pages_of(cookie, start).await;
    let mut seen: Vec<String> = Vec::new();
    for (_, body) in &listed {
        for (i, _) in body.match_indices(prefix) {
            let name = body[i..i + width].to_owned();
            if seen.last() != Some(&name) {
                seen.push(name);
            }
        }
    }
    (seen, listed.len())
}

/// Competences and training records (now on the generated pages) beyond 200: each list pages
/// from the first to the last, finds one by `?q=` and downloads every one; a competence's page
/// names the training records that cover it.
async fn competences_and_trainings_at_scale(ui: TestUi) {
    const EACH: usize = 210;
    let editor = member_of(&ui, Role::Editor).await;
    let person = ui.app.create_record(&editor, &aims_domain::kinds::PERSON, &json!({ "name": "Scale Person" })).await.expect("person");
    let mut competences = Vec::new();
    for n in 1..=EACH {
        let body = json!({ "name": format!("Scale competence {n:03}"), "required_for_roles": ["Scale role"] });
        competences.push(ui.app.create_record(&editor, &aims_domain::kinds::COMPETENCE, &body).await.expect("competence").id);
    }
    let last = competences.last().expect("competences").clone();
    for n in 1..=EACH {
        let body = json!({ "person_id": person.id, "title": format!("Scale training {n:03}"), "completed_on": "2026-01-05", "competence_ids": [last] });
        ui.app.create_record(&editor, &aims_domain::kinds::TRAINING, &body).await.expect("training");
    }
    let cookie = ui.sign_in(Role::Editor).await;
    for (collection, prefix) in [("competences", "Scale competence "), ("trainings", "Scale training ")] {
        let width = prefix.len() + 3;
        let (seen, pages) = walk_list(&ui, &cookie, &format!("/orgs/demo/{collection}"), prefix, width).await;
        assert!(pages >= 5, "{collection}: {pages} pages");
        assert_eq!(seen.len(), EACH, "{collection}: each once");
        assert_eq!(seen.first().map(String::as_str), Some(format!("{prefix}001").as_str()));
        assert_eq!(seen.last().map(String::as_str), Some(format!("{prefix}210").as_str()));
        let q = format!("{prefix}209").to_lowercase().replace(' ', "+");
        let found = ui.get(&format!("/orgs/demo/{collection}?q={q}"), Some(&cookie)).await;
        assert!(found.body.contains(&format!("{prefix}209")) && !found.body.contains(&format!("{prefix}208")), "{collection}");
        let csv = ui
            .get(&format!("/orgs/demo/{collection}?format=csv&q={}", prefix.trim().to_lowercase().replace(' ', "+")), Some(&cookie))
            .await;
        assert_eq!(csv.body.lines().count(), 1 + EACH, "{collection}: every one, not one page");
    }
    let page = ui.get(&format!("/orgs/demo/competences/{last}"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let covering = &page.body[page.body.find(r#"id="hold-h""#).expect("holders")..];
    let covering = &covering[..covering.find("</section>").expect("section end")];
    assert_eq!(covering.matches(r#"<a href="/orgs/demo/trainings/"#).count(), EACH, "every record that covers it");
    assert!(page.body.contains("Scale Person"), "named with its holder");
}

#[tokio::test]
async fn competences_and_trainings_page_search_and_download_beyond_200_sqlite() {
    let Some(ui) = start_on(crate::Backend::Sqlite).await else { return };
    competences_and_trainings_at_scale(ui).await;
}

#[tokio::test]
async fn competences_and_trainings_page_search_and_download_beyond_200_postgres() {
    let Some(ui) = start_on(crate::Backend::Postgres).await else { return };
    competences_and_trainings_at_scale(ui).await;
}

/// An AI system's page shows every one of its resources, past any page size of the store.
async fn every_resource_is_on_its_system_page(ui: TestUi) {
    const RESOURCES: usize = 205;
    let editor = member_of(&ui, Role::Editor).await;
    let system = ui.app.create_record(&editor, &AI_SYSTEM, &json!({ "name": "Resourceful system" })).await.expect("system");
    for n in 1..=RESOURCES {
        let body = json!({ "resource_type": "tooling", "name": format!("Resource {n:03}") });
        ui.app.create_child_record(&editor, &kinds::RESOURCE, &system.id, &body).await.expect("resource");
    }
    let cookie = ui.sign_in(Role::Viewer).await;
    let page = ui.get(&format!("/orgs/demo/ai-systems/{}", system.id), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    for n in [1, 200, 201, RESOURCES] {
        assert!(page.body.contains(&format!("Resource {n:03}")), "resource {n} is shown");
    }
}

#[tokio::test]
async fn every_resource_is_on_its_system_page_sqlite() {
    let Some(ui) = start_on(crate::Backend::Sqlite).await else { return };
    every_resource_is_on_its_system_page(ui).await;
}

#[tokio::test]
async fn every_resource_is_on_its_system_page_postgres() {
    let Some(ui) = start_on(crate::Backend::Postgres).await else { return };
    every_resource_is_on_its_system_page(ui).await;
}
