//! The index of generated pages that the browser walk reads: every kind it lists has the list
//! page it names, and its new page is refused to those who may not create.

use aims_domain::identity::Role;
use axum::http::StatusCode;
use serde_json::Value;

use super::start;

#[tokio::test]
async fn the_page_index_names_pages_that_are_served() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let auditor = ui.sign_in(Role::Auditor).await;
    let viewer = ui.sign_in(Role::Viewer).await;
    let index = ui.get("/orgs/demo/pages.json", Some(&viewer)).await;
    assert_eq!(index.status, StatusCode::OK);
    let index: Value = serde_json::from_str(&index.body).expect("JSON");
    let pages = index["pages"].as_array().expect("pages");
    assert!(pages.iter().any(|p| p["kind"] == "supplier" && p["new"] == "/orgs/demo/suppliers/new"), "{index}");
    for page in pages {
        let list = page["list"].as_str().expect("list path");
        assert_eq!(ui.get(list, Some(&viewer)).await.status, StatusCode::OK, "{list}");
        if let Some(new) = page["new"].as_str() {
            // Audit records are the auditor's to write, the others the editor's.
            let writers = page["writers"].as_array().expect("writers");
            let writer = if writers.iter().any(|w| w == "editor") { &editor } else { &auditor };
            assert_eq!(ui.get(new, Some(writer)).await.status, StatusCode::OK, "{new} as a writer");
            let refused = ui.get(new, Some(&viewer)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{new} as a viewer");
            assert!(refused.body.contains("rule role-permission"), "{}", refused.body);
        }
    }
    assert_eq!(ui.get("/orgs/demo/pages.json", None).await.status, StatusCode::SEE_OTHER, "signed-in members only");
}

#[tokio::test]
async fn a_forged_decision_by_a_viewer_is_refused_without_offering_the_form() {
    let ui = start().await;
    let viewer = ui.sign_in(Role::Viewer).await;
    let member = super::member_of(&ui, Role::Viewer).await;
    let gate = ui.app.list_records(&member, &aims_domain::kinds::GATE, false, 0, 1).await.expect("gates").items.remove(0);
    let version = gate.version.to_string();
    let path = format!("/orgs/demo/gates/{}/transitions/approve", gate.id);
    let refused = ui.post(&path, Some(&viewer), &[("version", &version), ("reason", "Looks fine")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Approve is not offered to you: rule role-permission"), "{}", refused.body);
    assert!(!refused.body.contains(">Approve</button>"), "no form is offered to a role that may never take it");
}
