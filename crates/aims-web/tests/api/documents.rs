//! Controls and documented information through the API: SoA approval frozen in revisions,
//! evidence files (upload, download, new versions, refusals, a second instance), policies
//! through their life with acknowledgements and diffs, objectives and measurements,
//! competence gaps, communications, and traces both ways.

use aims_domain::kinds;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, multipart_body};

const BASE: &str = "/api/v1/orgs/acme";

async fn create(t: &TestApp, role: &str, collection: &str, body: Value) -> Value {
    let reply = t.post(role, &format!("{BASE}/{collection}"), &body).await;
    assert_eq!(reply.status, 201, "{collection}: {}", reply.text);
    reply.json()
}

async fn transition(t: &TestApp, role: &str, path: &str, name: &str, body: Value) -> Reply {
    let version = t.get("viewer", path).await.json()["version"].as_i64().expect("version");
    t.call(t.token(role), Method::POST, &format!("{path}/{name}"), Some(&body), &[("if-match", &format!("\"{version}\""))]).await
}

async fn upload(t: &TestApp, role: &str, metadata: &Value, name: &str, content_type: &str, content: &str) -> Reply {
    let (multipart, body) = multipart_body(Some(metadata), name, content_type, content);
    t.send_raw(role, Method::POST, &format!("{BASE}/evidence"), &multipart, body.into_bytes(), &[]).await
}

/// The fields a 422 names, sorted.
fn named(reply: &Reply) -> Vec<String> {
    let mut fields = reply.problem(422);
    fields.sort();
    fields
}

fn id(record: &Value) -> String {
    record["id"].as_str().expect("id").to_owned()
}

