//! Test harness: a fresh database per test on either backend, the demo-like organisations and
//! members, and an HTTP client.

use std::collections::HashMap;

use aims_app::App;
use aims_store::model::{Actor, Member};
use reqwest::{Method, StatusCode};
use serde_json::Value;

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
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: HashMap<&'static str, String>,
    pub other_token: String,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        let database_url = fresh_database(backend).await;
        let (app, _) = App::open(&database_url).await.expect("open app");
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
        app.create_member("owner@other.example", "other", "owner", "correct horse battery staple", None, &system)
            .await
            .expect("other owner");
        let other = app.member_by_email("owner@other.example", "other").await.expect("other member");
        let other_token = app.create_token(&other, Some("test"), None, &system).await.expect("token").secret;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let router = aims_web::router(app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { app, base, client: reqwest::Client::new(), tokens, other_token }
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

/// One route of the API as the walking tests exercise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Healthz,
    Metrics,
    OpenApi,
    ListRequirements,
    GetRequirement,
    PatchRequirement,
    TraceRequirement,
    ListControls,
    CreateControl,
    GetControl,
    PatchControl,
    ArchiveControl,
    TraceControl,
    ListTokens,
    ListAllTokens,
    CreateToken,
    RevokeOwnToken,
    RevokeOthersToken,
    ListActivity,
    ActivityCsv,
    ActivityHead,
    ActivityVerify,
}

impl Route {
    pub const ALL: [Route; 22] = [
        Route::Healthz,
        Route::Metrics,
        Route::OpenApi,
        Route::ListRequirements,
        Route::GetRequirement,
        Route::PatchRequirement,
        Route::TraceRequirement,
        Route::ListControls,
        Route::CreateControl,
        Route::GetControl,
        Route::PatchControl,
        Route::ArchiveControl,
        Route::TraceControl,
        Route::ListTokens,
        Route::ListAllTokens,
        Route::CreateToken,
        Route::RevokeOwnToken,
        Route::RevokeOthersToken,
        Route::ListActivity,
        Route::ActivityCsv,
        Route::ActivityHead,
        Route::ActivityVerify,
    ];

    /// The OpenAPI method and path template this case exercises.
    pub fn template(self) -> (&'static str, &'static str) {
        match self {
            Route::Healthz => ("get", "/healthz"),
            Route::Metrics => ("get", "/metrics"),
            Route::OpenApi => ("get", "/api/openapi.json"),
            Route::ListRequirements => ("get", "/api/v1/orgs/{org}/requirements"),
            Route::GetRequirement => ("get", "/api/v1/orgs/{org}/requirements/{ref}"),
            Route::PatchRequirement => ("patch", "/api/v1/orgs/{org}/requirements/{ref}"),
            Route::TraceRequirement => ("get", "/api/v1/orgs/{org}/requirements/{ref}/trace"),
            Route::ListControls => ("get", "/api/v1/orgs/{org}/controls"),
            Route::CreateControl => ("post", "/api/v1/orgs/{org}/controls"),
            Route::GetControl => ("get", "/api/v1/orgs/{org}/controls/{ref}"),
            Route::PatchControl => ("patch", "/api/v1/orgs/{org}/controls/{ref}"),
            Route::ArchiveControl => ("delete", "/api/v1/orgs/{org}/controls/{ref}"),
            Route::TraceControl => ("get", "/api/v1/orgs/{org}/controls/{ref}/trace"),
            Route::ListTokens | Route::ListAllTokens => ("get", "/api/v1/orgs/{org}/tokens"),
            Route::CreateToken => ("post", "/api/v1/orgs/{org}/tokens"),
            Route::RevokeOwnToken | Route::RevokeOthersToken => ("delete", "/api/v1/orgs/{org}/tokens/{id}"),
            Route::ListActivity | Route::ActivityCsv => ("get", "/api/v1/orgs/{org}/activity"),
            Route::ActivityHead => ("get", "/api/v1/orgs/{org}/activity/head"),
            Route::ActivityVerify => ("get", "/api/v1/orgs/{org}/activity/verify"),
        }
    }

    pub fn public(self) -> bool {
        matches!(self, Route::Healthz | Route::Metrics | Route::OpenApi)
    }

