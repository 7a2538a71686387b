//! The UI driven through its router, as a browser would: plain form posts, the session cookie
//! carried by hand. Each test gets a fresh SQLite file with the demo organisation.

use std::collections::HashMap;

use aims_app::App;
use aims_app::demo::DemoUser;
use aims_domain::identity::Role;
use aims_store::model::Actor;
use aims_store::sessions::DbSessionStore;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use tower_sessions::SessionManagerLayer;

mod audit;
mod documents;
mod improvement;
mod lists;
mod members;
mod mfa;
mod module_graph;
mod objectives_people;
mod operations;
mod page_index;
mod record_pages;
mod reports;
mod review;
mod scale;
mod separation;
mod sessions;
mod soa_gap;
mod traceability;
mod trust;

struct TestUi {
    router: Router,
    app: App,
    users: HashMap<Role, DemoUser>,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn start() -> TestUi {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("ui.db").display());
    start_at(&url, dir).await
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A UI on a fresh database of the backend; `None` (saying so) for PostgreSQL when
/// `AIMS_TEST_POSTGRES_URL` is not set, which CI refuses.
async fn start_on(backend: Backend) -> Option<TestUi> {
    match backend {
        Backend::Sqlite => Some(start().await),
        Backend::Postgres => {
            let admin_url = match std::env::var("AIMS_TEST_POSTGRES_URL") {
                Ok(url) if !url.is_empty() => url,
                _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true but AIMS_TEST_POSTGRES_URL is not set"),
                _ => {
                    eprintln!("skipped: PostgreSQL variant (set AIMS_TEST_POSTGRES_URL to run it)");
                    return None;
                }
            };
            let name = format!("aims_uitest_{}", uuid::Uuid::new_v4().simple());
            let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.expect("create test database");
            admin.close().await;
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base).to_owned();
            Some(start_at(&format!("{base}/{name}"), tempfile::tempdir().expect("temp dir")).await)
        }
    }
}

async fn start_at(url: &str, dir: tempfile::TempDir) -> TestUi {
    let (app, _) = App::open(url).await.expect("open database");
    let users = app.create_demo().await.expect("demo").expect("fresh database");
    let users = users.into_iter().map(|u| (u.role, u)).collect();
    let router = aims_ui::router(app.clone()).layer(SessionManagerLayer::new(DbSessionStore::new(app.db.clone())));
    TestUi { router, app, users, _dir: dir }
}