async fn soa_approval_freezes_every_entry(backend: Backend) {
    let t = TestApp::start(backend).await;
    let excluded = t.patch("editor", &format!("{BASE}/controls/A.7.6"), 1, &json!({"applicable": false})).await;
    assert_eq!(named(&excluded), vec!["justification"]);
    let excluded =
        t.patch("editor", &format!("{BASE}/controls/A.7.6"), 1, &json!({"applicable": false, "justification": "We acquire no data"})).await;
    assert_eq!(excluded.status, 200, "{}", excluded.text);
    let risk = create(&t, "editor", "risks", json!({"title": "Drift", "source_category": "technical", "control_refs": ["A.6.2.6"]})).await;

    transition(&t, "editor", &format!("{BASE}/soa"), "approve", json!({})).await.problem(403);
    transition(&t, "admin", &format!("{BASE}/soa"), "approve", json!({"reason": "x"})).await.problem(422);
    let approved = transition(&t, "admin", &format!("{BASE}/soa"), "approve", json!({"comment": "Board approval"})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let soa = approved.json();
    assert_eq!((soa["state"].as_str(), soa["approved_revision"].as_i64()), (Some("approved"), Some(1)));

    let frozen = t.get("auditor", &format!("{BASE}/soa/revisions/1")).await.json();
    let entries = frozen["data"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 38);
    assert_eq!(frozen["data"]["summary"], json!({"controls": 38, "applicable": 37, "excluded": 1}));
    let entry = |entries: &[Value], reference: &str| entries.iter().find(|e| e["ref"] == reference).cloned().expect("entry");
    assert_eq!(entry(entries, "A.7.6")["justification"], "We acquire no data");
    assert_eq!(entry(entries, "A.6.2.6")["risk_ids"], json!([id(&risk)]));

    let later = t.get("editor", &format!("{BASE}/controls/A.7.6")).await.json();
    let changed = t
        .patch(
            "editor",
            &format!("{BASE}/controls/A.7.6"),
            later["version"].as_i64().expect("v"),
            &json!({"applicable": true, "justification": null}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let again = t.get("viewer", &format!("{BASE}/soa/revisions/1")).await.json();
    assert_eq!(again, frozen, "an approved revision reads back exactly as approved");
    let second = transition(&t, "owner", &format!("{BASE}/soa"), "approve", json!({})).await.json();
    assert_eq!(second["approved_revision"], 2);
    let revision = t.get("viewer", &format!("{BASE}/soa/revisions/2")).await.json();
    assert_eq!(entry(revision["data"]["entries"].as_array().expect("entries"), "A.7.6")["applicable"], true);
}

async fn evidence_files_are_stored_by_hash_and_served_back(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Scoring"})).await;
    let metadata = json!({"title": "Validation report", "evidence_type": "report", "ai_system_ids": [id(&system)], "control_refs": ["A.6.2.4"], "requirement_refs": ["8.2"]});
    let created = upload(&t, "editor", &metadata, "validation.md", "text/markdown", "# Validation\nGini 0.61\n").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let evidence = created.json();
    let path = format!("{BASE}/evidence/{}", id(&evidence));
    assert_eq!(created.header("location"), Some(path.as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(evidence["sha256"], aims_store::files::sha256_hex(b"# Validation\nGini 0.61\n"));
    assert_eq!((evidence["file_name"].as_str(), evidence["size_bytes"].as_i64()), (Some("validation.md"), Some(23)));

    let download = t.get("viewer", &format!("{path}/content")).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.text, "# Validation\nGini 0.61\n");
    assert_eq!(download.header("content-type"), Some("text/markdown"));
    assert!(download.header("content-disposition").is_some_and(|d| d.starts_with("attachment") && d.contains("validation.md")));
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));

    // Traceability both ways: the control and the AI system see the evidence, the evidence sees them.
    let from_control = t.get("viewer", &format!("{BASE}/controls/A.6.2.4/trace")).await.json();
    assert_eq!(from_control["links"]["evidence"][0]["record"]["id"], evidence["id"]);
    assert_eq!(from_control["links"]["evidence"][0]["direction"], "incoming");
    let from_system = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems/{}/trace", id(&system))).await.json();
    assert_eq!(from_system["links"]["evidence"][0]["record"]["id"], evidence["id"]);
    let from_evidence = t.get("viewer", &format!("{path}/trace")).await.json();
    for kind in ["ai_system", "control", "requirement"] {
        assert_eq!(from_evidence["links"][kind][0]["direction"], "outgoing", "{kind}");
    }

    let (multipart, body) = multipart_body(None, "validation-v2.md", "text/markdown", "# Validation v2\n");
    t.send_raw("editor", Method::POST, &format!("{path}/content"), &multipart, body.clone().into_bytes(), &[]).await.problem(428);
    t.send_raw("editor", Method::POST, &format!("{path}/content"), &multipart, body.clone().into_bytes(), &[("if-match", "\"9\"")])
        .await
        .problem(412);
    let replaced =
        t.send_raw("editor", Method::POST, &format!("{path}/content"), &multipart, body.into_bytes(), &[("if-match", "\"1\"")]).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.json()["file_revision"], 2);
    assert_eq!(t.get("viewer", &format!("{path}/content")).await.text, "# Validation v2\n");
    assert_eq!(t.get("viewer", &format!("{path}/content?revision=1")).await.text, "# Validation\nGini 0.61\n");
    assert_eq!(t.get("viewer", &format!("{path}/revisions")).await.json()["items"].as_array().map(Vec::len), Some(2));
    t.get("viewer", &format!("{path}/content?revision=x")).await.problem(422);
    t.get("viewer", &format!("{path}/content?revision=7")).await.problem(404);

    let elsewhere = t.second_instance().await;
    let other = t.client.get(format!("{elsewhere}{path}/content")).bearer_auth(t.token("auditor")).send().await.expect("request");
    assert_eq!(other.status(), 200);
    assert_eq!(other.text().await.expect("body"), "# Validation v2\n", "a second instance on the same database serves the file");
}

async fn bad_uploads_are_refused_and_write_nothing(backend: Backend) {
    let t = TestApp::start_with(backend, |app| app.max_upload_bytes = 64).await;
    let events = t.event_count().await;
    let ok = json!({"title": "Report"});
    upload(&t, "editor", &ok, "tool.exe", "application/x-msdownload", "MZ").await.problem(415);
    let disguised = upload(&t, "editor", &ok, "report.pdf", "application/pdf", "just text, not a PDF").await;
    disguised.problem(415);
    assert!(disguised.json()["detail"].as_str().is_some_and(|d| d.contains("does not match")));
    let large = upload(&t, "editor", &ok, "big.txt", "text/plain", &"x".repeat(65)).await;
    large.problem(413);
    let fields = upload(
        &t,
        "editor",
        &json!({"title": "R", "evidence_type": "rumour", "review_by": "soon", "colour": 1}),
        "a.txt",
        "text/plain",
        "a",
    )
    .await;
    assert_eq!(named(&fields), vec!["colour", "evidence_type", "review_by"]);
    let other_org_system =
        t.call(&t.other_token, Method::POST, "/api/v1/orgs/other/ai-systems", Some(&json!({"name": "Theirs"})), &[]).await.json();
    let linked = upload(
        &t,
        "editor",
        &json!({"title": "R", "ai_system_ids": [id(&other_org_system)], "control_refs": ["A.99"]}),
        "a.txt",
        "text/plain",
        "a",
    )
    .await;
    assert_eq!(named(&linked), vec!["ai_system_ids[0]", "control_refs[0]"]);
    let (multipart, body) = multipart_body(Some(&ok), "a.txt", "text/plain", "");
    t.send_raw("editor", Method::POST, &format!("{BASE}/evidence"), &multipart, body.into_bytes(), &[]).await.problem(422);
    let no_file = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--b--\r\n";
    let reply =
        t.send_raw("editor", Method::POST, &format!("{BASE}/evidence"), "multipart/form-data; boundary=b", no_file.into(), &[]).await;
    assert_eq!(named(&reply), vec!["file"]);
    let bad_json = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{nope\r\n--b--\r\n";
    t.send_raw("editor", Method::POST, &format!("{BASE}/evidence"), "multipart/form-data; boundary=b", bad_json.into(), &[])
        .await
        .problem(400);
    t.post("editor", &format!("{BASE}/evidence"), &ok).await.problem(415);
    upload(&t, "viewer", &ok, "a.txt", "text/plain", "a").await.problem(403);
    assert_eq!(t.event_count().await, events, "no refused upload wrote an event");
    assert_eq!(t.get("viewer", &format!("{BASE}/evidence")).await.json()["items"], json!([]));
}

async fn policies_move_through_review_to_acknowledgement(backend: Backend) {
    let t = TestApp::start(backend).await;
    let missing = t.post("editor", &format!("{BASE}/policies"), &json!({"title": "AI policy", "topic": "ethics"})).await;
    assert_eq!(named(&missing), vec!["body", "topic"]);
    let policy = create(
        &t,
        "editor",
        "policies",
        json!({"title": "AI policy", "topic": "ai_policy", "body": "Owners for every system.\nReview yearly.\n"}),
    )
    .await;
    assert_eq!(policy["state"], "draft");
    let path = format!("{BASE}/policies/{}", id(&policy));
    transition(&t, "admin", &path, "approve", json!({})).await.problem(409);
    transition(&t, "editor", &path, "publish", json!({})).await.problem(403);
    assert_eq!(transition(&t, "editor", &path, "submit", json!({"comment": "Ready"})).await.json()["state"], "in_review");
    transition(&t, "editor", &path, "approve", json!({})).await.problem(403);
    assert_eq!(named(&transition(&t, "admin", &path, "reject", json!({})).await), vec!["reason"]);
    assert_eq!(transition(&t, "admin", &path, "reject", json!({"reason": "Name the owner"})).await.json()["state"], "draft");
    let current = t.get("admin", &path).await.json();
    let edited = t
        .patch(
            "admin",
            &path,
            current["version"].as_i64().expect("v"),
            &json!({"body": "Owners for every system.\nAn AI owner is named.\nReview yearly.\n"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    transition(&t, "editor", &path, "submit", json!({})).await;
    let own = transition(&t, "admin", &path, "approve", json!({})).await;
    own.problem(403);
    assert!(own.json()["detail"].as_str().is_some_and(|d| d.contains("separation-of-duties")), "an author may not approve");
    assert_eq!(transition(&t, "owner", &path, "approve", json!({"comment": "Fine"})).await.json()["state"], "approved");
    let published = transition(&t, "admin", &path, "publish", json!({})).await.json();
    assert_eq!((published["state"].as_str(), published["published_revision"].as_i64()), (Some("published"), Some(1)));

    let acknowledged = transition(&t, "viewer", &path, "acknowledge", json!({})).await.json();
    let viewer = t.member("viewer").await;
    assert_eq!(acknowledged["acknowledgements"][0]["user_id"], viewer.user_id.as_str());
    assert_eq!(acknowledged["acknowledgements"][0]["revision"], 1);
    transition(&t, "viewer", &path, "acknowledge", json!({})).await.problem(409);

    let current = t.get("editor", &path).await.json();
    let next = t
        .patch(
            "editor",
            &path,
            current["version"].as_i64().expect("v"),
            &json!({"body": "Owners for every system.\nAn AI owner is named.\nReview every six months.\n"}),
        )
        .await
        .json();
    assert_eq!(next["state"], "draft", "changing a published policy starts its next edition");
    let in_force = transition(&t, "auditor", &path, "acknowledge", json!({})).await.json();
    assert_eq!((in_force["state"].as_str(), in_force["acknowledgements"][1]["revision"].as_i64()), (Some("draft"), Some(1)));
    let notes = in_force["workflow_notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n["action"] == "reject" && n["note"] == "Name the owner"), "the reason for sending back is kept");
    let frozen = t.get("viewer", &format!("{path}/revisions/1")).await.json();
    assert!(frozen["data"]["body"].as_str().is_some_and(|b| b.contains("Review yearly")));
    let diff = t.get("viewer", &format!("{path}/diff?from=1")).await.json();
    let ops: Vec<(String, String)> = diff["body"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| (l["op"].as_str().unwrap_or("").into(), l["text"].as_str().unwrap_or("").into()))
        .collect();
    assert!(
        ops.contains(&("delete".into(), "Review yearly.".into())) && ops.contains(&("insert".into(), "Review every six months.".into()))
    );
    t.get("viewer", &format!("{path}/diff")).await.problem(422);
    t.get("viewer", &format!("{path}/diff?from=1&to=9")).await.problem(404);
    t.get("viewer", &format!("{path}/diff?from=1&colour=red")).await.problem(422);
}

async fn objectives_track_their_measurements(backend: Backend) {
    let t = TestApp::start(backend).await;
    let bad = t
        .post("editor", &format!("{BASE}/objectives"), &json!({"title": "Gap", "metric": "pp", "target": "low", "direction": "down"}))
        .await;
    assert_eq!(named(&bad), vec!["direction", "target"]);
    let same = t.post("editor", &format!("{BASE}/objectives"), &json!({"title": "Gap", "metric": "pp", "target": 3, "baseline": 3})).await;
    assert_eq!(named(&same), vec!["target"]);
    let objective = create(
        &t,
        "editor",
        "objectives",
        json!({"title": "Gap", "metric": "Approval gap", "unit": "pp", "direction": "at_most", "target": 3, "baseline": 7.5}),
    )
    .await;
    assert_eq!((objective["measurement_count"].as_i64(), objective["on_track"].is_null()), (Some(0), true));
    let measurements = format!("{BASE}/objectives/{}/measurements", id(&objective));
    let wrong = t.post("editor", &measurements, &json!({"value": "six", "measured_on": "2026-13-01"})).await;
    assert_eq!(named(&wrong), vec!["measured_on", "value"]);
    for (value, on) in [(6.1, "2026-09-01"), (2.9, "2026-11-01"), (4.0, "2026-10-01")] {
        assert_eq!(t.post("editor", &measurements, &json!({"value": value, "measured_on": on})).await.status, 201);
    }
    let now = t.get("viewer", &format!("{BASE}/objectives/{}", id(&objective))).await.json();
    assert_eq!((now["latest_value"].as_f64(), now["latest_measured_on"].as_str()), (Some(2.9), Some("2026-11-01")));
    assert_eq!((now["on_track"].as_bool(), now["measurement_count"].as_i64()), (Some(true), Some(3)));
    let stricter = t
        .patch("editor", &format!("{BASE}/objectives/{}", id(&objective)), now["version"].as_i64().expect("v"), &json!({"target": 2}))
        .await;
    assert_eq!(stricter.json()["on_track"], false, "a new target re-judges the latest figure");
    let list = t.get("viewer", &measurements).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
}

async fn competence_gaps_follow_roles_and_training(backend: Backend) {
    let t = TestApp::start(backend).await;
    let bad = t.post("editor", &format!("{BASE}/people"), &json!({"name": " ", "roles": "Model validator", "user_id": "sam"})).await;
    assert_eq!(named(&bad), vec!["name", "roles", "user_id"]);
    let bad = t
        .post("editor", &format!("{BASE}/competences"), &json!({"name": "Validation", "renewal_months": 0, "required_for_roles": [""]}))
        .await;
    assert_eq!(named(&bad), vec!["renewal_months", "required_for_roles[0]"]);
    let outsider = t.app.member_by_email("owner@other.example", "other").await.expect("outsider");
    let bad = t.post("editor", &format!("{BASE}/people"), &json!({"name": "Sam", "user_id": outsider.user_id})).await;
    assert_eq!(named(&bad), vec!["user_id"]);
    let person = create(&t, "editor", "people", json!({"name": "Sam", "roles": ["Model validator"]})).await;
    let competence = create(&t, "editor", "competences", json!({"name": "Validation", "required_for_roles": ["model validator"]})).await;
    let gaps = t.get("viewer", &format!("{BASE}/competence-gaps")).await.json();
    assert_eq!(gaps["items"][0]["status"], "missing");
    assert_eq!(gaps["items"][0]["person_name"], "Sam");
    let bad = t
        .post(
            "editor",
            &format!("{BASE}/trainings"),
            &json!({"person_id": id(&person), "title": "Course", "completed_on": "2026-05-01", "expires_on": "2026-01-01"}),
        )
        .await;
    assert_eq!(named(&bad), vec!["expires_on"]);
    create(&t, "editor", "trainings", json!({"person_id": id(&person), "title": "Old course", "competence_ids": [id(&competence)], "completed_on": "2020-01-01", "expires_on": "2021-01-01"})).await;
    let gaps = t.get("viewer", &format!("{BASE}/competence-gaps")).await.json();
    assert_eq!((gaps["items"][0]["status"].as_str(), gaps["items"][0]["expired_on"].as_str()), (Some("expired"), Some("2021-01-01")));
    create(
        &t,
        "editor",
        "trainings",
        json!({"person_id": id(&person), "title": "Course", "competence_ids": [id(&competence)], "completed_on": "2026-01-01"}),
    )
    .await;
    assert_eq!(t.get("viewer", &format!("{BASE}/competence-gaps")).await.json()["items"], json!([]));
    let trainings = t.get("viewer", &format!("{BASE}/trainings?person_id={}", id(&person))).await.json();
    assert_eq!(trainings["items"].as_array().map(Vec::len), Some(2));
}

async fn communications_and_owner_filters(backend: Backend) {
    let t = TestApp::start(backend).await;
    let bad = t
        .post(
            "editor",
            &format!("{BASE}/communications"),
            &json!({"subject": "Launch", "audience": "All", "channel": "pigeon", "records": [{"communicated_on": "yesterday"}]}),
        )
        .await;
    assert_eq!(named(&bad), vec!["channel", "records[0].communicated_on", "records[0].summary"]);
    let plan = create(&t, "editor", "communications", json!({"subject": "Launch", "audience": "All staff", "channel": "intranet"})).await;
    let path = format!("{BASE}/communications/{}", id(&plan));
    let recorded =
        t.patch("editor", &path, 1, &json!({"records": [{"communicated_on": "2026-11-20", "summary": "Article published"}]})).await;
    assert_eq!(recorded.json()["records"][0]["summary"], "Article published");

    let editor = t.member("editor").await;
    create(&t, "admin", "actions", json!({"title": "Mine", "owner_id": editor.user_id})).await;
    create(&t, "admin", "actions", json!({"title": "Not mine"})).await;
    let mine = t.get("editor", &format!("{BASE}/actions?owner_id={}&status=open", editor.user_id)).await.json();
    let titles: Vec<&str> = mine["items"].as_array().expect("items").iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(titles, vec!["Mine"]);
    assert_eq!(named(&t.get("editor", &format!("{BASE}/actions?owner_id=me")).await), vec!["owner_id"]);
}

/// A trace returns at most 50 records per group, with the full counts.
async fn traces_are_capped_per_group_with_counts(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Busy"})).await;
    for i in 0..51 {
        create(&t, "editor", "risks", json!({"title": format!("Risk {i}"), "source_category": "technical", "ai_system_ids": [id(&system)], "control_refs": ["A.6.2.6"]})).await;
    }
    let trace = t.get("viewer", &format!("{BASE}/ai-systems/{}/trace", id(&system))).await.json();
    assert_eq!(trace["links"]["risk"].as_array().map(Vec::len), Some(50));
    assert_eq!((trace["counts"]["risk"].as_i64(), trace["truncated"].as_bool()), (Some(51), Some(true)));
    assert_eq!(trace["links"]["risk"][0]["record"]["title"], "Risk 0", "the earliest first");
    let control = t.get("viewer", &format!("{BASE}/controls/A.6.2.6/trace")).await.json();
    assert_eq!(control["counts"]["risk"], 51);
    assert_eq!(control["links"]["risk"].as_array().map(Vec::len), Some(50));
    assert_eq!(control["links"]["risk"][0]["record"]["title"], "Risk 0", "incoming groups too");
    let small = t.get("viewer", &format!("{BASE}/controls/A.2.2/trace")).await.json();
    assert_eq!((small["counts"].as_object().map(|c| c.len()), small["truncated"].as_bool()), (Some(0), Some(false)));
    t.get("viewer", &format!("{BASE}/ai-systems/{}/trace", uuid::Uuid::now_v7())).await.problem(404);
    t.get("viewer", &format!("{BASE}/controls/A.99/trace")).await.problem(404);
    // A token's trace is read in one statement; a signed-in member's in several: the same records.
    let viewer = t.member("viewer").await;
    for (spec, key) in [(&kinds::AI_SYSTEM, id(&system)), (&kinds::CONTROL, "A.6.2.6".to_owned())] {
        let by_member = t.app.trace_json(&viewer, spec, &key).await.expect("trace as member");
        let by_token = t.app.trace_json_by_token(t.token("viewer"), "acme", spec, &key).await.expect("trace by token");
        assert_eq!(by_member, by_token, "{}", spec.kind);
    }
}

on_both_backends!(
    traces_are_capped_per_group_with_counts,
    soa_approval_freezes_every_entry,
    evidence_files_are_stored_by_hash_and_served_back,
    bad_uploads_are_refused_and_write_nothing,
    policies_move_through_review_to_acknowledgement,
    objectives_track_their_measurements,
    competence_gaps_follow_roles_and_training,
    communications_and_owner_filters,
);