    /// Does success change records (and so add events)? How many records it changes.
    pub fn records_changed(self) -> i64 {
        match self {
            Route::PatchRequirement
            | Route::CreateControl
            | Route::PatchControl
            | Route::ArchiveControl
            | Route::CreateToken
            | Route::RevokeOwnToken
            | Route::RevokeOthersToken => 1,
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
}

impl TestApp {
    /// Prepares a fresh target for `route` in organisation `org` (created as `acme`'s admin or
    /// `other`'s owner), so each attempt has something current to act on.
    pub async fn prepare(&self, route: Route, org: &str, acting_role: &str) -> Prepared {
        let owner_token = if org == "acme" { self.token("admin").to_owned() } else { self.other_token.clone() };
        let base = format!("/api/v1/orgs/{org}");
        let (method, path, body) = match route {
            Route::Healthz => (Method::GET, "/healthz".to_owned(), None),
            Route::Metrics => (Method::GET, "/metrics".to_owned(), None),
            Route::OpenApi => (Method::GET, "/api/openapi.json".to_owned(), None),
            Route::ListRequirements => (Method::GET, format!("{base}/requirements"), None),
            Route::GetRequirement => (Method::GET, format!("{base}/requirements/6.1.4"), None),
            Route::PatchRequirement => (
                Method::PATCH,
                format!("{base}/requirements/6.1.4"),
                Some(serde_json::json!({"notes": format!("note {}", uuid::Uuid::new_v4())})),
            ),
            Route::TraceRequirement => (Method::GET, format!("{base}/requirements/6.1.4/trace"), None),
            Route::ListControls => (Method::GET, format!("{base}/controls"), None),
            Route::CreateControl => (
                Method::POST,
                format!("{base}/controls"),
                Some(serde_json::json!({"ref": format!("C-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "title": "A control"})),
            ),
            Route::GetControl => (Method::GET, format!("{base}/controls/A.7.4"), None),
            Route::PatchControl => (
                Method::PATCH,
                format!("{base}/controls/A.7.4"),
                Some(serde_json::json!({"justification": format!("why {}", uuid::Uuid::new_v4())})),
            ),
            Route::ArchiveControl => {
                let reference = format!("ARC-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
                let created = self
                    .call(
                        &owner_token,
                        Method::POST,
                        &format!("{base}/controls"),
                        Some(&serde_json::json!({"ref": reference, "title": "To archive"})),
                        &[],
                    )
                    .await;
                assert_eq!(created.status, 201, "{}", created.text);
                (Method::DELETE, format!("{base}/controls/{reference}"), None)
            }
            Route::TraceControl => (Method::GET, format!("{base}/controls/A.7.4/trace"), None),
            Route::ListTokens => (Method::GET, format!("{base}/tokens"), None),
            Route::ListAllTokens => (Method::GET, format!("{base}/tokens?all=true"), None),
            Route::CreateToken => (Method::POST, format!("{base}/tokens"), Some(serde_json::json!({"name": "walk"}))),
            Route::RevokeOwnToken => {
                // A token of the acting member (acme) to revoke; for another org, the owner's.
                let id = if org == "acme" { self.token_id_of(acting_role).await } else { self.token_id_in_other().await };
                (Method::DELETE, format!("{base}/tokens/{id}"), None)
            }
            Route::RevokeOthersToken => {
                let id = if org == "acme" {
                    self.token_id_of(if acting_role == "editor" { "viewer" } else { "editor" }).await
                } else {
                    self.token_id_in_other().await
                };
                (Method::DELETE, format!("{base}/tokens/{id}"), None)
            }
            Route::ListActivity => (Method::GET, format!("{base}/activity"), None),
            Route::ActivityCsv => (Method::GET, format!("{base}/activity?format=csv"), None),
            Route::ActivityHead => (Method::GET, format!("{base}/activity/head"), None),
            Route::ActivityVerify => (Method::GET, format!("{base}/activity/verify"), None),
        };
        let mut headers = Vec::new();
        if matches!(method, Method::PATCH | Method::DELETE) && !matches!(route, Route::RevokeOwnToken | Route::RevokeOthersToken) {
            let current = self.call(&owner_token, Method::GET, &path, None, &[]).await;
            let version = current.json()["version"].as_i64().unwrap_or(1);
            headers.push(("if-match", format!("\"{version}\"")));
        }
        Prepared { method, path, body, headers }
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
        let headers: Vec<(&str, &str)> = prepared.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(token, prepared.method.clone(), &prepared.path, prepared.body.as_ref(), &headers).await
    }
}
