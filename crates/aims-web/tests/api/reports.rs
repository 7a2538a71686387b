//! Reports through the API: every kind in every format it offers (content type, file name, the
//! bytes of a real PDF/XLSX/DOCX/ZIP), the refusals (unknown kind 404, a format the kind lacks
//! 422 naming `format`, a missing, unclosed or foreign `id`), the source data's hash, the Stage 1
//! pack's manifest, and drift: a record changed after a document was issued from it.

use std::io::Read;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp};
use crate::workflows::{change, create, take, taken};

const BASE: &str = "/api/v1/orgs/acme";

struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    source_sha256: String,
    bytes: Vec<u8>,
}

async fn download(t: &TestApp, role: &str, path: &str) -> Download {
    let response = t.client.get(format!("{}{path}", t.base)).bearer_auth(t.token(role)).send().await.expect("request");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, content_type, disposition, source_sha256) =
        (response.status().as_u16(), header("content-type"), header("content-disposition"), header("x-aims-source-sha256"));
    let bytes = response.bytes().await.expect("body").to_vec();
    Download { status, content_type, disposition, source_sha256, bytes }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            let mut content = Vec::new();
            file.read_to_end(&mut content).expect("read entry");
            (file.name().expect("entry name").into_owned(), content)
        })
        .collect()
}

