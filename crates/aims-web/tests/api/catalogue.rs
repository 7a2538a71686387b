//! The ISO/IEC 42001 catalogue through the API: 32 requirements, 38 controls, natural order.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const FIRST_REQUIREMENTS: [&str; 10] = ["4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "6.1.1", "6.1.2", "6.1.3"];

async fn all_items(t: &TestApp, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let reply = t.get("viewer", &url).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.json();
        items.extend(body["items"].as_array().expect("items").iter().cloned());
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert!(body.as_object().expect("object").contains_key("next_cursor"), "next_cursor always present");
                break;
            }
        }
    }
    items
}

async fn requirements_are_the_32_leaves_in_document_order(backend: Backend) {
    let t = TestApp::start(backend).await;
    let items = all_items(&t, "/api/v1/orgs/acme/requirements", 7).await;
    let refs: Vec<&str> = items.iter().map(|i| i["ref"].as_str().expect("ref")).collect();
    assert_eq!(refs.len(), 32);
    assert_eq!(&refs[..10], &FIRST_REQUIREMENTS);
    assert_eq!(refs.last(), Some(&"10.2"));
    assert!(!refs.contains(&"6.1") && !refs.contains(&"4"), "headings are not items");
    let first = &items[0];
    assert_eq!(first["title"], "Understanding the organization and its context");
    assert_eq!(first["clause"], "4");
    assert_eq!(first["status"], "missing");
    assert!(first["id"].as_str().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    assert_eq!(first["version"], 1);
    // The default page is 50: all 32 in one page, with next_cursor null.
    let page = t.get("viewer", "/api/v1/orgs/acme/requirements").await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(32));
    assert_eq!(page["next_cursor"], Value::Null);
}

async fn controls_are_the_38_in_natural_order_then_own(backend: Backend) {
    let t = TestApp::start(backend).await;
    let created = t.post("editor", "/api/v1/orgs/acme/controls", &json!({"ref": "OWN-1", "title": "Our own control"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let items = all_items(&t, "/api/v1/orgs/acme/controls", 200).await;
    let refs: Vec<&str> = items.iter().map(|i| i["ref"].as_str().expect("ref")).collect();
    assert_eq!(refs.len(), 39);
    assert_eq!(refs[0], "A.2.2");
    assert_eq!(refs[14], "A.6.1.2");
    assert_eq!(refs[37], "A.10.4");
    assert_eq!(refs[38], "OWN-1");
    let a624 = t.get("viewer", "/api/v1/orgs/acme/controls/A.6.2.4").await;
    assert_eq!(a624.status, 200);
    assert_eq!(a624.json()["title"], "AI system verification and validation");
    assert_eq!(a624.json()["group"], "A.6");
    assert_eq!(a624.header("etag"), Some("\"1\""));
    let leaf = t.get("viewer", "/api/v1/orgs/acme/requirements/6.1.2").await;
    assert_eq!(leaf.json()["title"], "AI risk assessment");
}

async fn list_parameters_are_checked(backend: Backend) {
    let t = TestApp::start(backend).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("cursor=nonsense", "cursor"),
        ("colour=red", "colour"),
        ("archived=maybe", "archived"),
    ] {
        let reply = t.get("viewer", &format!("/api/v1/orgs/acme/controls?{query}")).await;
        assert_eq!(reply.problem(422), vec![field.to_owned()], "{query}");
    }
    let page = t.get("viewer", "/api/v1/orgs/acme/controls?limit=200").await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(38));
}

on_both_backends!(
    requirements_are_the_32_leaves_in_document_order,
    controls_are_the_38_in_natural_order_then_own,
    list_parameters_are_checked
);
