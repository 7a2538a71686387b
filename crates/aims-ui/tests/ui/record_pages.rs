//! The pages generated from the kind declarations, beyond list and edit: archive, the
//! transitions panel, revisions with their diff, the scope, and ids unique on every page.
//! Each runs on SQLite and PostgreSQL.

use std::collections::HashMap;

use aims_domain::identity::Role;
use aims_domain::kinds::{CONTEXT_ISSUE, GATE, SUPPLIER};
use aims_store::activity::ActivityFilter;
use axum::http::StatusCode;

use crate::scale::form_fields;
use crate::{Backend, TestUi, form_version, member_of, start_on};

/// Every `id="…"` of the page that occurs more than once.
fn duplicate_ids(html: &str) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rest = html;
    while let Some(at) = rest.find(" id=\"") {
        rest = &rest[at + 5..];
        let end = rest.find('"').expect("closing quote");
        *seen.entry(&rest[..end]).or_default() += 1;
        rest = &rest[end..];
    }
    let mut twice: Vec<String> = seen.into_iter().filter(|(_, n)| *n > 1).map(|(id, n)| format!("{id} ×{n}")).collect();
    twice.sort();
    twice
}

/// The id of the one gate the demo organisation has requested.
async fn demo_gate(ui: &TestUi) -> String {
    let owner = member_of(ui, Role::Owner).await;
    let gates = ui.app.list_records(&owner, &GATE, false, 0, 10).await.expect("gates");
    gates.items.iter().find(|g| g.state.as_deref() == Some("requested")).expect("a requested gate").id.clone()
}

