//! The audit pages (9.2), generated from their declarations: the area's four lists linked from
//! each other under the "Audit" navigation entry; the closed demo audit with its checklist
//! results, findings and report; a planned audit started from its page and a result recorded
//! from the checklist panel by its auditor (a refused post keeps what was typed); the auditor
//! may add audit records but not AI systems, the editor the reverse. On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::{AUDIT, AUDIT_PROGRAMME, CERTIFICATE, FINDING};
use aims_domain::validate::KindSpec;
use axum::http::StatusCode;

use super::{Backend, TestUi, member_of, start_on};

async fn demo_record(ui: &TestUi, spec: &KindSpec, title: &str) -> aims_store::model::Record {
    let owner = member_of(ui, Role::Owner).await;
    let all = ui.app.list_records(&owner, spec, false, 0, 200).await.expect("records");
    all.items.into_iter().find(|r| r.data["title"] == title).unwrap_or_else(|| panic!("no demo {} {title}", spec.kind))
}

async fn pages(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let auditor = ui.sign_in(Role::Auditor).await;
    let editor = ui.sign_in(Role::Editor).await;

    for (spec, serves) in
        [(&AUDIT_PROGRAMME, "Clause 9.2.2"), (&AUDIT, "Clause 9.2"), (&FINDING, "Clause 9.2"), (&CERTIFICATE, "Clause 9.2")]
    {
        let list = ui.get(&format!("/orgs/demo/{}", spec.collection), Some(&auditor)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(serves), "{serves}");
        for other in ["audit-programmes", "audits", "findings", "certificates"] {
            assert!(list.body.contains(&format!(r#"href="/orgs/demo/{other}""#)), "{} links {other}", spec.collection);
        }
        // The auditor writes audit records; the editor does not.
        let new = format!(r#"href="/orgs/demo/{}/new""#, spec.collection);
        assert!(list.body.contains(&new), "the auditor may add {}", spec.collection);
        assert!(!ui.get(&format!("/orgs/demo/{}", spec.collection), Some(&editor)).await.body.contains(&new));
    }
    let systems = ui.get("/orgs/demo/ai-systems", Some(&auditor)).await;
    assert!(!systems.body.contains(r#"href="/orgs/demo/ai-systems/new""#), "the auditor may not add AI systems");
    assert!(!systems.body.contains("Audits</span>"), "audits are no longer coming soon");
    assert!(systems.body.contains(r#"href="/orgs/demo/audits""#), "the Audit navigation entry");
    assert_eq!(ui.get("/orgs/demo/audits/new", Some(&editor)).await.status, StatusCode::FORBIDDEN);

    // The closed demo audit: its checklist's results, its findings and its report.
    let closed = demo_record(&ui, &AUDIT, "Internal audit: customer support assistant").await;
    let page = ui.get(&format!("/orgs/demo/audits/{}", closed.id), Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"<h2 id="checklist-h">Checklist</h2>"#), "{}", page.body);
    assert!(page.body.contains("badge-major_nonconformity") && page.body.contains("Four conversation transcripts"), "{}", page.body);
    assert!(page.body.contains("Content sources of the support assistant are not checked for currency"), "its findings");
    assert!(page.body.contains("Audit report") && page.body.contains("One major nonconformity"), "{}", page.body);
    assert!(!page.body.contains("Record result"), "a closed audit takes no results");

    // The planned audit: started from the page, then a result recorded from the checklist.
    let planned = demo_record(&ui, &AUDIT, "Internal audit: CV screening assistant and human oversight").await;
    let path = format!("/orgs/demo/audits/{}", planned.id);
    let page = ui.get(&path, Some(&auditor)).await;
    assert!(page.body.contains(&format!(r#"action="{path}/transitions/start""#)), "{}", page.body);
    assert!(!page.body.contains("transitions/record-result"), "results are recorded in the checklist, not the generic panel");
    let started = ui.post(&format!("{path}/transitions/start"), Some(&auditor), &[("version", &planned.version.to_string())]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = ui.get(&path, Some(&auditor)).await;
    assert!(page.body.contains("Record result") && page.body.contains(r#"<label for="ci0-result">Result for 8.4"#), "{}", page.body);
    let version = (planned.version + 1).to_string();
    let url = format!("{path}/checklist");
    let refused =
        ui.post(&url, Some(&auditor), &[("version", &version), ("item", "requirement:8.4"), ("result", ""), ("notes", "Asked HR")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(">Asked HR</textarea>"), "what was typed is kept: {}", refused.body);
    let recorded = ui
        .post(
            &url,
            Some(&auditor),
            &[("version", &version), ("item", "requirement:8.4"), ("result", "conforming"), ("evidence", "Impact assessment v3")],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    assert_eq!(recorded.location.as_deref(), Some(format!("{path}?done=recorded#checklist").as_str()));
    let page = ui.get(&path, Some(&auditor)).await;
    assert!(page.body.contains("Impact assessment v3") && page.body.contains("Aisha Karimi"), "{}", page.body);
    // The editor reads the checklist but records nothing.
    let page = ui.get(&path, Some(&editor)).await;
    assert!(page.body.contains(r#"<h2 id="checklist-h">Checklist</h2>"#) && !page.body.contains("Record result"), "{}", page.body);

    // The finding that raised a nonconformity names it.
    let finding = demo_record(&ui, &FINDING, "Content sources of the support assistant are not checked for currency").await;
    let page = ui.get(&format!("/orgs/demo/findings/{}", finding.id), Some(&auditor)).await;
    assert!(page.body.contains("Nonconformity raised") && page.body.contains("Major nonconformity: Content sources"), "{}", page.body);
}

#[tokio::test]
async fn audit_pages_show_the_checklist_and_record_results_sqlite() {
    pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn audit_pages_show_the_checklist_and_record_results_postgres() {
    pages(Backend::Postgres).await;
}
