//! Test harness: a fresh database per test on either backend, the demo-like organisations and
//! members, and an HTTP client.

use std::collections::HashMap;

use aims_app::App;
use aims_domain::kinds;
use aims_domain::validate::{KindSpec, Revisions};
use aims_store::model::{Actor, Member};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests from `async fn NAME(Backend)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                if $crate::helpers::postgres_url().is_none() { return; }
                super::$name($crate::helpers::Backend::Postgres).await
            } )*
        }
    };
}

/// The PostgreSQL server for tests, from `AIMS_TEST_POSTGRES_URL`. Under CI it must be set;
/// elsewhere its absence skips the PostgreSQL variants, saying so.
pub fn postgres_url() -> Option<String> {
    match std::env::var("AIMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but AIMS_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("skipped: PostgreSQL variant (set AIMS_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

/// A fresh, empty database URL on the backend.
pub async fn fresh_database(backend: Backend) -> String {
    let name = format!("aims_test_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("aims-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite:{}", dir.join(format!("{name}.db")).display())
        }
        Backend::Postgres => {
            let admin_url = postgres_url().expect("postgres url");
            let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.expect("create test database");
            admin.close().await;
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base).to_owned();
            format!("{base}/{name}")
        }
    }
}

pub const ROLES: [&str; 5] = ["owner", "admin", "editor", "auditor", "viewer"];

/// A running API with two organisations (`acme` and `other`), a member per role in `acme`, an
/// owner in `other`, and a token for each.
pub struct TestApp {
    pub app: App,
    pub database_url: String,
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: HashMap<&'static str, String>,
    pub other_token: String,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// [`TestApp::start`] with the services adjusted first (an upload limit, a file store).
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut App)) -> Self {
        let database_url = fresh_database(backend).await;
        let (mut app, _) = App::open(&database_url).await.expect("open app");
        configure(&mut app);
        let system = Actor::System("test");
        app.create_org("acme", "Acme AI", &system).await.expect("acme");
        app.create_org("other", "Other Org", &system).await.expect("other");
        let mut tokens = HashMap::new();
        for role in ROLES {
            let email = format!("{role}@acme.example");
            app.create_member(&email, "acme", role, "correct horse battery staple", None, &system).await.expect("member");
            let member = app.member_by_email(&email, "acme").await.expect("member");
            tokens.insert(role, app.create_token(&member, Some("test"), None, &system).await.expect("token").secret);
        }
        // Two more members who never touch what the others write: an editor who writes the
        // records separation of duties concerns, and an admin who approves without having
        // changed anything.
        for (name, role) in [("author", "editor"), ("approver", "admin")] {
            let email = format!("{name}@acme.example");
            app.create_member(&email, "acme", role, "correct horse battery staple", None, &system).await.expect("member");
            let member = app.member_by_email(&email, "acme").await.expect("member");
            tokens.insert(name, app.create_token(&member, Some("test"), None, &system).await.expect("token").secret);
        }
        app.create_member("owner@other.example", "other", "owner", "correct horse battery staple", None, &system)
            .await
            .expect("other owner");
        let other = app.member_by_email("owner@other.example", "other").await.expect("other member");
        let other_token = app.create_token(&other, Some("test"), None, &system).await.expect("token").secret;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let router = aims_web::router(app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { app, database_url, base, client: reqwest::Client::new(), tokens, other_token }
    }

    /// Another server instance on the same database, as a second node behind a load balancer
    /// would be; returns its base URL.
    pub async fn second_instance(&self) -> String {
        let (app, _) = App::open(&self.database_url).await.expect("open second instance");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let router = aims_web::router(app);
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    /// Sends a raw body with its content type (multipart uploads, CSV).
    pub async fn send_raw(
        &self,
        role: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(self.token(role)).header("content-type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.body(body).send().await.expect("request")).await
    }

    pub fn token(&self, role: &str) -> &str {
        &self.tokens[role]
    }

    pub async fn member(&self, role: &str) -> Member {
        self.app.member_by_email(&format!("{role}@acme.example"), "acme").await.expect("member")
    }

    /// Sends a request as `token` with an optional JSON body and extra headers.
    pub async fn call(&self, token: &str, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn get(&self, role: &str, path: &str) -> Reply {
        self.call(self.token(role), Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, role: &str, path: &str, body: &Value) -> Reply {
        self.call(self.token(role), Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, role: &str, path: &str, version: i64, body: &Value) -> Reply {
        let etag = format!("\"{version}\"");
        self.call(self.token(role), Method::PATCH, path, Some(body), &[("if-match", &etag)]).await
    }

    /// The number of events in `acme`'s log.
    pub async fn event_count(&self) -> i64 {
        self.app.log_head("acme").await.expect("head").0
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Self { status, headers, text }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with `status` and returns its fields' names.
    pub fn problem(&self, status: u16) -> Vec<String> {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text);
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["title"].is_string() && body["detail"].is_string());
        body["errors"].as_array().expect("errors list").iter().map(|e| e["field"].as_str().unwrap_or_default().to_owned()).collect()
    }
}

/// What a walked route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Healthz,
    Metrics,
    OpenApi,
    List,
    Create,
    Get,
    Patch,
    Archive,
    Trace,
    Revisions,
    Revision,
    Transition(&'static str),
    /// `GET …/{id}/transitions`: which transitions the caller may take now.
    TransitionChoices,
    ListTokens,
    ListAllTokens,
    CreateToken,
    RevokeOwnToken,
    RevokeOthersToken,
    ListActivity,
    ActivityCsv,
    ActivityHead,
    ActivityVerify,
    ImportAiSystems,
    UploadEvidence,
    DownloadEvidence,
    ReplaceEvidenceFile,
    PolicyDiff,
    CompetenceGaps,
    /// `GET readiness`: figures, gaps and the Stage 1 list.
    Readiness,
    /// `GET readiness/history`: the daily snapshots.
    ReadinessHistory,
    /// `POST notification-channels/{id}/send-test`.
    SendTest,
    /// `POST /api/v1/public/{org}/concerns`: the public intake, no account needed.
    PublicConcern,
    /// `GET /api/v1/public/{org}/concerns/{token}`: a concern's state by its private link.
    PublicConcernStatus,
    ListMembers,
    GetMember,
    ChangeMember,
    SignOutMember,
    ListInvitations,
    Invite,
    RevokeInvitation,
    GetSecuritySettings,
    ChangeSecuritySettings,
    GetSsoSettings,
    ChangeSsoSettings,
    /// `GET reports`: the report kinds and their formats.
    ListReportKinds,
    /// `GET reports/{kind}`: a report, recorded as an issued document.
    GenerateReport,
    ListIssuedDocuments,
    GetIssuedDocument,
}

/// One route of the API as the walking tests exercise it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub op: Op,
    pub spec: Option<&'static KindSpec>,
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && self.spec.map(|s| s.kind) == other.spec.map(|s| s.kind)
    }
}

impl Route {
    /// Every route: the service and token routes, and each kind's generated routes.
    pub fn all() -> Vec<Route> {
        let plain = |op| Route { op, spec: None };
        let mut routes: Vec<Route> = [
            Op::Healthz,
            Op::Metrics,
            Op::OpenApi,
            Op::ListTokens,
            Op::ListAllTokens,
            Op::CreateToken,
            Op::RevokeOwnToken,
            Op::RevokeOthersToken,
            Op::ListActivity,
            Op::ActivityCsv,
            Op::ActivityHead,
            Op::ActivityVerify,
            Op::ImportAiSystems,
            Op::PolicyDiff,
            Op::CompetenceGaps,
            Op::Readiness,
            Op::ReadinessHistory,
            Op::SendTest,
            Op::PublicConcern,
            Op::PublicConcernStatus,
            Op::ListMembers,
            Op::GetMember,
            Op::ChangeMember,
            Op::SignOutMember,
            Op::ListInvitations,
            Op::Invite,
            Op::RevokeInvitation,
            Op::ListReportKinds,
            Op::GenerateReport,
            Op::ListIssuedDocuments,
            Op::GetIssuedDocument,
            Op::GetSsoSettings,
            Op::ChangeSsoSettings,
            // Last of the plain routes: the rule it sets refuses token creation to unenrolled admins.
            Op::GetSecuritySettings,
            Op::ChangeSecuritySettings,
        ]
        .into_iter()
        .map(plain)
        .collect();
        for spec in kinds::ALL.iter().copied() {
            let with = |op| Route { op, spec: Some(spec) };
            let mut ops = vec![Op::Get, Op::Patch];
            if !spec.singleton {
                ops.extend([Op::List, Op::Trace]);
            }
            if spec.creatable && !spec.singleton {
                ops.push(Op::Archive);
                if spec.uploads {
                    ops.extend([Op::UploadEvidence, Op::DownloadEvidence, Op::ReplaceEvidenceFile]);
                } else {
                    ops.push(Op::Create);
                }
            }
            if spec.revisions != Revisions::None {
                ops.extend([Op::Revisions, Op::Revision]);
            }
            ops.extend(aims_app::transitions::names(spec).into_iter().map(Op::Transition));
            if spec.workflow.is_some() {
                ops.push(Op::TransitionChoices);
            }
            routes.extend(ops.into_iter().map(with));
        }
        routes
    }

    /// The OpenAPI method and path template this route exercises.
    pub fn template(self) -> (String, String) {
        let base = "/api/v1/orgs/{org}";
        let (method, path) = match (self.op, self.spec) {
            (Op::Healthz, _) => ("get", "/healthz".to_owned()),
            (Op::Metrics, _) => ("get", "/metrics".to_owned()),
            (Op::OpenApi, _) => ("get", "/api/openapi.json".to_owned()),
            (Op::ListTokens | Op::ListAllTokens, _) => ("get", format!("{base}/tokens")),
            (Op::CreateToken, _) => ("post", format!("{base}/tokens")),
            (Op::RevokeOwnToken | Op::RevokeOthersToken, _) => ("delete", format!("{base}/tokens/{{id}}")),
            (Op::ListActivity | Op::ActivityCsv, _) => ("get", format!("{base}/activity")),
            (Op::ActivityHead, _) => ("get", format!("{base}/activity/head")),
            (Op::ActivityVerify, _) => ("get", format!("{base}/activity/verify")),
            (Op::ImportAiSystems, _) => ("post", format!("{base}/ai-systems/import")),
            (Op::PolicyDiff, _) => ("get", format!("{base}/policies/{{id}}/diff")),
            (Op::CompetenceGaps, _) => ("get", format!("{base}/competence-gaps")),
            (Op::Readiness, _) => ("get", format!("{base}/readiness")),
            (Op::ReadinessHistory, _) => ("get", format!("{base}/readiness/history")),
            (Op::SendTest, _) => ("post", format!("{base}/notification-channels/{{id}}/send-test")),
            (Op::PublicConcern, _) => ("post", "/api/v1/public/{org}/concerns".to_owned()),
            (Op::PublicConcernStatus, _) => ("get", "/api/v1/public/{org}/concerns/{token}".to_owned()),
            (Op::ListMembers, _) => ("get", format!("{base}/members")),
            (Op::GetMember, _) => ("get", format!("{base}/members/{{id}}")),
            (Op::ChangeMember, _) => ("patch", format!("{base}/members/{{id}}")),
            (Op::SignOutMember, _) => ("post", format!("{base}/members/{{id}}/sign-out")),
            (Op::ListInvitations, _) => ("get", format!("{base}/invitations")),
            (Op::Invite, _) => ("post", format!("{base}/invitations")),
            (Op::RevokeInvitation, _) => ("delete", format!("{base}/invitations/{{id}}")),
            (Op::GetSecuritySettings, _) => ("get", format!("{base}/settings/security")),
            (Op::ChangeSecuritySettings, _) => ("patch", format!("{base}/settings/security")),
            (Op::GetSsoSettings, _) => ("get", format!("{base}/settings/sso")),
            (Op::ChangeSsoSettings, _) => ("patch", format!("{base}/settings/sso")),
            (Op::ListReportKinds, _) => ("get", format!("{base}/reports")),
            (Op::GenerateReport, _) => ("get", format!("{base}/reports/{{kind}}")),
            (Op::ListIssuedDocuments, _) => ("get", format!("{base}/reports/issued")),
            (Op::GetIssuedDocument, _) => ("get", format!("{base}/reports/issued/{{id}}")),
            (op, Some(spec)) => {
                let collection = match spec.parent {
                    Some(parent) => format!("{base}/{}/{{id}}/{}", parent.collection, spec.collection),
                    None => format!("{base}/{}", spec.collection),
                };
                let item = if spec.singleton {
                    collection.clone()
                } else if spec.parent.is_some() {
                    format!("{collection}/{{child_id}}")
                } else if spec.addressed_by_ref {
                    format!("{collection}/{{ref}}")
                } else {
                    format!("{collection}/{{id}}")
                };
                match op {
                    Op::List => ("get", collection),
                    Op::Create | Op::UploadEvidence => ("post", collection),
                    Op::DownloadEvidence => ("get", format!("{item}/content")),
                    Op::ReplaceEvidenceFile => ("post", format!("{item}/content")),
                    Op::Get => ("get", item),
                    Op::Patch => ("patch", item),
                    Op::Archive => ("delete", item),
                    Op::Trace => ("get", format!("{item}/trace")),
                    Op::Revisions => ("get", format!("{item}/revisions")),
                    Op::Revision => ("get", format!("{item}/revisions/{{n}}")),
                    Op::Transition(name) => ("post", format!("{item}/{name}")),
                    Op::TransitionChoices => ("get", format!("{item}/transitions")),
                    _ => unreachable!("plain routes handled above"),
                }
            }
            (op, None) => panic!("{op:?} needs a kind"),
        };
        (method.to_owned(), path)
    }

    pub fn public(self) -> bool {
        matches!(self.op, Op::Healthz | Op::Metrics | Op::OpenApi | Op::PublicConcern | Op::PublicConcernStatus)
    }

    /// How many records a successful call changes (so how many events it adds).
    pub fn records_changed(self) -> i64 {
        let kind = self.spec.map_or("", |s| s.kind);
        match self.op {
            // A new or archived measurement updates its objective's figures too.
            Op::Create | Op::Archive if kind == "measurement" => 2,
            Op::PublicConcern => 1,
            // Triage writes the concern and the record it is triaged into.
            Op::Transition("to-incident" | "to-nonconformity" | "to-improvement") => 2,
            Op::ImportAiSystems
            | Op::Create
            | Op::Patch
            | Op::Archive
            | Op::CreateToken
            | Op::RevokeOwnToken
            | Op::RevokeOthersToken
            | Op::UploadEvidence
            | Op::ReplaceEvidenceFile
            | Op::SendTest
            | Op::ChangeMember
            | Op::SignOutMember
            | Op::Invite
            | Op::RevokeInvitation
            | Op::ChangeSecuritySettings
            | Op::ChangeSsoSettings
            | Op::GenerateReport => 1,
            // An approved gate moves its AI system too; a raised finding writes its nonconformity.
            Op::Transition("approve") if kind == "gate" => 2,
            Op::Transition("raise-nonconformity") => 2,
            Op::Transition(_) => 1,
            _ => 0,
        }
    }
}

/// A request ready to send.
pub struct Prepared {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
    /// A body sent as is (with its content type among the headers), instead of JSON.
    pub raw: Option<String>,
}

/// A create body for kinds that need no other record.
fn simple_input(spec: &KindSpec) -> Value {
    match spec.kind {
        "ai_system" => json!({"name": unique("System")}),
        "person" => json!({"name": unique("Person"), "roles": ["Model validator"]}),
        "objective" => {
            json!({"title": unique("Objective"), "metric": "Systems with a signed-off impact assessment", "unit": "%", "target": 100})
        }
        "measurement" => json!({"value": 42.5, "measured_on": "2026-11-01"}),
        "evidence" => json!({"title": unique("Evidence")}),
        "policy" => {
            json!({"title": unique("Policy"), "topic": "ai_policy", "body": "We use AI responsibly.\nEvery system has an owner.\n"})
        }
        "competence" => json!({"name": unique("Competence"), "required_for_roles": ["Model validator"]}),
        "communication" => json!({"subject": "AI policy launch", "audience": "All staff", "channel": "email"}),
        "schedule" => json!({"title": unique("Review"), "subject": "policy_review", "frequency": "yearly", "next_due_on": "2026-01-31"}),
        // Nothing listens on the discard port: a test message fails, and says so.
        "notification_channel" => json!({"name": unique("Hook"), "channel_type": "webhook", "webhook_url": "http://127.0.0.1:9/"}),
        "supplier" => json!({"name": unique("Supplier")}),
        "maturity_assessment" => json!({"title": unique("Maturity"), "assessed_on": "2026-06-01", "governance_level": 3, "risk_level": 2}),
        other => panic!("no sample for {other}"),
    }
}

/// A multipart/form-data body with an optional `metadata` part and a `file` part; returns the
/// content type (with its boundary) and the body.
pub fn multipart_body(metadata: Option<&Value>, file_name: &str, file_type: &str, content: &str) -> (String, String) {
    let boundary = "aims-test-boundary-7d1f";
    let mut body = String::new();
    if let Some(metadata) = metadata {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

impl TestApp {
    fn admin_token(&self, org: &str) -> String {
        if org == "acme" { self.token("admin").to_owned() } else { self.other_token.clone() }
    }

    /// A valid create body for a kind in `org` (creating what it links to as needed).
    pub async fn sample_input(&self, spec: &KindSpec, org: &str, role: &str) -> Value {
        match spec.kind {
            "control" => json!({"ref": unique("C"), "title": "A control"}),
            "context_issue" => json!({"title": "New AI regulation", "issue_type": "external"}),
            "interested_party" => json!({"name": unique("Regulator"), "category": "regulator", "needs_expectations": "Lawful AI"}),
            "ai_system" => json!({"name": unique("System")}),
            "resource" => json!({"resource_type": "data", "name": "Training data"}),
            "dataset" => json!({"name": unique("Dataset")}),
            "supplier" => json!({"name": unique("Supplier")}),
            "gate" => json!({"ai_system_id": self.fresh_id(&kinds::AI_SYSTEM, org).await, "to_stage": "design", "reason": "Ready"}),
            "lifecycle_record" => {
                json!({"ai_system_id": self.fresh_id(&kinds::AI_SYSTEM, org).await, "record_type": "design_documentation", "title": "Design"})
            }
            "gate_requirement" => {
                let stage = match role {
                    "owner" => "idea",
                    "admin" => "design",
                    _ => "retired",
                };
                json!({"to_stage": stage, "required_record_types": []})
            }
            "risk_source" => json!({"title": unique("Source"), "category": "technical"}),
            "risk" => json!({"title": unique("Risk"), "source_category": "technical", "residual_likelihood": 1, "residual_consequence": 1}),
            "action" => json!({"title": unique("Action")}),
            "impact_assessment" => {
                json!({"ai_system_id": self.fresh_id(&kinds::AI_SYSTEM, org).await, "title": "DPIA", "overall_level": "low"})
            }
            "training" => {
                json!({"person_id": self.fresh_id(&kinds::PERSON, org).await, "title": "EU AI Act basics", "completed_on": "2026-01-15"})
            }
            // Ready for every step: corrected, analysed, with one finished corrective action
            // nobody owns, so any member with the role may verify it.
            "nonconformity" => json!({
                "title": unique("Nonconformity"), "source": "other", "description": "Found", "detected_on": "2026-01-10",
                "correction": "Contained", "root_cause": "No check", "similar_elsewhere": "no",
                "corrective_action_ids": [self.corrective_action(org).await]
            }),
            "improvement" => {
                json!({"title": unique("Improvement"), "opportunity": "Do better", "source": "review", "outcome": "Done better"})
            }
            "change" => json!({"title": unique("Change"), "purpose": "Grow the scope"}),
            "management_review" => json!({"title": unique("Review"), "planned_on": "2026-03-01"}),
            "audit_programme" => json!({
                "title": unique("Programme"), "period_from": "2026-01-01", "period_to": "2026-12-31", "frequency": "yearly",
                "scope": "Clauses 4 to 10 and Annex A"
            }),
            "audit" => self.audit_input(org, role, true).await,
            "finding" => {
                let audit = self.audit_led_by(org, role, false).await;
                let audit_id = audit.rsplit('/').next().unwrap_or_default();
                json!({"title": unique("Finding"), "audit_id": audit_id, "classification": "minor_nonconformity", "description": "Found"})
            }
            "certificate" => json!({
                "title": unique("Certificate"), "certification_body": "Cert Body Ltd", "scope": "AI products",
                "issued_on": "2026-03-01", "expires_on": "2029-02-28"
            }),
            // Ready for every step: rated and decided, contained.
            "supplier_review" => json!({
                "title": unique("Review"), "supplier_id": self.fresh_id(&kinds::SUPPLIER, org).await, "reviewed_on": "2026-03-01",
                "risk_rating": "low", "outcome": "approved"
            }),
            "incident" => json!({"title": unique("Incident"), "description": "Wrong answers", "detected_on": "2026-03-01",
                                 "severity": "medium", "containment": "Feature switched off"}),
            "concern" => json!({"subject": unique("Concern"), "description": "It answered wrongly"}),
            _ => simple_input(spec),
        }
    }

    /// Who audits for `role` in `org`: the member themselves when their role may audit (the
    /// walker's records are the admin's), else the auditor.
    async fn auditor_for(&self, org: &str, role: &str) -> String {
        if org != "acme" {
            return self.app.member_by_email("owner@other.example", "other").await.expect("member").user_id;
        }
        let who = match role {
            "owner" | "admin" | "auditor" | "approver" => role,
            "walker" => "admin",
            _ => "auditor",
        };
        self.member(who).await.user_id
    }

    /// An audit's create body led by `role`'s auditor, over the past half year (so what the
    /// walk changes today is outside the audited period); `scoped`: clause 6.1.4 is in scope.
    pub async fn audit_input(&self, org: &str, role: &str, scoped: bool) -> Value {
        let refs: &[&str] = if scoped { &["6.1.4"] } else { &[] };
        json!({
            "title": unique("Audit"), "audit_type": "internal", "requirement_refs": refs,
            "period_from": "2026-01-01", "period_to": "2026-06-30", "lead_auditor_id": self.auditor_for(org, role).await
        })
    }

    /// A started audit led by `role`'s auditor (created and started by the organisation's
    /// admin), by path; `scoped` as for [`Self::audit_input`].
    pub async fn audit_led_by(&self, org: &str, role: &str, scoped: bool) -> String {
        let input = self.audit_input(org, role, scoped).await;
        let reply = self.call(&self.admin_token(org), Method::POST, &format!("/api/v1/orgs/{org}/audits"), Some(&input), &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let path = format!("/api/v1/orgs/{org}/audits/{}", reply.json()["id"].as_str().expect("id"));
        self.advance(org, &path, &["start"]).await;
        path
    }

    /// A finished corrective action with no owner, by id.
    async fn corrective_action(&self, org: &str) -> String {
        let input = json!({"title": unique("Corrective"), "source": "corrective_action", "status": "done", "completed_on": "2026-01-20"});
        let reply = self.call(&self.admin_token(org), Method::POST, &format!("/api/v1/orgs/{org}/actions"), Some(&input), &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// A harmless change of a kind.
    #[allow(clippy::match_same_arms)]
    fn sample_patch(spec: &KindSpec) -> Value {
        let field = match spec.kind {
            "requirement" => "notes",
            "control" => "justification",
            "context_issue" | "dataset" | "supplier" | "risk_source" | "risk" | "action" | "resource" => "description",
            "interested_party" => "needs_expectations",
            "scope" => "statement",
            "ai_system" => "business_unit",
            "gate" => "reason",
            "lifecycle_record" => "summary",
            "gate_requirement" => "notes",
            "risk_criteria" => "method",
            "impact_assessment" => "residual_impact",
            "evidence" | "objective" | "competence" => "description",
            "policy" => "summary",
            "measurement" | "training" => "notes",
            "person" => "job_title",
            "communication" => "audience",
            "soa" => "notes",
            "nonconformity" => "description",
            "improvement" => "opportunity",
            "change" => "purpose",
            "management_review" => "agenda",
            "audit_programme" | "certificate" => "scope",
            "audit" => "criteria",
            "finding" => "description",
            "schedule" => "instructions",
            "notification_channel" => "name",
            "supplier_review" => "model_lineage",
            "incident" => "description",
            "concern" => "internal_notes",
            "maturity_assessment" => "governance_note",
            other => panic!("no patch for {other}"),
        };
        json!({ field: unique("changed") })
    }

    /// A new record of a kind (as `org`'s admin, or `acme`'s editor where separation of duties
    /// matters), addressed as the API addresses it.
    pub async fn fresh(&self, spec: &KindSpec, org: &str) -> String {
        if spec.kind == "requirement" {
            return "6.1.4".into();
        }
        if spec.addressed_by_ref && spec.kind == "control" && !spec.creatable {
            return "A.7.4".into();
        }
        let token = if org == "acme" && spec.kind == "risk" {
            // The editor may accept a risk within the threshold that they neither wrote nor own.
            self.token("author").to_owned()
        } else if org == "acme" && matches!(spec.kind, "gate" | "impact_assessment" | "policy" | "supplier_review") {
            self.token("editor").to_owned()
        } else {
            self.admin_token(org)
        };
        let input = self.sample_input(spec, org, "walker").await;
        if spec.kind == "gate_requirement" {
            // One active requirement per stage: reuse a default one while any is left.
            if let Some(existing) = self.find_gate_requirement(org).await {
                return existing;
            }
        }
        let input = if spec.kind == "gate_requirement" { json!({"to_stage": "retired", "notes": "walk"}) } else { input };
        let path = match spec.parent {
            Some(parent) => format!("/api/v1/orgs/{org}/{}/{}/{}", parent.collection, self.fresh_parent(spec, org).await, spec.collection),
            None => format!("/api/v1/orgs/{org}/{}", spec.collection),
        };
        let reply = if spec.uploads {
            self.upload(&token, &path, &input).await
        } else {
            self.call(&token, Method::POST, &path, Some(&input), &[]).await
        };
        assert_eq!(reply.status, 201, "create {}: {}", spec.kind, reply.text);
        let body = reply.json();
        let key = if spec.addressed_by_ref { &body["ref"] } else { &body["id"] };
        key.as_str().expect("key").to_owned()
    }

    async fn find_gate_requirement(&self, org: &str) -> Option<String> {
        let list = self
            .call(&self.admin_token(org), Method::GET, &format!("/api/v1/orgs/{org}/gate-requirements?limit=200"), None, &[])
            .await
            .json();
        list["items"].as_array()?.first().and_then(|i| i["id"].as_str()).map(str::to_owned)
    }

    /// A new parent record for a nested kind.
    async fn fresh_parent(&self, spec: &KindSpec, org: &str) -> String {
        let parent = spec.parent.and_then(|p| kinds::by_kind(p.kind)).expect("parent kind");
        self.fresh_id(parent, org).await
    }

    /// Uploads a small text file as evidence with `metadata`.
    pub async fn upload(&self, token: &str, path: &str, metadata: &Value) -> Reply {
        let (content_type, body) = multipart_body(Some(metadata), "note.txt", "text/plain", "Evidence text");
        let request = self.client.post(format!("{}{path}", self.base)).bearer_auth(token).header("content-type", content_type).body(body);
        Reply::from(request.send().await.expect("request")).await
    }

    /// A new record of a kind with no required links (AI system, person, objective …), by id.
    pub async fn fresh_id(&self, spec: &KindSpec, org: &str) -> String {
        let input = simple_input(spec);
        let reply =
            self.call(&self.admin_token(org), Method::POST, &format!("/api/v1/orgs/{org}/{}", spec.collection), Some(&input), &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// The path of a record: top-level, singleton or nested (creating a parent for children).
    async fn item_path(&self, spec: &KindSpec, org: &str) -> String {
        let base = format!("/api/v1/orgs/{org}");
        if spec.singleton {
            return format!("{base}/{}", spec.collection);
        }
        if let Some(parent) = spec.parent {
            let parent_id = self.fresh_parent(spec, org).await;
            let created = self
                .call(
                    &self.admin_token(org),
                    Method::POST,
                    &format!("{base}/{}/{parent_id}/{}", parent.collection, spec.collection),
                    Some(&self.sample_input(spec, org, "walker").await),
                    &[],
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.text);
            return format!("{base}/{}/{parent_id}/{}/{}", parent.collection, spec.collection, created.json()["id"].as_str().expect("id"));
        }
        format!("{base}/{}/{}", spec.collection, self.fresh(spec, org).await)
    }

    /// Prepares a fresh target for `route` in organisation `org`, so each attempt has
    /// something current to act on.
    pub async fn prepare(&self, route: Route, org: &str, acting_role: &str) -> Prepared {
        let base = format!("/api/v1/orgs/{org}");
        let (method, path, body) = match (route.op, route.spec) {
            (Op::Healthz, _) => (Method::GET, "/healthz".to_owned(), None),
            (Op::Metrics, _) => (Method::GET, "/metrics".to_owned(), None),
            (Op::OpenApi, _) => (Method::GET, "/api/openapi.json".to_owned(), None),
            (Op::ListTokens, _) => (Method::GET, format!("{base}/tokens"), None),
            (Op::ListAllTokens, _) => (Method::GET, format!("{base}/tokens?all=true"), None),
            (Op::CreateToken, _) => (Method::POST, format!("{base}/tokens"), Some(json!({"name": "walk"}))),
            (Op::RevokeOwnToken, _) => {
                let id = if org == "acme" { self.token_id_of(acting_role).await } else { self.token_id_in_other().await };
                (Method::DELETE, format!("{base}/tokens/{id}"), None)
            }
            (Op::RevokeOthersToken, _) => {
                let id = if org == "acme" {
                    self.token_id_of(if acting_role == "editor" { "viewer" } else { "editor" }).await
                } else {
                    self.token_id_in_other().await
                };
                (Method::DELETE, format!("{base}/tokens/{id}"), None)
            }
            (Op::ListActivity, _) => (Method::GET, format!("{base}/activity"), None),
            (Op::ActivityCsv, _) => (Method::GET, format!("{base}/activity?format=csv"), None),
            (Op::ActivityHead, _) => (Method::GET, format!("{base}/activity/head"), None),
            (Op::ActivityVerify, _) => (Method::GET, format!("{base}/activity/verify"), None),
            (Op::ImportAiSystems, _) => {
                let csv = format!("name,eu_ai_act_role\n{},deployer\n", unique("Imported"));
                return Prepared {
                    method: Method::POST,
                    path: format!("{base}/ai-systems/import"),
                    body: None,
                    headers: vec![("content-type", "text/csv".into())],
                    raw: Some(csv),
                };
            }
            (Op::PolicyDiff, _) => {
                let item = format!("{base}/policies/{}", self.fresh(&kinds::POLICY, org).await);
                self.advance(org, &item, &["submit", "approve", "publish"]).await;
                (Method::GET, format!("{item}/diff?from=1"), None)
            }
            (Op::CompetenceGaps, _) => (Method::GET, format!("{base}/competence-gaps"), None),
            (Op::Readiness, _) => (Method::GET, format!("{base}/readiness"), None),
            (Op::ReadinessHistory, _) => (Method::GET, format!("{base}/readiness/history"), None),
            (Op::SendTest, _) => {
                let item = format!("{base}/notification-channels/{}", self.fresh(&kinds::NOTIFICATION_CHANNEL, org).await);
                (Method::POST, format!("{item}/send-test"), Some(json!({})))
            }
            (Op::PublicConcern, _) => (
                Method::POST,
                format!("/api/v1/public/{org}/concerns"),
                Some(json!({"subject": unique("Concern"), "description": "The chatbot was rude"})),
            ),
            (Op::PublicConcernStatus, _) => {
                let input = json!({"subject": unique("Concern"), "description": "Where is my answer?"});
                let received = self.app.submit_public_concern(&unique("source"), org, &input).await.expect("concern");
                (Method::GET, format!("/api/v1/public/{org}/concerns/{}", received.token), None)
            }
            (Op::ListMembers, _) => (Method::GET, format!("{base}/members"), None),
            (Op::GetMember, _) => (Method::GET, format!("{base}/members/{}", self.member("viewer").await.user_id), None),
            (Op::ChangeMember, _) => {
                // A member made for the call, so the walk's own members keep their roles.
                let email = format!("{}@{org}.example", unique("member").to_lowercase());
                let system = Actor::System("test");
                self.app.create_member(&email, org, "viewer", "correct horse battery staple", None, &system).await.expect("member");
                let id = self.app.member_by_email(&email, org).await.expect("member").user_id;
                (Method::PATCH, format!("{base}/members/{id}"), Some(json!({"role": "auditor"})))
            }
            (Op::SignOutMember, _) => (Method::POST, format!("{base}/members/{}/sign-out", self.member("viewer").await.user_id), None),
            (Op::ListInvitations, _) => (Method::GET, format!("{base}/invitations"), None),
            (Op::Invite, _) => {
                let email = format!("{}@{org}.example", unique("invited").to_lowercase());
                (Method::POST, format!("{base}/invitations"), Some(json!({"email": email, "role": "viewer"})))
            }
            (Op::GetSecuritySettings, _) => (Method::GET, format!("{base}/settings/security"), None),
            (Op::ChangeSecuritySettings, _) => {
                // Set to "admins" first, so the call's "off" is a change (one event).
                let owner = self.app.member_by_email(&format!("owner@{org}.example"), org).await;
                if let Ok(owner) = owner {
                    self.app.change_security_settings(&owner, "admins", 0).await.expect("rule");
                }
                (Method::PATCH, format!("{base}/settings/security"), Some(json!({"mfa_required": "off"})))
            }
            (Op::RevokeInvitation, _) => {
                let email = format!("{}@{org}.example", unique("invited").to_lowercase());
                let owner = self.member("owner").await;
                let (invitation, _) = self.app.invite(&owner, &email, "viewer").await.expect("invitation");
                (Method::DELETE, format!("{base}/invitations/{}", invitation.id), None)
            }
            (Op::GetSsoSettings, _) => (Method::GET, format!("{base}/settings/sso"), None),
            (Op::ChangeSsoSettings, _) => {
                let domain = format!("{}.example", unique("walk").to_lowercase());
                return Prepared {
                    method: Method::PATCH,
                    path: format!("{base}/settings/sso"),
                    body: Some(json!({"allowed_domains": [domain]})),
                    headers: vec![("if-match", "*".into())],
                    raw: None,
                };
            }
            (Op::ListReportKinds, _) => (Method::GET, format!("{base}/reports"), None),
            (Op::GenerateReport, _) => (Method::GET, format!("{base}/reports/risk-register?format=csv"), None),
            (Op::ListIssuedDocuments, _) => (Method::GET, format!("{base}/reports/issued"), None),
            (Op::GetIssuedDocument, _) => {
                let reader = self.app.report_reader(org).await.expect("reader");
                let system = Actor::System("test");
                let generated = self.app.generate_report(&reader, "soa", Some("csv"), None, &system, &|_, _, _| {}).await.expect("report");
                (Method::GET, format!("{base}/reports/issued/{}", generated.issued_id.expect("issued")), None)
            }
            (op, Some(spec)) => {
                let collection = match spec.parent {
                    Some(parent) => format!("{base}/{}/{}/{}", parent.collection, self.fresh_parent(spec, org).await, spec.collection),
                    None => format!("{base}/{}", spec.collection),
                };
                match op {
                    Op::List => (Method::GET, collection, None),
                    Op::Create => (Method::POST, collection, Some(self.sample_input(spec, org, acting_role).await)),
                    Op::Get => (Method::GET, self.item_path(spec, org).await, None),
                    Op::Patch => (Method::PATCH, self.item_path(spec, org).await, Some(Self::sample_patch(spec))),
                    Op::Archive => (Method::DELETE, self.item_path(spec, org).await, None),
                    Op::Trace => (Method::GET, format!("{}/trace", self.item_path(spec, org).await), None),
                    Op::Revisions => (Method::GET, format!("{}/revisions", self.item_path(spec, org).await), None),
                    Op::TransitionChoices => (Method::GET, format!("{}/transitions", self.item_path(spec, org).await), None),
                    Op::Revision => {
                        let item = self.item_path(spec, org).await;
                        match spec.kind {
                            "impact_assessment" => self.advance(org, &item, &["sign-off"]).await,
                            "soa" => self.advance(org, &item, &["approve"]).await,
                            "policy" => self.advance(org, &item, &["submit", "approve", "publish"]).await,
                            "management_review" => self.advance(org, &item, &["hold", "close"]).await,
                            _ => {}
                        }
                        (Method::GET, format!("{item}/revisions/1"), None)
                    }
                    Op::Transition(name) if spec.kind == "audit" => {
                        // Results are recorded by an auditor of the audit: the acting member leads it.
                        let item = if name == "start" {
                            self.item_path(spec, org).await
                        } else {
                            self.audit_led_by(org, acting_role, name == aims_domain::kinds::audit::RECORD_RESULT).await
                        };
                        let before: &[&str] = if name == "close" { &["report"] } else { &[] };
                        self.advance(org, &item, before).await;
                        let body = match name {
                            "close" => json!({"summary": "Conforming, one observation"}),
                            "start" | "report" => json!({}),
                            _ => json!({"item": "requirement:6.1.4", "result": "conforming", "notes": "Checked"}),
                        };
                        (Method::POST, format!("{item}/{name}"), Some(body))
                    }
                    Op::Transition(name) => {
                        let item = self.item_path(spec, org).await;
                        if spec.kind == "soa" {
                            // The walk has changed the SoA and its entries as every role: an
                            // approval by someone who did not starts a fresh period.
                            self.advance(org, &item, &["approve"]).await;
                        }
                        let before: &[&str] = match (spec.kind, name) {
                            ("nonconformity", "analyse") => &["correct"],
                            ("nonconformity", "plan") => &["correct", "analyse"],
                            ("nonconformity", "request-verification") => &["correct", "analyse", "plan"],
                            ("nonconformity", "verify" | "not-effective") => &["correct", "analyse", "plan", "request-verification"],
                            ("improvement", "implement") => &["accept"],
                            ("change", "complete") => &["start"],
                            ("management_review", "decide" | "close") => &["hold"],
                            ("certificate", "reinstate") => &["suspend"],
                            ("schedule", "resume") => &["pause"],
                            ("supplier_review", "complete" | "return") => &["submit"],
                            ("incident", "contain" | "resolve") => &["triage"],
                            ("incident", "close") => &["triage", "resolve"],
                            _ => &[],
                        };
                        self.advance(org, &item, before).await;
                        if spec.kind == "policy" {
                            let before: &[&str] = match name {
                                "approve" | "reject" => &["submit"],
                                "publish" => &["submit", "approve"],
                                "retire" | "acknowledge" => &["submit", "approve", "publish"],
                                _ => &[],
                            };
                            self.advance(org, &item, before).await;
                        }
                        let body = match (spec.kind, name) {
                            ("nonconformity", "verify" | "not-effective") => json!({"comment": "Checked"}),
                            ("nonconformity" | "schedule" | "incident", _) | ("improvement", "implement") | ("change", "start") => {
                                json!({})
                            }
                            ("concern", "close") => json!({"answer": "Thank you; fixed"}),
                            ("supplier_review", "submit") => json!({}),
                            ("concern", _) => json!({"note": "Triaged"}),
                            ("improvement", "reject") => json!({"rationale": "Not now"}),
                            ("change", _) => json!({"note": "Reviewed"}),
                            ("management_review", "decide") => json!({"decision": "Keep the policy as it is"}),
                            ("management_review", _) => json!({}),
                            ("finding", _) => json!({}),
                            ("certificate", _) => json!({"reason": "Reviewed"}),
                            (_, "accept") => json!({"rationale": "Low residual risk"}),
                            ("gate", _) | (_, "reject" | "retire" | "cancel") => json!({"reason": "Reviewed"}),
                            (_, "publish" | "acknowledge") => json!({}),
                            _ => json!({"comment": "Reviewed"}),
                        };
                        (Method::POST, format!("{item}/{name}"), Some(body))
                    }
                    Op::UploadEvidence => {
                        let metadata = self.sample_input(spec, org, acting_role).await;
                        let (content_type, body) = multipart_body(Some(&metadata), "model-card.md", "text/markdown", "# Model card\n");
                        return Prepared {
                            method: Method::POST,
                            path: collection,
                            body: None,
                            headers: vec![("content-type", content_type)],
                            raw: Some(body),
                        };
                    }
                    Op::DownloadEvidence => (Method::GET, format!("{}/content", self.item_path(spec, org).await), None),
                    Op::ReplaceEvidenceFile => {
                        let item = self.item_path(spec, org).await;
                        let version =
                            self.call(&self.admin_token(org), Method::GET, &item, None, &[]).await.json()["version"].as_i64().unwrap_or(1);
                        let (content_type, body) = multipart_body(None, "model-card-v2.md", "text/markdown", "# Model card v2\n");
                        return Prepared {
                            method: Method::POST,
                            path: format!("{item}/content"),
                            body: None,
                            headers: vec![("content-type", content_type), ("if-match", format!("\"{version}\""))],
                            raw: Some(body),
                        };
                    }
                    other => panic!("{other:?}"),
                }
            }
            (op, None) => panic!("{op:?} needs a kind"),
        };
        let mut headers = Vec::new();
        let needs_version =
            matches!(method, Method::PATCH) || (method == Method::DELETE && route.spec.is_some()) || matches!(route.op, Op::Transition(_));
        if needs_version {
            let read_path = match route.op {
                Op::Transition(name) => path.trim_end_matches(&format!("/{name}")).to_owned(),
                _ => path.clone(),
            };
            let current = self.call(&self.admin_token(org), Method::GET, &read_path, None, &[]).await;
            let version = current.json()["version"].as_i64().unwrap_or(1);
            headers.push(("if-match", format!("\"{version}\"")));
        }
        Prepared { method, path, body, headers, raw: None }
    }

    /// Moves a record through transitions as an approver who changed nothing (submitting as
    /// the author, the editor, where the approver may not).
    async fn advance(&self, org: &str, item: &str, steps: &[&str]) {
        let owner = if org == "acme" { self.token("approver").to_owned() } else { self.other_token.clone() };
        for step in steps {
            let token = if *step == "submit" && org == "acme" { self.token("editor").to_owned() } else { owner.clone() };
            let current = self.call(&token, Method::GET, item, None, &[]).await.json();
            let version = format!("\"{}\"", current["version"]);
            let body = match *step {
                "accept" => json!({"rationale": "Agreed"}),
                "suspend" => json!({"reason": "Surveillance audit overdue"}),
                _ => json!({}),
            };
            let reply = self.call(&token, Method::POST, &format!("{item}/{step}"), Some(&body), &[("if-match", &version)]).await;
            assert!(reply.status.is_success(), "{step} {item}: {}", reply.text);
        }
    }

    /// A spare token of an `acme` member, for revocation tests.
    async fn token_id_of(&self, role: &str) -> String {
        let member = self.member(role).await;
        self.app.create_token(&member, Some("spare"), None, &Actor::System("test")).await.expect("token").token.id
    }

    async fn token_id_in_other(&self) -> String {
        let member = self.app.member_by_email("owner@other.example", "other").await.expect("member");
        self.app.create_token(&member, Some("spare"), None, &Actor::System("test")).await.expect("token").token.id
    }

    pub async fn send(&self, token: &str, prepared: &Prepared) -> Reply {
        if let Some(raw) = &prepared.raw {
            let mut request = self
                .client
                .request(prepared.method.clone(), format!("{}{}", self.base, prepared.path))
                .bearer_auth(token)
                .body(raw.clone());
            for (name, value) in &prepared.headers {
                request = request.header(*name, value.as_str());
            }
            return Reply::from(request.send().await.expect("request")).await;
        }
        let headers: Vec<(&str, &str)> = prepared.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(token, prepared.method.clone(), &prepared.path, prepared.body.as_ref(), &headers).await
    }
}