/// The path of a record created through its generic new form.
async fn create_through_form(ui: &TestUi, cookie: &str, collection: &str, form: &[(&str, &str)]) -> String {
    let created = ui.post(&format!("/orgs/demo/{collection}/new"), Some(cookie), form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    created.location.expect("location").split('?').next().unwrap_or_default().to_owned()
}

async fn transitions_panel(ui: TestUi) {
    let id = demo_gate(&ui).await;
    let path = format!("/orgs/demo/gates/{id}");

    // The admin requested the gate: approving or rejecting it is not offered, and says why;
    // withdrawing it is.
    let admin = ui.sign_in(Role::Admin).await;
    let page = ui.get(&path, Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Approve is not offered to you: rule separation-of-duties"), "{}", page.body);
    assert!(page.body.contains("Reject is not offered to you: rule separation-of-duties"));
    assert!(!page.body.contains(&format!("{path}/transitions/approve")), "no approve form for the requester");
    assert!(page.body.contains(&format!(r#"action="{path}/transitions/cancel""#)), "the requester may withdraw it");
    // Its prerequisites are shown while it is requested.
    assert!(page.body.contains(r#"<h2 id="prereq-h">Prerequisites</h2>"#));
    assert!(page.body.contains("Before a move to deployment is approved"), "{}", page.body);

    // A viewer is told the role rule; nothing is offered.
    let viewer = ui.sign_in(Role::Viewer).await;
    let read_only = ui.get(&path, Some(&viewer)).await;
    assert!(read_only.body.contains("Approve is not offered to you: rule role-permission"), "{}", read_only.body);
    assert!(!read_only.body.contains("/transitions/"), "no transition form for a viewer");

    // The requester posting an approval anyway: 403 naming the rule, the comment kept.
    let version = form_version(&page.body);
    let typed = "Checked the validation report myself";
    let refused = ui.post(&format!("{path}/transitions/approve"), Some(&admin), &[("version", &version), ("reason", typed)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("rule separation-of-duties"), "{}", refused.body);
    assert!(refused.body.contains(&format!(">{typed}</textarea>")), "what was typed is kept");

    // The owner may decide it: a rejection without its required reason is a 422 on the field.
    let owner = ui.sign_in(Role::Owner).await;
    let decide = ui.get(&path, Some(&owner)).await;
    assert!(decide.body.contains(&format!(r#"action="{path}/transitions/reject""#)), "{}", decide.body);
    let blank = ui.post(&format!("{path}/transitions/reject"), Some(&owner), &[("version", &version), ("reason", "")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", blank.body);
    assert!(blank.body.contains(r#"id="t-reject-reason-error""#), "the error is beside the reason");
    let rejected =
        ui.post(&format!("{path}/transitions/reject"), Some(&owner), &[("version", &version), ("reason", "Pilot data is too thin")]).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.body);
    let after = ui.get(rejected.location.as_deref().expect("redirect"), Some(&owner)).await;
    assert!(after.body.contains("Reject: done. Now rejected."), "{}", after.body);
    assert!(!after.body.contains("/transitions/"), "a decided gate offers nothing more");
    let gate = ui.app.get_record(&member_of(&ui, Role::Owner).await, &GATE, &id).await.expect("gate");
    assert_eq!(gate.state.as_deref(), Some("rejected"));
    assert_eq!(gate.data["decision_reason"], "Pilot data is too thin");
}

#[tokio::test]
async fn the_transitions_panel_offers_explains_and_keeps_what_was_typed_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    transitions_panel(ui).await;
}

#[tokio::test]
async fn the_transitions_panel_offers_explains_and_keeps_what_was_typed_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    transitions_panel(ui).await;
}

async fn archive(ui: TestUi) {
    let editor = ui.sign_in(Role::Editor).await;
    let path = create_through_form(&ui, &editor, "suppliers", &[("name", "Old Vendor GmbH"), ("supplied_ai", "A chatbot")]).await;
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let page = ui.get(&path, Some(&editor)).await;
    let version = form_version(&page.body);
    assert!(page.body.contains(&format!(r#"action="{path}/archive""#)));

    let viewer = ui.sign_in(Role::Viewer).await;
    let refused = ui.post(&format!("{path}/archive"), Some(&viewer), &[("version", &version), ("confirm", "yes")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let unconfirmed = ui.post(&format!("{path}/archive"), Some(&editor), &[("version", &version)]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("to confirm"), "{}", unconfirmed.body);
    let member = member_of(&ui, Role::Editor).await;
    assert!(!ui.app.get_record(&member, &SUPPLIER, &id).await.expect("supplier").archived, "nothing archived unconfirmed");

    let archived = ui.post(&format!("{path}/archive"), Some(&editor), &[("version", &version), ("confirm", "yes")]).await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER, "{}", archived.body);
    let after = ui.get(archived.location.as_deref().expect("redirect"), Some(&editor)).await;
    assert!(after.body.contains("Supplier archived."), "{}", after.body);
    assert!(after.body.contains(">Archived</span>"));
    assert!(!after.body.contains(r#"class="form form-2col""#), "an archived record is not edited");
    let list = ui.get("/orgs/demo/suppliers", Some(&editor)).await;
    assert!(!list.body.contains("Old Vendor GmbH"), "it leaves the list");

    let filter = ActivityFilter { record_id: Some(id.clone()), ..ActivityFilter::default() };
    let events = ui.app.list_activity(&member, &filter, 0, Some(10)).await.expect("activity");
    let archive = events.items.iter().find(|e| e.action == "archive").expect("the archive is logged");
    assert!(archive.actor.contains(&ui.users[&Role::Editor].email), "and attributed: {}", archive.actor);
}

#[tokio::test]
async fn archive_asks_for_confirmation_and_is_logged_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    archive(ui).await;
}

#[tokio::test]
async fn archive_asks_for_confirmation_and_is_logged_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    archive(ui).await;
}

async fn revisions(ui: TestUi) {
    let editor = ui.sign_in(Role::Editor).await;
    let path = create_through_form(
        &ui,
        &editor,
        "context-issues",
        &[("title", "New AI regulation"), ("issue_type", "external"), ("category", "legal_regulatory")],
    )
    .await;
    let page = ui.get(&path, Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    for (k, v) in &mut fields {
        match k.as_str() {
            "title" => *v = "EU AI Act obligations".into(),
            "issue_type" => *v = "internal".into(),
            _ => {}
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(&editor), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = ui.get(&path, Some(&editor)).await;
    assert!(page.body.contains("2 revisions."), "{}", page.body);

    let list = ui.get(&format!("{path}/revisions"), Some(&editor)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Elena Rossi"), "who made each revision");
    assert!(list.body.contains("Revision 1 compared with revision 2"), "the last two by default");
    for needle in [
        "<th scope=\"row\">Title</th>",
        "<del>New AI regulation</del>",
        "<ins>EU AI Act obligations</ins>",
        "<th scope=\"row\">Internal or external</th>",
        "<del>External</del>",
        "<ins>Internal</ins>",
    ] {
        assert!(list.body.contains(needle), "{needle}: {}", list.body);
    }
    assert!(!list.body.contains("<th scope=\"row\">Category</th>"), "unchanged fields are left out");
    let reversed = ui.get(&format!("{path}/revisions?a=2&b=1"), Some(&editor)).await;
    assert!(reversed.body.contains("<del>EU AI Act obligations</del>"), "any two, either way");
    let same = ui.get(&format!("{path}/revisions?a=2&b=2"), Some(&editor)).await;
    assert!(same.body.contains("No field differs."));
    let member = member_of(&ui, Role::Editor).await;
    let id = path.rsplit('/').next().unwrap_or_default();
    assert_eq!(ui.app.revisions(&member, &CONTEXT_ISSUE, id).await.expect("revisions").len(), 2);
}

#[tokio::test]
async fn revisions_are_listed_and_any_two_compared_field_by_field_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    revisions(ui).await;
}

#[tokio::test]
async fn revisions_are_listed_and_any_two_compared_field_by_field_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    revisions(ui).await;
}

async fn scope(ui: TestUi) {
    let editor = ui.sign_in(Role::Editor).await;
    let gap = ui.get("/orgs/demo/requirements", Some(&editor)).await;
    assert!(gap.body.contains(r#"href="/orgs/demo/scope""#), "the gap assessment links to the scope");
    let page = ui.get("/orgs/demo/scope", Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>AIMS scope</h1>") && page.body.contains("Clause 4.3"));
    assert!(!page.body.contains(r#"action="/orgs/demo/scope/archive""#), "the scope is not archived");
    let mut fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    let mut found = false;
    for (k, v) in &mut fields {
        if k == "statement" {
            *v = "All AI systems Northwind Lending develops or uses in consumer lending.".into();
            found = true;
        }
    }
    assert!(found, "the statement is edited");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post("/orgs/demo/scope", Some(&editor), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some("/orgs/demo/scope?done=saved"));
    let after = ui.get("/orgs/demo/scope?done=saved", Some(&editor)).await;
    assert!(after.body.contains("Saved.") && after.body.contains("consumer lending"));
    assert!(after.body.contains(r#"href="/orgs/demo/scope/revisions""#), "{}", after.body);
    let revisions = ui.get("/orgs/demo/scope/revisions", Some(&editor)).await;
    assert_eq!(revisions.status, StatusCode::OK, "{}", revisions.body);
    assert!(revisions.body.contains("<th scope=\"row\">Scope statement</th>"), "{}", revisions.body);
    assert!(revisions.body.contains("consumer lending.</ins>"), "{}", revisions.body);
    let viewer = ui.sign_in(Role::Viewer).await;
    let refused = ui.post("/orgs/demo/scope", Some(&viewer), &pairs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_scope_has_its_page_and_revisions_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    scope(ui).await;
}

#[tokio::test]
async fn the_scope_has_its_page_and_revisions_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    scope(ui).await;
}

/// Every generated page (each kind's list, new form, record page and revisions; the scope),
/// and the AI system page with its five forms, has each id once.
#[tokio::test]
async fn ids_are_unique_on_every_generated_page() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    let cookie = ui.sign_in(Role::Owner).await;
    let owner = member_of(&ui, Role::Owner).await;
    let mut paths = vec!["/orgs/demo/scope".to_owned(), "/orgs/demo/scope/revisions".to_owned()];
    for spec in [
        &aims_domain::kinds::CONTEXT_ISSUE,
        &aims_domain::kinds::INTERESTED_PARTY,
        &SUPPLIER,
        &aims_domain::kinds::RISK_SOURCE,
        &aims_domain::kinds::DATASET,
        &GATE,
        &aims_domain::kinds::GATE_REQUIREMENT,
        &aims_domain::kinds::LIFECYCLE_RECORD,
        &aims_domain::kinds::AI_SYSTEM,
        &aims_domain::kinds::COMMUNICATION,
        &aims_domain::kinds::NONCONFORMITY,
        &aims_domain::kinds::IMPROVEMENT,
        &aims_domain::kinds::CHANGE,
    ] {
        let base = format!("/orgs/demo/{}", spec.collection);
        paths.push(base.clone());
        if spec.creatable {
            paths.push(format!("{base}/new"));
        }
        let first = ui.app.list_records(&owner, spec, false, 0, 1).await.expect("records");
        if let Some(record) = first.items.first() {
            paths.push(format!("{base}/{}", record.id));
            if spec.revisions != aims_domain::validate::Revisions::None {
                paths.push(format!("{base}/{}/revisions", record.id));
            }
        }
    }
    for path in paths {
        let page = ui.get(&path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_eq!(duplicate_ids(&page.body), Vec::<String>::new(), "{path}");
    }
}

/// A gate refused for missing lifecycle records names them as people read them; a dataset's
/// emptied quality-check row is dropped, on the new form and the edit form alike; the impact
/// assessments' list offers "Add", to their own new page.
async fn small_fixes(ui: TestUi) {
    // The gate's stage requires every kind of lifecycle record: the demo system lacks some.
    let editor = member_of(&ui, Role::Editor).await;
    let gate_id = demo_gate(&ui).await;
    let gate = ui.app.get_record(&editor, &GATE, &gate_id).await.expect("gate");
    let by_stage =
        [aims_store::page_json::Filter::Field { field: "to_stage", value: gate.data["to_stage"].as_str().unwrap_or_default().to_owned() }];
    let requirement =
        ui.app.list_records_where(&editor, &aims_domain::kinds::GATE_REQUIREMENT, false, &by_stage, 0, 1).await.expect("requirements");
    let requirement = requirement.items.first().expect("the demo's requirement for the gate's stage");
    let every = serde_json::json!({ "required_record_types": aims_domain::kinds::lifecycle::RECORD_TYPES });
    ui.app
        .patch_record(&editor, &aims_domain::kinds::GATE_REQUIREMENT, &requirement.id, requirement.version, &every)
        .await
        .expect("requirement");
    let owner = ui.sign_in(Role::Owner).await;
    let path = format!("/orgs/demo/gates/{gate_id}");
    let page = ui.get(&path, Some(&owner)).await;
    let version = form_version(&page.body);
    let refused = ui.post(&format!("{path}/transitions/approve"), Some(&owner), &[("version", &version), ("reason", "Ready")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let at = refused.body.find("does not have yet: ").expect("the refusal names what is missing") + "does not have yet: ".len();
    let missing: String = refused.body[at..].chars().take_while(|c| *c != '<').collect();
    assert!(!missing.is_empty() && !missing.contains('_'), "labels, not codes: {missing}");
    assert!(missing.contains("Event logging") || missing.contains("Deployment plan"), "{missing}");

    // A dataset's row left empty on the new form is dropped, not refused; the browser is not
    // told to insist on it either.
    let cookie = ui.sign_in(Role::Editor).await;
    let new = ui.get("/orgs/demo/datasets/new", Some(&cookie)).await;
    let row_inputs: Vec<&str> = new
        .body
        .match_indices(r#"name="quality_checks[0]."#)
        .map(|(i, _)| &new.body[i..i + new.body[i..].find('>').unwrap_or(0)])
        .collect();
    assert!(!row_inputs.is_empty(), "the form offers a row");
    assert!(row_inputs.iter().all(|tag| !tag.contains(" required")), "{row_inputs:?}");
    let empty_row = [
        ("name", "Loan applications 2026"),
        ("quality_checks[0].check", ""),
        ("quality_checks[0].result", ""),
        ("quality_checks[0].checked_on", ""),
        ("quality_checks[0].notes", ""),
    ];
    let path = create_through_form(&ui, &cookie, "datasets", &empty_row).await;
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let dataset = ui.app.get_record(&editor, &aims_domain::kinds::DATASET, &id).await.expect("dataset");
    assert!(dataset.data.get("quality_checks").and_then(|v| v.as_array()).is_none_or(Vec::is_empty), "{:?}", dataset.data);

    // A row emptied on the edit form is removed; the other is kept.
    let two_rows = serde_json::json!({ "quality_checks": [
        { "check": "Duplicates removed", "result": "pass" },
        { "check": "Labels audited", "result": "fail" },
    ]});
    ui.app.patch_record(&editor, &aims_domain::kinds::DATASET, &id, dataset.version, &two_rows).await.expect("rows");
    let page = ui.get(&path, Some(&cookie)).await;
    let mut fields = form_fields(&page.body, r#"<form method="post" class="form form-2col">"#);
    for (k, v) in &mut fields {
        if k.starts_with("quality_checks[0].") {
            v.clear();
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post(&path, Some(&cookie), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let dataset = ui.app.get_record(&editor, &aims_domain::kinds::DATASET, &id).await.expect("dataset");
    let rows = dataset.data["quality_checks"].as_array().cloned().unwrap_or_default();
    let checks: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["check"].as_str().unwrap_or_default(), r["result"].as_str().unwrap_or_default())).collect();
    assert_eq!(checks, vec![("Labels audited", "fail")], "the emptied row is removed, the other kept");

    // The impact assessments' list offers "Add" to those who may add one, leading to its page.
    let list = ui.get("/orgs/demo/impact-assessments", Some(&cookie)).await;
    assert!(list.body.contains(r#"href="/orgs/demo/impact-assessments/new""#), "{}", list.body);
    let new = ui.get("/orgs/demo/impact-assessments/new", Some(&cookie)).await;
    assert_eq!(new.status, StatusCode::OK);
    let viewer = ui.sign_in(Role::Viewer).await;
    let read_only = ui.get("/orgs/demo/impact-assessments", Some(&viewer)).await;
    assert!(!read_only.body.contains(r#"href="/orgs/demo/impact-assessments/new""#));
}

#[tokio::test]
async fn gate_refusals_name_labels_empty_rows_are_dropped_and_assessments_can_be_added_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    small_fixes(ui).await;
}

#[tokio::test]
async fn gate_refusals_name_labels_empty_rows_are_dropped_and_assessments_can_be_added_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    small_fixes(ui).await;
}
