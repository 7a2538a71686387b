//! Separation of duties through the UI's forms: the ways round it that the API refuses
//! (`aims-web` `tests/api/workflows.rs`) are refused the same way when the page's form is
//! posted — a 403 page that names the rule and its part, with what the person typed given back
//! in the form — and someone uninvolved then takes the same transition. On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::{AI_SYSTEM, CONTROL, GATE, IMPACT_ASSESSMENT, RISK, SOA};
use aims_domain::validate::KindSpec;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Backend, Reply, TestUi, form_version, member_of, start_on};

/// A change made by `role` outside the form under test (the setup of each case).
async fn change(ui: &TestUi, role: Role, spec: &KindSpec, segment: &str, patch: Value) {
    let member = member_of(ui, role).await;
    let version = ui.app.get_record(&member, spec, segment).await.expect("record").version;
    ui.app.patch_record(&member, spec, segment, version, &patch).await.expect("change");
}

async fn create(ui: &TestUi, role: Role, spec: &KindSpec, body: Value) -> String {
    ui.app.create_record(&member_of(ui, role).await, spec, &body).await.expect("create").id
}

async fn version(ui: &TestUi, spec: &KindSpec, segment: &str) -> String {
    ui.app.get_record(&member_of(ui, Role::Viewer).await, spec, segment).await.expect("record").version.to_string()
}

async fn user_id(ui: &TestUi, role: Role) -> String {
    member_of(ui, role).await.user_id
}

/// The refusal page: 403, the rule and its part named, and `typed` back in its textarea.
/// The SoA's version, read from the approve form on the controls page.
async fn soa_version(ui: &TestUi, cookie: &str) -> String {
    form_version(&ui.get("/orgs/demo/controls", Some(cookie)).await.body)
}

async fn soa_revisions(ui: &TestUi) -> usize {
    let member = member_of(ui, Role::Viewer).await;
    let soa = ui.app.get_singleton(&member, &SOA).await.expect("soa");
    ui.app.revisions(&member, &SOA, &soa.id).await.expect("revisions").len()
}

fn refused_by(reply: &Reply, part: &str, typed: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains(&format!("rule separation-of-duties): ({part})")), "expected the {part} rule named: {}", reply.body);
    assert!(reply.body.contains(&format!(">{typed}</textarea>")), "the text typed is given back: {}", reply.body);
}

fn taken(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

async fn roundabout_ways_are_refused_through_the_forms(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let owner = ui.sign_in(Role::Owner).await;
    let admin = ui.sign_in(Role::Admin).await;
    let editor = ui.sign_in(Role::Editor).await;

    // An editor who owns a risk hands it to someone else, then accepts it on the risk's page.
    let editor_id = user_id(&ui, Role::Editor).await;
    let risk = create(
        &ui,
        Role::Owner,
        &RISK,
        json!({"title": "Drift", "source_category": "technical", "residual_likelihood": 1, "residual_consequence": 2, "owner_id": editor_id}),
    )
    .await;
    change(&ui, Role::Editor, &RISK, &risk, json!({"owner_id": user_id(&ui, Role::Viewer).await})).await;
    let accept = format!("/orgs/demo/risks/{risk}/accept");
    let v = version(&ui, &RISK, &risk).await;
    let rationale = "Within appetite, monitored monthly";
    refused_by(&ui.post(&accept, Some(&editor), &[("version", &v), ("rationale", rationale)]).await, "owner", rationale);
    taken(&ui.post(&accept, Some(&admin), &[("version", &v), ("rationale", rationale)]).await);

    // The SoA approved by the owner who made two of the three changes since the last approval.
    taken(&ui.post("/orgs/demo/soa/approve", Some(&admin), &[("version", &soa_version(&ui, &owner).await), ("comment", "")]).await);
    for (role, reference) in [(Role::Owner, "A.2.2"), (Role::Owner, "A.2.3"), (Role::Editor, "A.2.4")] {
        change(&ui, role, &CONTROL, reference, json!({"implementation_status": "partial"})).await;
    }
    let comment = "Quarterly review";
    let refused =
        ui.post("/orgs/demo/soa/approve", Some(&owner), &[("version", &soa_version(&ui, &owner).await), ("comment", comment)]).await;
    refused_by(&refused, "changed-entries", comment);
    let frozen = soa_revisions(&ui).await;
    taken(&ui.post("/orgs/demo/soa/approve", Some(&admin), &[("version", &soa_version(&ui, &owner).await), ("comment", comment)]).await);
    assert_eq!(soa_revisions(&ui).await, frozen + 1, "the uninvolved admin's approval froze a revision");

    // An admin edits a requested gate, then approves it on the AI system's page.
    let system = create(&ui, Role::Editor, &AI_SYSTEM, json!({"name": "Scoring"})).await;
    let requested = ui
        .post(&format!("/orgs/demo/ai-systems/{system}/gates"), Some(&editor), &[("to_stage", "design"), ("reason", "Idea agreed")])
        .await;
    taken(&requested);
    let page = ui.get(&format!("/orgs/demo/ai-systems/{system}"), Some(&admin)).await;
    let end = page.body.find("/decide\"").expect("decision form");
    let start = page.body[..end].rfind("/gates/").expect("decision form") + "/gates/".len();
    let gate = page.body[start..end].to_string();
    change(&ui, Role::Admin, &GATE, &gate, json!({"reason": "Idea agreed by the board"})).await;
    let decide = format!("/orgs/demo/gates/{gate}/decide");
    let v = version(&ui, &GATE, &gate).await;
    let reason = "Design review passed";
    let refused = ui.post(&decide, Some(&admin), &[("version", &v), ("decision", "approve"), ("reason", reason)]).await;
    refused_by(&refused, "changed-since-approval", reason);
    taken(&ui.post(&decide, Some(&owner), &[("version", &v), ("decision", "approve"), ("reason", reason)]).await);

    // An impact sign-off by someone who changed it between its creator and its last editor.
    let assessment = create(
        &ui,
        Role::Editor,
        &IMPACT_ASSESSMENT,
        json!({"ai_system_id": system, "title": "Scoring impact", "affected_parties": [{"party": "individuals", "description": "Applicants"}], "overall_level": "medium"}),
    )
    .await;
    change(&ui, Role::Admin, &IMPACT_ASSESSMENT, &assessment, json!({"title": "Scoring impact assessment"})).await;
    change(&ui, Role::Editor, &IMPACT_ASSESSMENT, &assessment, json!({"overall_level": "high"})).await;
    let sign_off = format!("/orgs/demo/impact-assessments/{assessment}/sign-off");
    let v = version(&ui, &IMPACT_ASSESSMENT, &assessment).await;
    let comment = "Mitigations are adequate";
    refused_by(&ui.post(&sign_off, Some(&admin), &[("version", &v), ("comment", comment)]).await, "changed-since-approval", comment);
    taken(&ui.post(&sign_off, Some(&owner), &[("version", &v), ("comment", comment)]).await);
}

#[tokio::test]
async fn roundabout_ways_are_refused_through_the_forms_sqlite() {
    roundabout_ways_are_refused_through_the_forms(Backend::Sqlite).await;
}

#[tokio::test]
async fn roundabout_ways_are_refused_through_the_forms_postgres() {
    roundabout_ways_are_refused_through_the_forms(Backend::Postgres).await;
}
