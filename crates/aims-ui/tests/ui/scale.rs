//! An organisation larger than any page: 260 AI systems. A form saved unchanged from its page
//! keeps every link, even to records the form does not list, and every field; on SQLite and
//! PostgreSQL.

use aims_domain::identity::Role;
use aims_domain::kinds::{AI_SYSTEM, OBJECTIVE, RISK};
use axum::http::StatusCode;
use serde_json::json;

use crate::{TestUi, member_of, start_on};

const SYSTEMS: usize = 260;

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
    let mut seen = Vec::new();
    let mut path = "/orgs/demo/ai-systems".to_owned();
    let mut pages = 0;
    loop {
        let page = ui.get(&path, Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        pages += 1;
        seen.extend(page.body.match_indices("Scale system ").map(|(i, _)| page.body[i..i + 16].to_owned()));
        let Some(at) = page.body.find(r#" rel="next""#) else { break };
        let href = page.body[..at].rsplit_once(r#"href=""#).expect("next link").1.trim_end_matches('"');
        path = href.replace("&amp;", "&");
    }
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
    assert!(csv.body.starts_with("id,name,owner_id,contact_email\r\n"));
    assert!(csv.body.contains("Model House Ltd"));
    let viewer = ui.sign_in(Role::Viewer).await;
    let read_only = ui.get(&path, Some(&viewer)).await;
    assert!(!read_only.body.contains(r#"class="form form-2col""#), "a viewer gets no form");
    let refused = ui.post(&path, Some(&viewer), &pairs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
