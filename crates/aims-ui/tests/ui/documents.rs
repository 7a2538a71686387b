//! Evidence and policies through their pages: multipart uploads with links, downloads, refused
//! files, and a policy's life from draft to acknowledgement, with the comparison of revisions.

use aims_app::demo::DemoUser;
use aims_domain::identity::Role;
use aims_domain::kinds::{AI_SYSTEM, EVIDENCE, POLICY};
use aims_store::sessions::DbSessionStore;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower_sessions::SessionManagerLayer;

use super::{Reply, TestUi, form_version, id_in, member_of, start};

const BOUNDARY: &str = "----aims-test-boundary-7MA4YWxkTrZu0gW";

/// A part of a multipart form: a text field, or a file with its name and content type.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

fn multipart_body(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            Part::File(name, file_name, content_type, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl TestUi {
    async fn post_multipart(&self, path: &str, cookie: &str, parts: &[Part<'_>]) -> Reply {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .header(header::COOKIE, cookie)
            .body(Body::from(multipart_body(parts)))
            .expect("request");
        self.send(request).await
    }

    async fn evidence_count(&self) -> usize {
        let admin = member_of(self, Role::Admin).await;
        self.app.list_records(&admin, &EVIDENCE, true, 0, 200).await.expect("list").items.len()
    }
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

#[tokio::test]
async fn evidence_upload_links_download_new_version_and_edit() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Editor).await;
    let editor = member_of(&ui, Role::Editor).await;
    let system = ui.app.list_records(&editor, &AI_SYSTEM, false, 0, 10).await.expect("systems").items.remove(0);
    let system_name = system.data["name"].as_str().unwrap_or_default().to_owned();

    let list = ui.get("/orgs/demo/evidence", Some(&cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    for needle in [
        r#"enctype="multipart/form-data""#,
        r#"<label for="file">File</label>"#,
        "What it supports",
        r#"name="control_refs" value="A.6.2.4""#,
    ] {
        assert!(list.body.contains(needle), "{needle}");
    }

    let uploaded = ui
        .post_multipart(
            "/orgs/demo/evidence",
            &cookie,
            &[
                Part::File("file", "model-card.pdf", "application/pdf", PDF),
                Part::Text("title", "Model card — credit scorer v3"),
                Part::Text("evidence_type", "test_result"),
                Part::Text("owner_id", &editor.user_id),
                Part::Text("review_by", "2020-01-31"),
                Part::Text("description", "Validation results <b>before</b> release."),
                Part::Text("ai_system_ids", &system.id),
                Part::Text("control_refs", "A.6.2.4"),
                Part::Text("requirement_refs", "8.2"),
            ],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let location = uploaded.location.expect("redirect");
    let id = id_in(&location, "evidence");
    let record = ui.app.get_record(&editor, &EVIDENCE, &id).await.expect("stored");
    assert_eq!(record.data["ai_system_ids"], serde_json::json!([system.id]));
    assert_eq!(record.data["control_refs"], serde_json::json!(["A.6.2.4"]));
    assert_eq!(record.data["file_name"], "model-card.pdf");

    let page = ui.get(&location, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(html.contains("Evidence uploaded."), "success notice");
    assert!(html.contains(r#"<h2 id="supports-h">Supports</h2>"#));
    assert!(html.contains(&format!(r#"href="/orgs/demo/ai-systems/{}">{system_name}</a>"#, system.id)), "AI system linked");
    assert!(html.contains(r#"href="/orgs/demo/controls/A.6.2.4">A.6.2.4 "#), "control linked");
    assert!(html.contains(r#"href="/orgs/demo/requirements/8.2">8.2 "#), "requirement linked");
    assert!(html.contains("Validation results &lt;b&gt;before&lt;/b&gt; release."), "description escaped");
    assert!(html.contains("Overdue for review"));
    assert!(html.contains(record.data["sha256"].as_str().unwrap_or("missing sha")));

    let download = ui.get(&format!("/orgs/demo/evidence/{id}/download"), Some(&cookie)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body.as_bytes(), PDF, "the same bytes come back");
    let disposition = download.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with(r#"attachment; filename="model-card.pdf""#), "{disposition}");
    assert_eq!(download.headers.get(header::X_CONTENT_TYPE_OPTIONS).and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(download.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/pdf"));

    // A new version of the file: a new revision; the first file stays downloadable.
    let version = form_version(html);
    let replaced = ui
        .post_multipart(
            &format!("/orgs/demo/evidence/{id}/file"),
            &cookie,
            &[Part::Text("version", &version), Part::File("file", "model-card-v2.txt", "text/plain", b"Model card, second edition.")],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::SEE_OTHER, "{}", replaced.body);
    let page = ui.get(replaced.location.as_deref().expect("redirect"), Some(&cookie)).await;
    assert!(page.body.contains("New version uploaded."));
    assert!(page.body.contains("Revision 2") && page.body.contains("New file"));
    assert!(page.body.contains(&format!("/orgs/demo/evidence/{id}/download?revision=1")));
    let first = ui.get(&format!("/orgs/demo/evidence/{id}/download?revision=1"), Some(&cookie)).await;
    assert_eq!(first.body.as_bytes(), PDF);
    let current = ui.get(&format!("/orgs/demo/evidence/{id}/download"), Some(&cookie)).await;
    assert_eq!(current.body, "Model card, second edition.");
    let bad = ui.get(&format!("/orgs/demo/evidence/{id}/download?revision=x"), Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);

    // Editing the details: unchanged is not saved; a change is; the links kept.
    let version = form_version(&page.body);
    let form = |title: &'static str| {
        vec![
            ("version", version.clone()),
            ("title", title.to_owned()),
            ("evidence_type", "test_result".to_owned()),
            ("owner_id", editor.user_id.clone()),
            ("review_by", "2020-01-31".to_owned()),
            ("description", "Validation results <b>before</b> release.".to_owned()),
            ("ai_system_ids", system.id.clone()),
            ("control_refs", "A.6.2.4".to_owned()),
            ("requirement_refs", "8.2".to_owned()),
        ]
    };
    let pairs = form("Model card — credit scorer v3");
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let same = ui.post(&format!("/orgs/demo/evidence/{id}"), Some(&cookie), &borrowed).await;
    assert_eq!(same.location.as_deref(), Some(format!("/orgs/demo/evidence/{id}?done=unchanged#edit").as_str()));
    let revisions = ui.app.revisions(&editor, &EVIDENCE, &id).await.expect("revisions").len();
    assert_eq!(revisions, 2, "nothing written for an unchanged form");
    let pairs = form("Model card v3 (signed)");
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = ui.post(&format!("/orgs/demo/evidence/{id}"), Some(&cookie), &borrowed).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = ui.app.get_record(&editor, &EVIDENCE, &id).await.expect("stored");
    assert_eq!(record.data["title"], "Model card v3 (signed)");
    assert_eq!(record.data["control_refs"], serde_json::json!(["A.6.2.4"]));

    // The list shows it with its kind, file, overdue review date and links; filters narrow it.
    let list = ui.get("/orgs/demo/evidence?kind=test_result&overdue=1", Some(&cookie)).await;
    assert!(list.body.contains("Model card v3 (signed)"));
    assert!(list.body.contains("model-card-v2.txt"));
    assert!(list.body.contains("3 records"));
    assert!(list.body.contains(r#"<span class="badge badge-overdue">Overdue</span>"#));
    let other_kind = ui.get("/orgs/demo/evidence?kind=contract", Some(&cookie)).await;
    assert!(!other_kind.body.contains("Model card v3 (signed)"));

    // A viewer reads and downloads, but gets no forms.
    let viewer = ui.sign_in(Role::Viewer).await;
    let page = ui.get(&format!("/orgs/demo/evidence/{id}"), Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(r#"name="version""#));
    assert!(page.body.contains("Download"));
    let list = ui.get("/orgs/demo/evidence", Some(&viewer)).await;
    assert!(!list.body.contains(r#"enctype="multipart/form-data""#));
    let download = ui.get(&format!("/orgs/demo/evidence/{id}/download"), Some(&viewer)).await;
    assert_eq!(download.status, StatusCode::OK);
}

#[tokio::test]
async fn refused_files_are_explained_next_to_the_field_and_nothing_is_written() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Editor).await;
    let before = ui.evidence_count().await;

    let wrong_type = ui
        .post_multipart(
            "/orgs/demo/evidence",
            &cookie,
            &[
                Part::File("file", "tool.exe", "application/x-msdownload", b"MZ\x90\0\x03\0\0\0"),
                Part::Text("title", "Installer"),
                Part::Text("evidence_type", "other"),
            ],
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        wrong_type.body.contains(r#"<p class="field-error" id="file-error">Files of type application/x-msdownload are not accepted"#),
        "{}",
        wrong_type.body
    );
    assert!(
        wrong_type.body.contains(r#"aria-invalid="true" aria-describedby="file-hint file-error""#)
            || wrong_type.body.contains("file-error")
    );
    assert!(wrong_type.body.contains(r#"value="Installer""#), "what was typed comes back");
    assert!(wrong_type.body.contains("Choose the file again"));

    let disguised = ui
        .post_multipart(
            "/orgs/demo/evidence",
            &cookie,
            &[Part::File("file", "report.pdf", "application/pdf", b"MZ\x90\0\x03\0\0\0"), Part::Text("title", "Report")],
        )
        .await;
    assert_eq!(disguised.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(disguised.body.contains("does not match its declared type application/pdf"), "{}", disguised.body);

    let untitled = ui
        .post_multipart(
            "/orgs/demo/evidence",
            &cookie,
            &[
                Part::File("file", "notes.txt", "text/plain", b"Some notes"),
                Part::Text("title", "  "),
                Part::Text("evidence_type", "record"),
            ],
        )
        .await;
    assert_eq!(untitled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(untitled.body.contains(r#"id="title-error""#), "{}", untitled.body);

    let no_file = ui.post_multipart("/orgs/demo/evidence", &cookie, &[Part::Text("title", "Nothing attached")]).await;
    assert_eq!(no_file.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_file.body.contains(r#"<p class="field-error" id="file-error">Choose the file to upload</p>"#), "{}", no_file.body);

    assert_eq!(ui.evidence_count().await, before, "no refused upload wrote anything");

    // Over the size limit: 413, said next to the file, the rest of the form kept.
    let mut app = ui.app.clone();
    app.max_upload_bytes = 64;
    let small = TestUi {
        router: aims_ui::router(app.clone()).layer(SessionManagerLayer::new(DbSessionStore::new(app.db.clone()))),
        app,
        users: ui
            .users
            .iter()
            .map(|(r, u)| (*r, DemoUser { email: u.email.clone(), password: u.password.clone(), role: u.role }))
            .collect(),
        _dir: tempfile::tempdir().expect("dir"),
    };
    let big = vec![b'a'; 200];
    let too_large = small
        .post_multipart(
            "/orgs/demo/evidence",
            &cookie,
            &[Part::File("file", "big.txt", "text/plain", &big), Part::Text("title", "Big log extract")],
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.body.contains("The file is larger than the limit of 64 bytes"), "{}", too_large.body);
    assert!(too_large.body.contains(r#"value="Big log extract""#));
    assert_eq!(ui.evidence_count().await, before);
}

#[tokio::test]
async fn policy_workflow_through_forms_with_acknowledgement_and_diff() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let admin = ui.sign_in(Role::Admin).await;
    let owner = ui.sign_in(Role::Owner).await;
    let viewer = ui.sign_in(Role::Viewer).await;

    let form = ui.get("/orgs/demo/policies/new", Some(&editor)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"<label for="body">Text</label>"#));
    let missing =
        ui.post("/orgs/demo/policies/new", Some(&editor), &[("title", "Acceptable use of AI"), ("topic", "acceptable_use")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains(r#"id="body-error""#), "{}", missing.body);

    let text = "Purpose\nStaff use approved AI tools only.\n\nRules\nNo customer data in public chatbots.\n<script>alert(1)</script>";
    let created = ui
        .post(
            "/orgs/demo/policies/new",
            Some(&editor),
            &[
                ("title", "Acceptable use of AI"),
                ("topic", "acceptable_use"),
                ("summary", "How staff may use AI tools."),
                ("body", text),
                ("control_refs", "A.2.2"),
                ("control_refs", "A.9.2"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.expect("redirect");
    let id = id_in(&location, "policies");
    let page = ui.get(&location, Some(&editor)).await;
    assert!(page.body.contains("Draft created."));
    assert!(page.body.contains("<p class=\"pre\">Purpose\nStaff use approved AI tools only.</p>"), "paragraphs with line breaks");
    assert!(page.body.contains("No customer data in public chatbots.\n&#60;script&#62;alert(1)&#60;/script&#62;</p>"), "text escaped");
    assert!(!page.body.contains("<script>alert(1)"), "never raw HTML");
    assert!(
        page.body.contains(r#"<li class="step step-current" aria-current="step"><span class="step-dot" aria-hidden="true"></span>Draft"#)
    );
    assert!(page.body.contains(">Submit for review</button>"));
    assert!(page.body.contains(r#"href="/orgs/demo/controls/A.2.2">A.2.2</a>"#));

    let version = form_version(&page.body);
    let submitted = ui.post(&format!("/orgs/demo/policies/{id}/submit"), Some(&editor), &[("version", &version), ("comment", "")]).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);
    let page = ui.get(submitted.location.as_deref().expect("redirect"), Some(&editor)).await;
    assert!(page.body.contains("Submitted for review."));
    assert!(!page.body.contains(">Approve</button>"), "no approve button for an editor");

    // The editor cannot approve, whatever they post.
    let version = form_version(&page.body);
    let refused = ui.post(&format!("/orgs/demo/policies/{id}/approve"), Some(&editor), &[("version", &version)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("rule role-permission"), "{}", refused.body);

    // The admin sends it back without a reason: refused next to the field.
    let no_reason = ui.post(&format!("/orgs/demo/policies/{id}/reject"), Some(&admin), &[("version", &version), ("reason", " ")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains(r#"id="reject-reason-error""#), "{}", no_reason.body);

    // The admin approves and publishes.
    let approved =
        ui.post(&format!("/orgs/demo/policies/{id}/approve"), Some(&admin), &[("version", &version), ("comment", "Fine.")]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&admin)).await;
    assert!(page.body.contains(">Publish revision 1</button>"));
    let version = form_version(&page.body);
    let published = ui.post(&format!("/orgs/demo/policies/{id}/publish"), Some(&admin), &[("version", &version)]).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
    let page = ui.get(published.location.as_deref().expect("redirect"), Some(&admin)).await;
    assert!(page.body.contains("Published as revision 1."));

    // The viewer acknowledges once; a second time is refused.
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&viewer)).await;
    assert!(page.body.contains(">Acknowledge revision 1</button>"), "{}", page.body);
    assert!(!page.body.contains(">Save</button>"), "no edit form for a viewer");
    let version = form_version(&page.body);
    let acked = ui.post(&format!("/orgs/demo/policies/{id}/acknowledge"), Some(&viewer), &[("version", &version)]).await;
    assert_eq!(acked.status, StatusCode::SEE_OTHER, "{}", acked.body);
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&viewer)).await;
    assert!(page.body.contains("You acknowledged revision 1 on "));
    assert!(!page.body.contains(">Acknowledge revision 1</button>"));
    assert!(page.body.contains("1 of 5 members have acknowledged revision 1."));
    let record = ui.app.get_record(&member_of(&ui, Role::Viewer).await, &POLICY, &id).await.expect("policy");
    let version = record.version.to_string();
    let again = ui.post(&format!("/orgs/demo/policies/{id}/acknowledge"), Some(&viewer), &[("version", &version)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("You have already acknowledged revision 1."), "{}", again.body);

    let list = ui.get("/orgs/demo/policies", Some(&viewer)).await;
    assert!(list.body.contains("Acceptable use of AI"));
    assert!(list.body.contains(r#"<span class="badge badge-published">Published</span>"#));
    assert!(list.body.contains("1 of 5"));

    // The admin edits the published policy: a new draft edition, with the admin as an author.
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&admin)).await;
    let version = form_version(&page.body);
    let new_text =
        "Purpose\nStaff use approved AI tools only.\n\nRules\nNo personal data in any external AI tool.\n<script>alert(1)</script>";
    let edited = ui
        .post(
            &format!("/orgs/demo/policies/{id}"),
            Some(&admin),
            &[
                ("version", &version),
                ("title", "Acceptable use of AI"),
                ("topic", "acceptable_use"),
                ("owner_id", ""),
                ("next_review_on", "2031-01-01"),
                ("summary", "How staff may use AI tools."),
                ("body", new_text),
                ("control_refs", "A.2.2"),
                ("control_refs", "A.9.2"),
            ],
        )
        .await;
    assert_eq!(edited.location.as_deref(), Some(format!("/orgs/demo/policies/{id}?done=new_edition#edit").as_str()), "{}", edited.body);
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&editor)).await;
    assert!(page.body.contains("Revision 1 stays the published policy"));
    let version = form_version(&page.body);
    let submitted = ui.post(&format!("/orgs/demo/policies/{id}/submit"), Some(&editor), &[("version", &version)]).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&admin)).await;
    assert!(page.body.contains("You worked on this edition"));
    let version = form_version(&page.body);
    let own = ui.post(&format!("/orgs/demo/policies/{id}/approve"), Some(&admin), &[("version", &version)]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(own.body.contains("Not allowed (rule separation-of-duties)"), "{}", own.body);
    let by_owner = ui.post(&format!("/orgs/demo/policies/{id}/approve"), Some(&owner), &[("version", &version)]).await;
    assert_eq!(by_owner.status, StatusCode::SEE_OTHER, "{}", by_owner.body);
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&owner)).await;
    let version = form_version(&page.body);
    let published = ui.post(&format!("/orgs/demo/policies/{id}/publish"), Some(&owner), &[("version", &version)]).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let record = ui.app.get_record(&member_of(&ui, Role::Owner).await, &POLICY, &id).await.expect("policy");
    assert_eq!(record.data["published_revision"], 2);

    // The viewer may acknowledge the new revision; the page lists the revisions with a comparison.
    let page = ui.get(&format!("/orgs/demo/policies/{id}"), Some(&viewer)).await;
    assert!(page.body.contains(">Acknowledge revision 2</button>"));
    assert!(page.body.contains(&format!(r#"href="/orgs/demo/policies/{id}/diff?from=1&#38;to=2""#)), "compare link");

    let diff = ui.get(&format!("/orgs/demo/policies/{id}/diff?from=1&to=2"), Some(&viewer)).await;
    assert_eq!(diff.status, StatusCode::OK);
    let html = &diff.body;
    assert!(html.contains(r#"<div class="diff-line diff-delete" role="listitem"><span class="diff-mark" aria-hidden="true">−</span><del class="diff-text"><span class="visually-hidden">Removed: </span>No customer data in public chatbots.</del></div>"#), "{html}");
    assert!(
        html.contains(
            r#"<ins class="diff-text"><span class="visually-hidden">Added: </span>No personal data in any external AI tool.</ins>"#
        )
    );
    assert!(html.contains("1 line added, 1 removed"));
    assert!(html.contains("<th scope=\"row\">Next review</th>"), "changed fields listed");
    assert!(html.contains(r#"<span class="diff-text">&#60;script&#62;alert(1)&#60;/script&#62;</span>"#), "diff text escaped");
    let revision = ui.get(&format!("/orgs/demo/policies/{id}/revisions/1"), Some(&viewer)).await;
    assert!(revision.body.contains("No customer data in public chatbots."));
    let missing = ui.get(&format!("/orgs/demo/policies/{id}/diff?from=9"), Some(&viewer)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn policy_notes_explain_a_send_back_and_the_revision_in_force_stays_acknowledgeable() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let admin = ui.sign_in(Role::Admin).await;
    let owner = ui.sign_in(Role::Owner).await;
    let viewer = ui.sign_in(Role::Viewer).await;
    let editor_name = member_of(&ui, Role::Editor).await.display_name;
    let owner_name = member_of(&ui, Role::Owner).await.display_name;

    let created = ui
        .post(
            "/orgs/demo/policies/new",
            Some(&editor),
            &[
                ("title", "Human oversight of AI decisions"),
                ("topic", "human_oversight"),
                ("body", "Every decline is reviewed by a person."),
            ],
        )
        .await;
    let id = id_in(created.location.as_deref().expect("redirect"), "policies");
    let path = format!("/orgs/demo/policies/{id}");
    // A post of the page's form (the edit form when `name` is empty, else a transition).
    let step = |who: &str, name: &str, fields: &[(&str, &str)], html: &str| {
        let version = form_version(html);
        let mut form = vec![("version".to_owned(), version)];
        form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        (who.to_owned(), if name.is_empty() { path.clone() } else { format!("{path}/{name}") }, form)
    };
    async fn post(ui: &TestUi, (cookie, path, form): (String, String, Vec<(String, String)>)) -> Reply {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ui.post(&path, Some(&cookie), &form).await
    }

    // Submitted with a note, sent back with a reason: both are on the page, newest first.
    let page = ui.get(&path, Some(&editor)).await;
    let done = post(&ui, step(&editor, "submit", &[("comment", "Ready for the board.")], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "reject", &[("reason", "Say who may overrule the model & how.")], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ui.get(&path, Some(&editor)).await;
    let html = &page.body;
    assert!(html.contains(r#"<h3 class="support-h" id="wf-notes-h">Review notes</h3>"#), "{html}");
    let sent_back = html.find(r#"<li class="wf-note wf-note-reject">"#).expect("the send-back note");
    let submitted = html.find(r#"<li class="wf-note wf-note-submit">"#).expect("the submission note");
    assert!(sent_back < submitted, "newest first");
    assert!(html.contains(&format!("<strong>Sent back to draft</strong> · {owner_name} · ")));
    assert!(html.contains("Say who may overrule the model &#38; how."), "the reason, escaped");
    assert!(html.contains(&format!("<strong>Submitted for review</strong> · {editor_name} · ")));
    assert!(html.contains("Ready for the board."));
    assert!(!html.contains("Acknowledge revision"), "nothing in force to acknowledge yet");
    assert!(html.contains("Members acknowledge a policy once it is published."));

    // Resubmitted, approved and published as revision 1 by the owner.
    let done = post(&ui, step(&editor, "submit", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "approve", &[("comment", "Clear now.")], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "publish", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = ui.get(&path, Some(&viewer)).await;
    let done = post(&ui, step(&viewer, "acknowledge", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    // The admin starts edition 2; revision 1 stays in force and the owner acknowledges it now.
    let page = ui.get(&path, Some(&admin)).await;
    let edited = post(
        &ui,
        step(
            &admin,
            "",
            &[
                ("title", "Human oversight of AI decisions"),
                ("topic", "human_oversight"),
                ("body", "Every decline and referral is reviewed."),
            ],
            &page.body,
        ),
    )
    .await;
    assert!(edited.location.as_deref().is_some_and(|l| l.contains("done=new_edition")), "{}", edited.body);
    let page = ui.get(&path, Some(&owner)).await;
    let html = &page.body;
    assert!(html.contains(">Acknowledge revision 1 (in force)</button>"), "{html}");
    assert!(html.contains(&format!(r#"<a href="/orgs/demo/policies/{id}/revisions/1">Read revision 1</a>"#)));
    assert!(html.contains("1 of 5 members have acknowledged revision 1."));
    assert!(html.contains("Not yet acknowledged: "));
    let done = post(&ui, step(&owner, "acknowledge", &[], html)).await;
    assert_eq!(done.location.as_deref(), Some(format!("{path}?done=acknowledge#ack").as_str()), "{}", done.body);
    let page = ui.get(&format!("{path}?done=acknowledge"), Some(&owner)).await;
    let html = &page.body;
    assert!(html.contains("Thank you: your acknowledgement of revision 1 is recorded."));
    assert!(html.contains("You acknowledged revision 1 on "));
    assert!(html.contains("2 of 5 members have acknowledged revision 1."));
    assert!(!html.contains("Acknowledgements of earlier revisions"), "every acknowledgement is of the revision in force");
    let list = ui.get("/orgs/demo/policies", Some(&owner)).await;
    let row = &list.body[list.body.find("Human oversight of AI decisions").expect("row")..];
    assert!(row.contains("Revision 1 in force") && row.contains("2 of 5"), "{row}");

    // Once revision 2 is published, the earlier acknowledgements fold under their own heading.
    let page = ui.get(&path, Some(&editor)).await;
    let done = post(&ui, step(&editor, "submit", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "approve", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "publish", &[], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = ui.get(&path, Some(&viewer)).await;
    let html = &page.body;
    assert!(html.contains(">Acknowledge revision 2</button>"));
    assert!(html.contains("<summary class=\"small\">Acknowledgements of earlier revisions (2)</summary>"), "{html}");
    assert!(html.contains("0 of 5 members have acknowledged revision 2."));

    // A retired policy is no longer acknowledged.
    let page = ui.get(&path, Some(&owner)).await;
    let done = post(&ui, step(&owner, "retire", &[("reason", "Merged into the AI policy.")], &page.body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = ui.get(&path, Some(&viewer)).await;
    assert!(!page.body.contains(">Acknowledge revision"));
    assert!(page.body.contains("This policy is retired; it no longer needs acknowledging."));
    assert!(page.body.contains("<strong>Retired</strong>") && page.body.contains("Merged into the AI policy."));
    let record = ui.app.get_record(&member_of(&ui, Role::Viewer).await, &POLICY, &id).await.expect("policy");
    let version = record.version.to_string();
    let refused = ui.post(&format!("{path}/acknowledge"), Some(&viewer), &[("version", &version)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("Only a policy with a published revision in force can be acknowledged."), "{}", refused.body);
}
