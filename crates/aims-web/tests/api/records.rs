//! Records through the generic routes: own controls, the gap assessment, archiving.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn own_controls_are_created_changed_and_archived(backend: Backend) {
    let t = TestApp::start(backend).await;
    let created = t
        .post(
            "editor",
            "/api/v1/orgs/acme/controls",
            &json!({"ref": "SEC-7", "title": "Model access review", "implementation_status": "planned"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/api/v1/orgs/acme/controls/SEC-7"));
    assert_eq!(created.header("etag"), Some("\"1\""));
    let body = created.json();
    assert_eq!(body["version"], 1);
    assert_eq!(body["ref"], "SEC-7");
    assert_eq!(body["source"], "own");
    assert_eq!(body["applicable"], true);
    assert!(uuid::Uuid::parse_str(body["id"].as_str().expect("id")).is_ok());
    t.post("editor", "/api/v1/orgs/acme/controls", &json!({"ref": "SEC-7", "title": "Again"})).await.problem(409);
    assert_eq!(
        t.post("editor", "/api/v1/orgs/acme/controls", &json!({"ref": "A.6.9", "title": "Squatter"})).await.problem(422),
        vec!["ref"]
    );
    let mut fields = t.post("editor", "/api/v1/orgs/acme/controls", &json!({"implementation_status": "done"})).await.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["implementation_status", "ref", "title"]);
    let changed = t.patch("editor", "/api/v1/orgs/acme/controls/SEC-7", 1, &json!({"title": "Quarterly model access review"})).await;
    assert_eq!(changed.json()["title"], "Quarterly model access review");
    let archived = t.call(t.token("editor"), Method::DELETE, "/api/v1/orgs/acme/controls/SEC-7", None, &[("if-match", "\"2\"")]).await;
    assert_eq!(archived.status, 200, "{}", archived.text);
    assert_eq!(archived.json()["archived"], true);
    let listed = t.get("viewer", "/api/v1/orgs/acme/controls?limit=200").await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(38), "archived records are hidden");
    let with_archived = t.get("viewer", "/api/v1/orgs/acme/controls?limit=200&archived=true").await.json();
    assert_eq!(with_archived["items"].as_array().map(Vec::len), Some(39));
    assert_eq!(t.get("viewer", "/api/v1/orgs/acme/controls/SEC-7").await.status, 200, "archived, never erased");
}

async fn catalogue_rows_cannot_be_created_or_archived(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.call(t.token("editor"), Method::DELETE, "/api/v1/orgs/acme/controls/A.2.2", None, &[("if-match", "\"1\"")]).await;
    reply.problem(409);
    let reply = t.post("editor", "/api/v1/orgs/acme/requirements", &json!({"status": "missing"})).await;
    assert_eq!(reply.status, 405);
}

async fn the_gap_assessment_records_status_owner_and_notes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let owner = t.member("admin").await;
    let reply = t
        .patch(
            "editor",
            "/api/v1/orgs/acme/requirements/6.1.2",
            1,
            &json!({"status": "in_place", "owner_id": owner.user_id, "notes": "Risk criteria approved"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["status"], "in_place");
    assert_eq!(body["owner_id"], owner.user_id.as_str());
    assert_eq!(body["updated_by"], t.member("editor").await.user_id.as_str());
    let cleared = t.patch("editor", "/api/v1/orgs/acme/requirements/6.1.2", 2, &json!({"owner_id": null, "status": null})).await;
    assert_eq!(cleared.problem(422), vec!["status"], "a required status cannot be cleared");
    let nothing = t.patch("editor", "/api/v1/orgs/acme/requirements/6.1.2", 2, &json!({"notes": "Risk criteria approved"})).await;
    assert_eq!(nothing.json()["version"], 2, "a patch that changes nothing writes nothing");
    let trace = t.get("viewer", "/api/v1/orgs/acme/requirements/6.1.2/trace").await.json();
    assert_eq!(trace["record"]["ref"], "6.1.2");
    assert!(trace["links"].is_object());
}

/// When PostgreSQL drops every connection (a restart, a failover), the next requests open new
/// ones instead of failing on the broken ones.
async fn requests_recover_when_the_database_drops_its_connections(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reads = ["/api/v1/orgs/acme/controls/A.2.2", "/api/v1/orgs/acme/controls?limit=5", "/api/v1/orgs/acme/controls/A.2.2/trace"];
    // Several times each: the first read checks the token in full, the next ones (remembered
    // check) use every pipelined connection.
    for _ in 0..4 {
        for path in reads {
            assert_eq!(t.get("viewer", path).await.status, 200, "{path}");
        }
    }
    if backend == Backend::Postgres {
        let database = sqlx::PgPool::connect(&t.database_url).await.expect("connect");
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&database)
        .await
        .expect("terminate");
        database.close().await;
    }
    for _ in 0..4 {
        for path in reads {
            let reply = t.get("viewer", path).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        }
    }
    let created = t.post("editor", "/api/v1/orgs/acme/ai-systems", &json!({"name": "After the restart"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
}

/// `?q=` finds records by name, title or reference in any case, with the other filters and
/// across pages; blank searches nothing and a very long text is refused.
async fn lists_search_names_titles_and_references(backend: Backend) {
    let t = TestApp::start(backend).await;
    for name in ["Credit Scorer", "Fraud scorer 100%", "Chat assistant", "Under_score"] {
        assert_eq!(t.post("editor", "/api/v1/orgs/acme/ai-systems", &json!({"name": name})).await.status, 201);
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().expect("items").iter().map(|i| i["name"].as_str().unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=SCORER").await.json()), ["Credit Scorer", "Fraud scorer 100%"]);
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=100%25").await.json()), ["Fraud scorer 100%"]);
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=t_a").await.json()), Vec::<String>::new(), "no wildcards");
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=r_s").await.json()), ["Under_score"]);
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=%22").await.json()), Vec::<String>::new());
    let first = t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=scorer&limit=1").await.json();
    assert_eq!(names(first.clone()), ["Credit Scorer"]);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
    let second = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems?q=scorer&limit=1&cursor={cursor}")).await.json();
    assert_eq!(names(second), ["Fraud scorer 100%"]);
    assert_eq!(names(t.get("viewer", "/api/v1/orgs/acme/ai-systems?q=%20").await.json()).len(), 4, "blank searches nothing");
    // References and titles: the catalogue's controls by ref, risks by title.
    let controls = t.get("viewer", "/api/v1/orgs/acme/controls?q=a.6.2.4").await.json();
    assert_eq!(controls["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems?q={}", "x".repeat(201))).await.problem(422), vec!["q"]);
}

on_both_backends!(
    lists_search_names_titles_and_references,
    own_controls_are_created_changed_and_archived,
    catalogue_rows_cannot_be_created_or_archived,
    the_gap_assessment_records_status_owner_and_notes,
    requests_recover_when_the_database_drops_its_connections
);