/// A closed management review (held, then closed by an admin), by id.
async fn closed_review(t: &TestApp) -> String {
    let review = create(t, "editor", "management-reviews", json!({"title": "Annual review", "planned_on": "2026-03-01"})).await;
    taken(&take(t, "editor", &review, "hold", &json!({})).await);
    taken(&take(t, "editor", &review, "decide", &json!({"decision": "Keep the AI policy as it is"})).await);
    taken(&take(t, "admin", &review, "close", &json!({})).await);
    review.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn every_kind_in_every_format(backend: Backend) {
    let t = TestApp::start(backend).await;
    create(&t, "editor", "ai-systems", json!({"name": "Claims triage model", "purpose": "=cmd|' /C calc'!A0"})).await;
    create(
        &t,
        "editor",
        "risks",
        json!({"title": "Biased triage", "source_category": "technical", "inherent_likelihood": 4, "inherent_consequence": 4}),
    )
    .await;
    let review = closed_review(&t).await;
    let audit = t.audit_led_by("acme", "auditor", true).await;
    let audit = audit.rsplit('/').next().unwrap_or_default().to_owned();

    let kinds = t.get("viewer", &format!("{BASE}/reports")).await.json();
    let listed: Vec<&str> = kinds["items"].as_array().expect("items").iter().filter_map(|k| k["kind"].as_str()).collect();
    assert!(listed.contains(&"soa") && listed.contains(&"stage1-pack"), "{listed:?}");

    let today = aims_domain::clock::format_date(aims_domain::clock::today());
    let cases: &[(&str, &str, &str, &[u8])] = &[
        ("soa", "pdf", "application/pdf", b"%PDF-"),
        ("soa", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("soa", "csv", "text/csv; charset=utf-8", b"Ref,Control"),
        ("soa", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
        ("soa", "json", "application/json", b"{"),
        ("ai-system-register", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("ai-system-register", "csv", "text/csv; charset=utf-8", b"Name,"),
        ("risk-register", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("risk-register", "csv", "text/csv; charset=utf-8", b"Title,"),
        ("executive-summary", "pdf", "application/pdf", b"%PDF-"),
        ("stage1-pack", "zip", "application/zip", b"PK"),
    ];
    for (kind, format, content_type, magic) in cases {
        let got = download(&t, "viewer", &format!("{BASE}/reports/{kind}?format={format}")).await;
        assert_eq!(got.status, 200, "{kind} {format}: {}", String::from_utf8_lossy(&got.bytes));
        assert_eq!(&got.content_type, content_type, "{kind} {format}");
        assert_eq!(got.disposition, format!("attachment; filename=\"acme-{kind}-{today}.{format}\""));
        assert!(
            got.bytes.starts_with(magic),
            "{kind} {format} starts with {:?}",
            String::from_utf8_lossy(&got.bytes[..got.bytes.len().min(20)])
        );
    }
    for (kind, id) in [("management-review", &review), ("internal-audit", &audit)] {
        let got = download(&t, "auditor", &format!("{BASE}/reports/{kind}?format=pdf&id={id}")).await;
        assert_eq!((got.status, got.content_type.as_str()), (200, "application/pdf"), "{kind}: {}", String::from_utf8_lossy(&got.bytes));
        assert!(got.bytes.starts_with(b"%PDF-"));
    }
    let minutes = download(&t, "viewer", &format!("{BASE}/reports/management-review?format=docx&id={review}")).await;
    assert_eq!(minutes.status, 200);
    assert!(minutes.bytes.starts_with(b"PK"));

    // The register's CSV defuses a formula, names the system, and its footer hash is that of
    // the JSON download.
    let csv = download(&t, "viewer", &format!("{BASE}/reports/ai-system-register?format=csv")).await;
    let text = String::from_utf8(csv.bytes).expect("UTF-8");
    assert!(text.contains("Claims triage model") && text.contains("'=cmd"), "{text}");
    let data = download(&t, "viewer", &format!("{BASE}/reports/ai-system-register?format=json")).await;
    assert_eq!(sha256(&data.bytes), csv.source_sha256, "the JSON download is the hashed source data");
    assert!(text.contains(&csv.source_sha256), "the CSV's footer carries the hash");
    let source: Value = serde_json::from_slice(&data.bytes).expect("JSON");
    assert!(source["records"].as_array().is_some_and(|r| r.iter().any(|r| r["kind"] == "ai_system" && r["version"] == 1)));

    // The transparency disclosures as one printable page, and the activity log as CSV and as
    // the signed export (a key in the environment, so no key file is written beside the tests).
    // SAFETY: nextest runs each test in its own process; no other thread reads the environment yet.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", "5e".repeat(32)) };
    let disclosure = download(&t, "viewer", &format!("{BASE}/reports/transparency?format=html")).await;
    assert_eq!((disclosure.status, disclosure.content_type.as_str()), (200, "text/html; charset=utf-8"));
    let page = String::from_utf8(disclosure.bytes).expect("UTF-8");
    assert!(page.starts_with("<!doctype html>") && page.contains("No AI system&#39;s disclosure is published yet."), "{page}");
    let log = download(&t, "viewer", &format!("{BASE}/reports/activity?format=csv")).await;
    assert_eq!((log.status, log.content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let log = String::from_utf8(log.bytes).expect("UTF-8");
    assert!(
        log.starts_with("seq,id,at,actor,action,record_type,record_id,changes,prev_hash,hash") && log.contains("Biased triage"),
        "{log}"
    );
    let signed = download(&t, "auditor", &format!("{BASE}/reports/activity?format=json")).await;
    assert_eq!((signed.status, signed.content_type.as_str()), (200, "application/json"));
    let signed: Value = serde_json::from_slice(&signed.bytes).expect("JSON");
    assert!(signed["events"].as_array().is_some_and(|events| !events.is_empty()), "{signed}");
    assert!(signed["signature"]["value"].is_string(), "{signed}");
    let refused = t.get("viewer", &format!("{BASE}/reports/activity?format=pdf")).await;
    assert_eq!(refused.status, 422, "activity has no PDF");

    // The SoA lists the 38 Annex A controls, each with its version.
    let soa: Value = serde_json::from_slice(&download(&t, "viewer", &format!("{BASE}/reports/soa?format=json")).await.bytes).expect("JSON");
    let table = soa["blocks"].as_array().expect("blocks").iter().find(|b| b["type"] == "table").expect("a table");
    assert_eq!(table["rows"].as_array().map(Vec::len), Some(38));
    assert_eq!(table["rows"][0][0], "A.2.2");
}

async fn refusals_name_the_field(backend: Backend) {
    let t = TestApp::start(backend).await;
    let events = t.event_count().await;
    t.get("viewer", &format!("{BASE}/reports/nonsense")).await.problem(404);
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/executive-summary?format=xlsx")).await.problem(422), ["format"]);
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/soa?format=zip")).await.problem(422), ["format"]);
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/soa?format=pdf&id=x")).await.problem(422), ["id"]);
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/soa?colour=blue")).await.problem(422), ["colour"]);
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/management-review?format=pdf")).await.problem(422), ["id"]);
    let unknown = "00000000-0000-7000-8000-000000000000";
    t.get("viewer", &format!("{BASE}/reports/management-review?format=pdf&id={unknown}")).await.problem(404);
    t.get("viewer", &format!("{BASE}/reports/issued/{unknown}")).await.problem(404);
    let open = create(&t, "editor", "management-reviews", json!({"title": "Not yet", "planned_on": "2026-03-01"})).await;
    let open = open.rsplit('/').next().unwrap_or_default();
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/management-review?format=pdf&id={open}")).await.problem(422), ["id"]);
    // Another organisation's review is unknown here.
    let other_owner = t.app.member_by_email("owner@other.example", "other").await.expect("member");
    let spec = aims_domain::kinds::by_kind("management_review").expect("kind");
    let theirs = t.app.create_record(&other_owner, spec, &json!({"title": "Theirs", "planned_on": "2026-03-01"})).await.expect("review");
    t.get("viewer", &format!("{BASE}/reports/internal-audit?format=pdf&id={}", theirs.id)).await.problem(404);
    assert_eq!(t.event_count().await, events + 1, "refusals write nothing (the one event is the review created)");
}

async fn a_changed_record_shows_drift_on_documents_issued_from_it(backend: Backend) {
    let t = TestApp::start(backend).await;
    let events = t.event_count().await;
    let got = download(&t, "viewer", &format!("{BASE}/reports/soa?format=csv")).await;
    assert_eq!(got.status, 200);
    assert_eq!(t.event_count().await, events + 1, "issuing is one event");
    let issued = t.get("viewer", &format!("{BASE}/reports/issued")).await.json();
    let document = &issued["items"][0];
    assert_eq!((&document["kind"], &document["format"], &document["drifted"]), (&json!("soa"), &json!("csv"), &json!(false)));
    assert!(document["record_count"].as_i64().is_some_and(|n| n >= 39), "the SoA and its 38 controls: {document}");
    assert_eq!(document["sha256"], json!(sha256(&got.bytes)));
    assert!(issued["next_cursor"].is_null());

    change(&t, "editor", &format!("{BASE}/controls/A.5.2"), json!({"implementation_status": "implemented"})).await;
    let id = document["id"].as_str().expect("id");
    let now = t.get("viewer", &format!("{BASE}/reports/issued/{id}")).await.json();
    assert_eq!(now["drifted"], true);
    let changed = now["changed_records"].as_array().expect("changed records");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!((&changed[0]["ref"], &changed[0]["record_type"]), (&json!("A.5.2"), &json!("control")));
    assert_eq!(changed[0]["current_version"].as_i64(), changed[0]["issued_version"].as_i64().map(|v| v + 1));

    // A new issue of the same report is current again; the old one stays drifted.
    download(&t, "viewer", &format!("{BASE}/reports/soa?format=pdf")).await;
    let issued = t.get("viewer", &format!("{BASE}/reports/issued?limit=1")).await.json();
    assert_eq!((&issued["items"][0]["format"], &issued["items"][0]["drifted"]), (&json!("pdf"), &json!(false)));
    let next = issued["next_cursor"].as_str().expect("a second page");
    let older = t.get("viewer", &format!("{BASE}/reports/issued?limit=1&cursor={next}")).await.json();
    assert_eq!((&older["items"][0]["id"], &older["items"][0]["drifted"]), (&json!(id), &json!(true)));
    assert_eq!(t.get("viewer", &format!("{BASE}/reports/issued?cursor=nope")).await.problem(422), ["cursor"]);
}

async fn the_stage1_pack_manifest_verifies_and_names_what_is_missing(backend: Backend) {
    let t = TestApp::start(backend).await;
    create(&t, "editor", "ai-systems", json!({"name": "Underwriting assistant"})).await;
    let got = download(&t, "viewer", &format!("{BASE}/reports/stage1-pack?format=zip")).await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.bytes));
    let files = unzip(&got.bytes);
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(name, _)| name == "manifest.json").expect("manifest.json").1).expect("JSON");
    let listed = manifest["files"].as_array().expect("files");
    assert_eq!(listed.len(), files.len() - 1, "every file but the manifest is listed");
    for entry in listed {
        let path = entry["path"].as_str().expect("path");
        let (_, content) = files.iter().find(|(name, _)| name == path).unwrap_or_else(|| panic!("{path} is in the archive"));
        assert_eq!(entry["sha256"], json!(sha256(content)), "{path}");
    }
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "06-statement-of-applicability/06-statement-of-applicability.pdf",
        "06-statement-of-applicability/06-statement-of-applicability.docx",
        "06-statement-of-applicability/06-statement-of-applicability.json",
        "09-operational-planning/09-operational-planning.pdf",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let missing: Vec<&str> = manifest["missing"].as_array().expect("missing").iter().filter_map(Value::as_str).collect();
    assert!(missing.iter().any(|m| m.contains("no management review closed yet")), "{missing:?}");

    // Once a review is closed, its minutes are in the pack (PDF and DOCX).
    closed_review(&t).await;
    let files = unzip(&download(&t, "viewer", &format!("{BASE}/reports/stage1-pack?format=zip")).await.bytes);
    assert!(files.iter().any(|(name, _)| name == "13-management-review/13-management-review.docx"));
}

on_both_backends!(
    every_kind_in_every_format,
    refusals_name_the_field,
    a_changed_record_shows_drift_on_documents_issued_from_it,
    the_stage1_pack_manifest_verifies_and_names_what_is_missing,
);
