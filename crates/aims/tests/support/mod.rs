//! What the binary's integration tests share: the two backends, a fresh database on either,
//! and the macro that runs a test on both.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests from `async fn NAME(Backend)` (the
/// PostgreSQL one skips, saying so, without `AIMS_TEST_POSTGRES_URL`, which CI refuses).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                if super::postgres_url().is_none() { return; }
                super::$name(super::Backend::Postgres).await
            } )*
        }
    };
}

/// The PostgreSQL server for tests, from `AIMS_TEST_POSTGRES_URL`; under CI it must be set.
pub fn postgres_url() -> Option<String> {
    match std::env::var("AIMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but AIMS_TEST_POSTGRES_URL is not set")
        }
        _ => {
            eprintln!("skipped: PostgreSQL variant (set AIMS_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

/// A fresh, empty database on the backend, named `<prefix>_<uuid>`.
pub async fn fresh_database(backend: Backend, prefix: &str) -> String {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("aims-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite:{}", dir.join(format!("{name}.db")).display())
        }
        Backend::Postgres => {
            let admin_url = postgres_url().expect("url");
            let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.expect("create database");
            admin.close().await;
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
            format!("{base}/{name}")
        }
    }
}
