//! The operation pages (8.1, A.3.3, A.8, A.10), generated from their declarations: lists that
//! link the area's registers under the "Operation" entry, a supplier's page listing its
//! reviews, an incident's page raising a nonconformity, and the public concern form and status
//! page, for anyone and without an account. On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::{CONCERN, INCIDENT, SUPPLIER, SUPPLIER_REVIEW};
use aims_domain::validate::KindSpec;
use axum::http::StatusCode;
use serde_json::Value;

use super::{Backend, TestUi, form_version, member_of, start_on};

/// The demo record of `spec` whose `field` is `value`.
async fn demo_record(ui: &TestUi, spec: &KindSpec, field: &str, value: &str) -> aims_store::model::Record {
    let owner = member_of(ui, Role::Owner).await;
    let all = ui.app.list_records(&owner, spec, false, 0, 200).await.expect("records");
    all.items.into_iter().find(|r| r.data[field] == value).unwrap_or_else(|| panic!("no demo {} {value}", spec.kind))
}

async fn pages(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let editor = ui.sign_in(Role::Editor).await;
    for (collection, serves) in [("incidents", "A.8.4"), ("concerns", "A.3.3"), ("suppliers", "A.10.3"), ("supplier-reviews", "A.10.3")] {
        let list = ui.get(&format!("/orgs/demo/{collection}"), Some(&editor)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(serves), "{collection} serves {serves}");
        for other in ["incidents", "concerns", "suppliers", "supplier-reviews"] {
            assert!(list.body.contains(&format!(r#"href="/orgs/demo/{other}""#)), "{collection} links {other}");
        }
        assert!(list.body.contains("Operation"), "the nav entry");
    }

    // A supplier's page shows its AI services and the reviews that name it.
    let lumen = demo_record(&ui, &SUPPLIER, "name", "Lumen AI Ltd").await;
    let page = ui.get(&format!("/orgs/demo/suppliers/{}", lumen.id), Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Lumen-3 chat completion API") && page.body.contains("Lumen AI annual due diligence"), "{}", page.body);
    let review = demo_record(&ui, &SUPPLIER_REVIEW, "title", "Lumen AI annual due diligence").await;
    let page = ui.get(&format!("/orgs/demo/supplier-reviews/{}", review.id), Some(&editor)).await;
    assert!(page.body.contains("AI due diligence") && page.body.contains(r#"<h2 id="decision-h">Decision</h2>"#), "{}", page.body);

    // The demo incident: raised from a concern, it raised a nonconformity; another is raised here.
    let incident = demo_record(&ui, &INCIDENT, "title", "Support assistant disclosed another customer's order details").await;
    let path = format!("/orgs/demo/incidents/{}", incident.id);
    let page = ui.get(&path, Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"<h2 id="rnc-h">Nonconformities raised</h2>"#), "{}", page.body);
    assert!(page.body.contains("Assistant&#x27;s order look-up returned orders") || page.body.contains("order look-up returned"));
    let version = form_version(&page.body);
    let raised = ui
        .post(
            &format!("{path}/raise-nonconformity"),
            Some(&editor),
            &[("version", &version), ("title", "Order look-up without the customer")],
        )
        .await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.body);
    let viewer = member_of(&ui, Role::Viewer).await;
    let after = ui.app.get_record(&viewer, &INCIDENT, &incident.id).await.expect("incident");
    assert_eq!(after.data["nonconformity_ids"].as_array().map(Vec::len), Some(2));
    let viewer_cookie = ui.sign_in(Role::Viewer).await;
    let as_viewer = ui.get(&path, Some(&viewer_cookie)).await;
    assert!(!as_viewer.body.contains("/raise-nonconformity\""), "a viewer gets no form");

    // The triaged demo concern shows what triage recorded.
    let concern = demo_record(&ui, &CONCERN, "subject", "The chat assistant showed me someone else's order").await;
    let page = ui.get(&format!("/orgs/demo/concerns/{}", concern.id), Some(&editor)).await;
    assert!(page.body.contains(r#"<h2 id="triage-h">Triage</h2>"#) && page.body.contains("Public intake"), "{}", page.body);
}

async fn public_form(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    // No account: the form, then a refusal naming the field, then the concern and its link.
    let form = ui.get("/trust/demo/concerns/new", None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Raise a concern about an AI system") && form.body.contains(r#"action="/trust/demo/concerns""#));
    assert_eq!(ui.get("/trust/nobody/concerns/new", None).await.status, StatusCode::NOT_FOUND);
    let refused = ui.post("/trust/demo/concerns", None, &[("subject", "Unfair"), ("description", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"id="description-error""#) && refused.body.contains(r#"value="Unfair""#), "{}", refused.body);
    let sent = ui.post("/trust/demo/concerns", None, &[("subject", "Unfair"), ("description", "Rejected in minutes")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let status_page = sent.location.clone().expect("status page");
    assert!(status_page.starts_with("/trust/demo/concerns/aims_concern_") && status_page.ends_with("?sent=1"), "{status_page}");
    let status = ui.get(&status_page, None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(status.body.contains("Your concern was sent") && status.body.contains("No answer yet"), "{}", status.body);
    assert!(!status.body.contains("Rejected in minutes"), "the status page shows the state and answer only");
    let token = status_page.trim_start_matches("/trust/demo/concerns/").trim_end_matches("?sent=1").to_owned();
    assert_eq!(ui.get(&format!("/trust/acme/concerns/{token}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(ui.get("/trust/demo/concerns/aims_concern_nothing", None).await.status, StatusCode::NOT_FOUND);
    // Inside, the concern is there, received through the public intake.
    let viewer = member_of(&ui, Role::Viewer).await;
    let concerns = ui.app.list_records(&viewer, &CONCERN, false, 0, 50).await.expect("concerns");
    let mine = concerns.items.iter().find(|c| c.data["subject"] == "Unfair").expect("received");
    assert_eq!(mine.data["received_via"], Value::from("public_intake"));
}

#[tokio::test]
async fn operation_pages_list_review_and_raise_sqlite() {
    pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn operation_pages_list_review_and_raise_postgres() {
    pages(Backend::Postgres).await;
}

#[tokio::test]
async fn the_public_concern_form_needs_no_account_sqlite() {
    public_form(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_public_concern_form_needs_no_account_postgres() {
    public_form(Backend::Postgres).await;
}