impl TestUi {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let cookie = headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), 4 << 20).await.expect("body");
        Reply { status, location, cookie, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("request")).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let body: String = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).expect("request")).await
    }

    /// Every page of a list from `first`, following its `rel="next"` links: `(path, body)` of
    /// each, every one answered 200 and none visited twice.
    async fn pages_of(&self, cookie: &str, first: &str) -> Vec<(String, String)> {
        let mut pages: Vec<(String, String)> = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(path) = next {
            assert!(pages.iter().all(|(seen, _)| *seen != path), "{path} again");
            let page = self.get(&path, Some(cookie)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            next = next_link(&page.body);
            pages.push((path, page.body));
        }
        pages
    }

    /// Signs in as the demo user with `role`; returns the session cookie.
    async fn sign_in(&self, role: Role) -> String {
        let user = &self.users[&role];
        let reply = self.post("/login", None, &[("email", &user.email), ("password", &user.password), ("next", "")]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.location.as_deref(), Some("/"));
        reply.cookie.expect("session cookie")
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The hidden `version` of the edit form.
fn form_version(html: &str) -> String {
    let start = html.find(r#"name="version" value=""#).expect("version field") + r#"name="version" value=""#.len();
    html[start..].chars().take_while(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn sign_in_leads_to_the_dashboard_with_charts() {
    let ui = start().await;
    let anonymous = ui.get("/orgs/demo/", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location.as_deref(), Some("/login?next=/orgs/demo/"));

    let login = ui.get("/login?next=/orgs/demo/", None).await;
    assert_eq!(login.status, StatusCode::OK);
    for needle in
        [r#"<label for="email">Email</label>"#, r#"<label for="password">Password</label>"#, ">Sign in</button>", "Skip to content"]
    {
        assert!(login.body.contains(needle), "{needle}");
    }

    let wrong = ui.post("/login", None, &[("email", "owner@demo.example"), ("password", "not the password"), ("next", "")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("The e-mail address or password is not correct."));
    let unknown = ui.post("/login", None, &[("email", "nobody@demo.example"), ("password", "whatever it is"), ("next", "")]).await;
    assert!(unknown.body.contains("The e-mail address or password is not correct."), "same message for unknown addresses");

    let cookie = ui.sign_in(Role::Owner).await;
    let home = ui.get("/", Some(&cookie)).await;
    assert_eq!(home.location.as_deref(), Some("/orgs/demo/"));
    let dashboard = ui.get("/orgs/demo/", Some(&cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let html = &dashboard.body;
    assert!(html.contains("<h1>Northwind Lending (demo)</h1>"));
    assert!(html.contains(r#"<svg class="chart chart-bars""#), "clause bar chart");
    assert!(html.contains(r#"<svg class="chart chart-donut""#), "SoA donut");
    assert!(html.contains("Gap assessment progress per clause"));
    assert!(html.contains("/orgs/demo/requirements/6.1.2"), "catalogue links to requirements");
    assert!(html.contains("/orgs/demo/controls/A.6.2.4"), "catalogue links to controls");
    assert!(html.contains("NWL-MRC-1"), "own controls listed");
    assert!(!html.contains("More areas coming"), "every area of the standard is built: none is shown as coming");
    assert!(html.contains(">Sign out</button>"));
    let csp = dashboard.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self'"));

    let out = ui.post("/logout", Some(&cookie), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = ui.get("/orgs/demo/", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old session no longer works");
}

#[tokio::test]
async fn gap_edit_saves_and_a_stale_version_is_refused() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Editor).await;
    let page = ui.get("/orgs/demo/requirements/6.1.3", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Typical evidence"));
    let version = form_version(&page.body);

    let form = [("version", version.as_str()), ("status", "partial"), ("owner_id", ""), ("notes", "Treatment plan drafted.")];
    let saved = ui.post("/orgs/demo/requirements/6.1.3", Some(&cookie), &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = ui.get(saved.location.as_deref().expect("redirect"), Some(&cookie)).await;
    assert!(after.body.contains("Saved."));
    assert!(after.body.contains("Treatment plan drafted."));

    // The same (now old) version again: someone else's change would be overwritten.
    let stale = ui
        .post(
            "/orgs/demo/requirements/6.1.3",
            Some(&cookie),
            &[("version", &version), ("status", "in_place"), ("owner_id", ""), ("notes", "")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("This record was changed by someone else since you opened it — reload to see the current version"));
    let record = ui
        .app
        .get_record(
            &ui.app.member_by_email("editor@demo.example", "demo").await.expect("member"),
            &aims_domain::kinds::REQUIREMENT,
            "6.1.3",
        )
        .await
        .expect("record");
    assert_eq!(record.data["status"], "partial", "nothing written");

    let list = ui.get("/orgs/demo/requirements", Some(&cookie)).await;
    assert!(list.body.contains(r#"id="clause-6""#));
    assert!(list.body.contains("class=\"progress\""));
}

#[tokio::test]
async fn excluding_a_control_needs_a_justification() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Admin).await;
    let page = ui.get("/orgs/demo/controls/A.2.2", Some(&cookie)).await;
    let version = form_version(&page.body);
    let form = [
        ("version", version.as_str()),
        ("applicable", "no"),
        ("justification", "  "),
        ("implementation_status", "implemented"),
        ("owner_id", ""),
        ("last_reviewed_on", ""),
    ];
    let refused = ui.post("/orgs/demo/controls/A.2.2", Some(&cookie), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains(r#"<p class="field-error" id="justification-error">An excluded control needs a justification</p>"#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"aria-invalid="true""#));

    let mut justified = form;
    justified[2] = ("justification", "We do not develop AI policy separately from the group policy.");
    let ok = ui.post("/orgs/demo/controls/A.2.2", Some(&cookie), &justified).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let list = ui.get("/orgs/demo/controls", Some(&cookie)).await;
    assert!(list.body.contains("row-excluded"));
}

#[tokio::test]
async fn own_controls_can_be_created() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Editor).await;
    let form = ui.get("/orgs/demo/controls/new", Some(&cookie)).await;
    assert!(form.body.contains(r#"<label for="ref">Reference</label>"#));
    let created =
        ui.post("/orgs/demo/controls/new", Some(&cookie), &[("ref", "SEC-01"), ("title", "Secrets rotation"), ("description", "")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location.as_deref(), Some("/orgs/demo/controls/SEC-01?saved=1"));
    let again = ui.post("/orgs/demo/controls/new", Some(&cookie), &[("ref", "SEC-01"), ("title", "Twice"), ("description", "")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("Another control already has this reference"));
    let reserved = ui.post("/orgs/demo/controls/new", Some(&cookie), &[("ref", "A.5.9"), ("title", "Mine"), ("description", "")]).await;
    assert!(reserved.body.contains("reserved for Annex A"), "{}", reserved.body);
}

#[tokio::test]
async fn viewers_see_no_edit_forms_and_the_service_refuses_them() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Viewer).await;
    let page = ui.get("/orgs/demo/requirements/4.1", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(r#"name="version""#), "no edit form for a viewer");
    assert!(page.body.contains("Read only"));
    let control = ui.get("/orgs/demo/controls/A.2.2", Some(&cookie)).await;
    assert!(!control.body.contains(r#"name="version""#));
    let list = ui.get("/orgs/demo/controls", Some(&cookie)).await;
    assert!(!list.body.contains("New control"));

    // A hand-made post still reaches the service, which names the rule that refuses it.
    let refused = ui
        .post("/orgs/demo/requirements/4.1", Some(&cookie), &[("version", "1"), ("status", "missing"), ("owner_id", ""), ("notes", "")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("rule role-permission"), "{}", refused.body);

    let auditor = ui.sign_in(Role::Auditor).await;
    let page = ui.get("/orgs/demo/controls/A.6.2.4", Some(&auditor)).await;
    assert!(!page.body.contains(r#"name="version""#), "no edit form for an auditor");
}

#[tokio::test]
async fn other_organisations_are_not_found() {
    let ui = start().await;
    ui.app.create_org("other", "Other Org", &Actor::System("test")).await.expect("org");
    let cookie = ui.sign_in(Role::Admin).await;
    for path in ["/orgs/other/", "/orgs/other/requirements", "/orgs/other/controls/A.2.2", "/orgs/nowhere/activity"] {
        let reply = ui.get(path, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("Page not found"));
    }
    let missing = ui.get("/orgs/demo/requirements/99.9", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn activity_log_shows_events_head_hash_and_filters() {
    let ui = start().await;
    // Enough further changes that the log needs a second page.
    let editor = ui.app.member_by_email("editor@demo.example", "demo").await.expect("member");
    for (i, status) in ["partial", "in_place", "partial", "in_place", "partial", "in_place", "partial", "in_place"].iter().enumerate() {
        let version = i64::try_from(i).expect("small") + 1;
        ui.app
            .patch_record(&editor, &aims_domain::kinds::REQUIREMENT, "10.1", version, &serde_json::json!({"status": status}))
            .await
            .expect("patch");
    }
    let cookie = ui.sign_in(Role::Auditor).await;
    let page = ui.get("/orgs/demo/activity", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let (_, head) = ui.app.log_head("demo").await.expect("head");
    assert!(page.body.contains(&head), "chain head hash shown");
    for label in ["Record type", "Actor", "Since", "Until"] {
        assert!(page.body.contains(&format!(">{label}</label>")), "{label}");
    }
    assert!(page.body.contains(">Filter</button>"));
    assert!(page.body.contains("/api/v1/orgs/demo/activity?format=csv"));
    assert!(page.body.contains("rel=\"next\""), "the demo has more than one page of events");
    // Newest first: the head event opens the page, named and labelled rather than coded.
    let (head_seq, _) = ui.app.log_head("demo").await.expect("head");
    let first_seq = page.body.split("data-label=\"Seq\">").nth(1).and_then(|s| s.split('<').next()).expect("a first event");
    assert_eq!(first_seq, head_seq.to_string(), "the newest event comes first");
    assert!(page.body.contains(">10.1 "), "the requirement is named by its reference and title");
    assert!(page.body.contains("Elena Rossi"), "the editor is named");
    assert!(page.body.contains(">Updated</span>"), "actions read as words");
    assert!(page.body.contains("<option value=\"requirement\">Requirement</option>"), "types present in the log are offered");
    let chain = ui.get("/orgs/demo/activity?order=chain", Some(&cookie)).await;
    let first_chain = chain.body.split("data-label=\"Seq\">").nth(1).and_then(|s| s.split('<').next());
    assert_eq!(first_chain, Some("1"), "chain order starts at the first event");

    let next = page
        .body
        .split("href=\"")
        .find(|s| s.contains("cursor="))
        .and_then(|s| s.split('"').next())
        .expect("next link")
        .replace("&amp;", "&");
    let second = ui.get(&next, Some(&cookie)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.body.contains("Latest events"), "a way back to the newest events");

    let controls = ui.get("/orgs/demo/activity?record_type=control&actor=&since=&until=", Some(&cookie)).await;
    assert!(controls.body.contains("Implementation status"), "changes rendered readably");
    assert!(!controls.body.contains(">Requirement</span>"), "filtered to controls");
    let bad = ui.get("/orgs/demo/activity?since=yesterday&cursor=nonsense", Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("Since: use a date as YYYY-MM-DD."));
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_revocable() {
    let ui = start().await;
    let cookie = ui.sign_in(Role::Viewer).await;
    let created = ui.post("/orgs/demo/tokens", Some(&cookie), &[("name", "CI export"), ("expires_days", "30")]).await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(created.body.contains("id=\"new-token\">aims_"), "secret shown once");
    let listed = ui.get("/orgs/demo/tokens", Some(&cookie)).await;
    assert!(listed.body.contains("CI export"));
    assert!(!listed.body.contains("id=\"new-token\""), "never shown again");

    let bad = ui.post("/orgs/demo/tokens", Some(&cookie), &[("name", "x"), ("expires_days", "9999")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Between 1 and 3650 days"));

    let id = listed.body.split("/tokens/").nth(1).and_then(|s| s.split('/').next()).expect("revoke form").to_owned();
    let revoked = ui.post(&format!("/orgs/demo/tokens/{id}/revoke"), Some(&cookie), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let after = ui.get("/orgs/demo/tokens", Some(&cookie)).await;
    assert!(after.body.contains("badge-revoked"));
}

#[tokio::test]
async fn static_assets_are_embedded_and_cached() {
    let ui = start().await;
    let css = ui.get("/static/app.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("text/css; charset=utf-8"));
    assert!(css.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("immutable")));
    assert_eq!(ui.get("/static/nope.css", None).await.status, StatusCode::NOT_FOUND);
    let login = ui.get("/login", None).await;
    assert!(login.body.contains("/static/app.css?v="), "versioned asset links");
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_client() {
    let ui = start().await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let email = format!("stranger{i}@demo.example");
        statuses.push(ui.post("/login", None, &[("email", &email), ("password", "wrong password"), ("next", "")]).await.status);
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn setup_and_reset_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, _) = App::open(&format!("sqlite:{}", dir.path().join("setup.db").display())).await.expect("open");
    let secret = app.issue_setup_link().await.expect("issue").expect("no users yet");
    let router = aims_ui::router(app.clone()).layer(SessionManagerLayer::new(DbSessionStore::new(app.db.clone())));
    let ui = TestUi { router, app: app.clone(), users: HashMap::new(), _dir: dir };

    let page = ui.get(&format!("/setup/{secret}"), None).await;
    for label in ["Organisation name", "Organisation slug", "Your name", "Email", "Password"] {
        assert!(page.body.contains(&format!(">{label}</label>")), "{label}");
    }
    let fields = |slug: &'static str, password: &'static str| {
        [("org_name", "Acme AI"), ("org_slug", slug), ("display_name", "Ada Admin"), ("email", "ada@acme.example"), ("password", password)]
    };
    let invalid = ui.post(&format!("/setup/{secret}"), None, &fields("Acme AI", "short")).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body.contains(r#"id="org_slug-error""#) && invalid.body.contains(r#"id="password-error""#));
    let done = ui.post(&format!("/setup/{secret}"), None, &fields("acme-ai", "a long enough password")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/orgs/acme-ai/"));
    let cookie = done.cookie.expect("signed in");
    assert!(ui.get("/orgs/acme-ai/", Some(&cookie)).await.body.contains("<h1>Acme AI</h1>"));
    assert_eq!(ui.get(&format!("/setup/{secret}"), None).await.status, StatusCode::NOT_FOUND, "single use");

    let reset = app.issue_password_reset("ada@acme.example", &Actor::System("test")).await.expect("reset link");
    let form = ui.get(&format!("/reset/{reset}"), None).await;
    assert!(form.body.contains(">New password</label>"));
    let changed = ui.post(&format!("/reset/{reset}"), None, &[("password", "another long password")]).await;
    assert_eq!(changed.location.as_deref(), Some("/login?reset=1"));
    assert_eq!(ui.get("/orgs/acme-ai/", Some(&cookie)).await.status, StatusCode::SEE_OTHER, "reset ends sessions");
    let login =
        ui.post("/login", None, &[("email", "ada@acme.example"), ("password", "another long password"), ("next", "/orgs/acme-ai/")]).await;
    assert_eq!(login.location.as_deref(), Some("/orgs/acme-ai/"));
}

/// The id in a redirect to a record page: `/orgs/demo/ai-systems/{id}?done=…`.
fn id_in(location: &str, collection: &str) -> String {
    let prefix = format!("/orgs/demo/{collection}/");
    location.strip_prefix(&prefix).and_then(|rest| rest.split(['?', '#']).next()).expect("record location").to_owned()
}

#[tokio::test]
async fn ai_system_gate_and_impact_assessment_through_forms() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let admin = ui.sign_in(Role::Admin).await;
    let owner = ui.sign_in(Role::Owner).await;

    let form = ui.get("/orgs/demo/ai-systems/new", Some(&editor)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"<label for="intended_use">Intended use</label>"#));
    assert!(form.body.contains(">Register AI system</button>"));

    // A risk category without its reason is refused next to the field; nothing is created.
    let refused = ui.post("/orgs/demo/ai-systems/new", Some(&editor), &[("name", "Triage bot"), ("eu_ai_act_risk_category", "high")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="eu_ai_act_risk_reason-error""#), "{}", refused.body);

    let created = ui
        .post(
            "/orgs/demo/ai-systems/new",
            Some(&editor),
            &[("name", "Triage bot"), ("intended_use", "Sorts support tickets"), ("ai_roles", "ai_customer"), ("ai_roles", "ai_provider")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_in(created.location.as_deref().unwrap_or_default(), "ai-systems");
    let system = ui.get(&format!("/orgs/demo/ai-systems/{id}"), Some(&editor)).await;
    assert!(system.body.contains("<h1>Triage bot</h1>"));
    assert!(system.body.contains(r#"aria-current="step""#));
    let list = ui.get("/orgs/demo/ai-systems", Some(&editor)).await;
    assert!(list.body.contains("Triage bot"));

    // A dataset added on the system page is created and linked to the system.
    let dataset =
        ui.post(&format!("/orgs/demo/ai-systems/{id}/datasets"), Some(&editor), &[("version", "1"), ("name", "Tickets 2025")]).await;
    assert_eq!(dataset.status, StatusCode::SEE_OTHER, "{}", dataset.body);
    let system = ui.get(&format!("/orgs/demo/ai-systems/{id}"), Some(&editor)).await;
    assert!(system.body.contains("<strong>Tickets 2025</strong>"), "{}", system.body);

    // A gate requested by the admin: refused to the admin (separation of duties), approved by the owner.
    let requested =
        ui.post(&format!("/orgs/demo/ai-systems/{id}/gates"), Some(&admin), &[("to_stage", "design"), ("reason", "Ready")]).await;
    assert_eq!(requested.status, StatusCode::SEE_OTHER, "{}", requested.body);
    let page = ui.get(&format!("/orgs/demo/ai-systems/{id}"), Some(&admin)).await;
    let gate_start = page.body.find("/gates/").expect("gate form") + "/gates/".len();
    let gate: String = page.body[gate_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let self_approval =
        ui.post(&format!("/orgs/demo/gates/{gate}/decide"), Some(&admin), &[("version", "1"), ("decision", "approve")]).await;
    assert_eq!(self_approval.status, StatusCode::FORBIDDEN);
    assert!(self_approval.body.contains("rule separation-of-duties"), "{}", self_approval.body);
    let approved = ui.post(&format!("/orgs/demo/gates/{gate}/decide"), Some(&owner), &[("version", "1"), ("decision", "approve")]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let record = ui.app.get_record(&member_of(&ui, Role::Owner).await, &aims_domain::kinds::AI_SYSTEM, &id).await.expect("system");
    assert_eq!(record.data["lifecycle_stage"], "design");

    // An impact assessment with rows, signed off, then due again after a material change.
    let ia = ui
        .post(
            "/orgs/demo/impact-assessments/new",
            Some(&editor),
            &[
                ("ai_system_id", &id),
                ("title", "Ticket triage impacts"),
                ("affected_parties[0].party", "individuals"),
                ("impacts[0].area", "fairness"),
                ("impacts[0].description", "Some languages are routed later"),
                ("impacts[0].severity", "minor"),
                ("impacts[0].likelihood", "possible"),
                ("impacts[1].area", ""),
                ("overall_level", "low"),
            ],
        )
        .await;
    assert_eq!(ia.status, StatusCode::SEE_OTHER, "{}", ia.body);
    let ia_id = id_in(ia.location.as_deref().unwrap_or_default(), "impact-assessments");
    // An admin who changed the assessment is not offered the sign-off and is told why; a
    // sign-off posted anyway is refused with the comment typed given back.
    let admin_member = member_of(&ui, Role::Admin).await;
    ui.app
        .patch_record(&admin_member, &aims_domain::kinds::IMPACT_ASSESSMENT, &ia_id, 1, &serde_json::json!({"overall_level": "medium"}))
        .await
        .expect("admin edits");
    let page = ui.get(&format!("/orgs/demo/impact-assessments/{ia_id}"), Some(&admin)).await;
    assert!(!page.body.contains(">Sign off</button>"), "not offered to someone who changed it");
    assert!(page.body.contains("Sign-off is not offered to you: rule separation-of-duties: (changed-since-approval)"), "{}", page.body);
    let refused = ui
        .post(
            &format!("/orgs/demo/impact-assessments/{ia_id}/sign-off"),
            Some(&admin),
            &[("version", "2"), ("comment", "Looks right to me")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains(">Looks right to me</textarea>"), "the comment typed is kept: {}", refused.body);
    let page = ui.get(&format!("/orgs/demo/impact-assessments/{ia_id}"), Some(&owner)).await;
    assert!(page.body.contains(">Sign off</button>"), "offered to someone uninvolved");
    let signed =
        ui.post(&format!("/orgs/demo/impact-assessments/{ia_id}/sign-off"), Some(&owner), &[("version", "2"), ("comment", "")]).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let revision = ui.get(&format!("/orgs/demo/impact-assessments/{ia_id}/revisions/1"), Some(&editor)).await;
    assert_eq!(revision.status, StatusCode::OK);
    assert!(revision.body.contains("Some languages are routed later"));

    let page = ui.get(&format!("/orgs/demo/ai-systems/{id}"), Some(&editor)).await;
    let version = form_version(&page.body[page.body.find(r#"id="details""#).expect("details form")..]);
    let changed = ui
        .post(
            &format!("/orgs/demo/ai-systems/{id}"),
            Some(&editor),
            &[("version", &version), ("name", "Triage bot"), ("intended_use", "Answers tickets too")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let page = ui.get(&format!("/orgs/demo/impact-assessments/{ia_id}"), Some(&editor)).await;
    assert!(page.body.contains("Re-assessment due:"));
    assert!(page.body.contains("Intended use changed"));
}

#[tokio::test]
async fn risk_register_heat_map_and_acceptance() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let admin = ui.sign_in(Role::Admin).await;
    let owner = ui.sign_in(Role::Owner).await;
    let created = ui
        .post(
            "/orgs/demo/risks/new",
            Some(&editor),
            &[
                ("title", "Heat map probe"),
                ("source_category", "technical"),
                ("inherent_likelihood", "5"),
                ("inherent_consequence", "5"),
                ("residual_likelihood", "3"),
                ("residual_consequence", "4"),
                ("status", "assessed"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_in(created.location.as_deref().unwrap_or_default(), "risks");
    let register = ui.get("/orgs/demo/risks", Some(&editor)).await;
    assert!(register.body.contains(r#"aria-label="Risk heat map — inherent"#));
    assert!(register.body.contains("at likelihood Almost certain and consequence Severe"));

    let refused = ui.post(&format!("/orgs/demo/risks/{id}/accept"), Some(&admin), &[("version", "1"), ("rationale", "fine")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("rule role-permission"));
    let accepted = ui.post(&format!("/orgs/demo/risks/{id}/accept"), Some(&owner), &[("version", "1"), ("rationale", "fine")]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let page = ui.get(&format!("/orgs/demo/risks/{id}"), Some(&editor)).await;
    assert!(page.body.contains("Accepted by <strong>Olivia Okafor</strong>"));

    let criteria = ui.get("/orgs/demo/risk-criteria", Some(&admin)).await;
    assert_eq!(criteria.status, StatusCode::OK);
    assert!(criteria.body.contains(r#"name="risk_levels[0].min_score""#));
}

async fn member_of(ui: &TestUi, role: Role) -> aims_store::model::Member {
    ui.app.member_by_email(&ui.users[&role].email, "demo").await.expect("membership")
}

/// The `rel="next"` link of a list page, unescaped, if it has one.
fn next_link(html: &str) -> Option<String> {
    let at = html.find(r#" rel="next""#)?;
    let href = html[..at].rsplit_once(r#"href=""#).expect("next link").1.trim_end_matches('"');
    Some(href.replace("&amp;", "&").replace("&#38;", "&"))
}
