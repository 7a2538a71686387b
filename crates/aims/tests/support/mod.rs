//! What the binary's integration tests share: the two backends, a fresh database on either,
//! and the macro that runs a test on both; a child's peak memory and a fast-grown chain.

use std::process::{Command, Output, Stdio};

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

/// Runs `aims ARGS` against `database` and returns its output with its peak resident memory in
/// bytes (the kernel's `ru_maxrss` of that one child, read when it is reaped).
#[allow(dead_code)] // used by the CLI and log-export tests, not by every test that shares this module
pub fn aims_with_peak_memory(database: &str, args: &[&str]) -> (Output, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aims");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; `pid` is our own child, not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // The outcome lines are short: they fit the pipes' buffers until the child is reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let read = |pipe: Option<&mut dyn std::io::Read>| {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            pipe.read_to_end(&mut bytes).expect("read pipe");
        }
        bytes
    };
    let mut child = child;
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn std::io::Read));
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn std::io::Read));
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    (Output { status, stdout, stderr }, usage.ru_maxrss as u64 * 1024)
}

/// A pool of one connection to a test's database on either backend, for SQL the test runs
/// itself; `direct!(pool, p => …)` runs the same statement on whichever it is.
#[allow(dead_code)]
pub enum Direct {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[allow(unused_macros)]
macro_rules! direct {
    ($direct:expr, $pool:ident => $body:expr) => {
        match $direct {
            Direct::Sqlite($pool) => $body,
            Direct::Postgres($pool) => $body,
        }
    };
}

impl Direct {
    #[allow(dead_code)]
    pub async fn open(db: &str, backend: Backend) -> Direct {
        match backend {
            Backend::Sqlite => Direct::Sqlite(sqlx::pool::PoolOptions::new().max_connections(1).connect(db).await.expect("open")),
            Backend::Postgres => Direct::Postgres(sqlx::pool::PoolOptions::new().max_connections(1).connect(db).await.expect("open")),
        }
    }
}

/// One event of a grown chain: its columns but the constant ones.
#[allow(dead_code)]
struct ChainRow {
    seq: i64,
    id: String,
    at: String,
    record_id: String,
    changes: String,
    prev_hash: String,
    hash: String,
    canonical: String,
}

/// Inserts a batch of events in one statement: on SQLite from a JSON array of `[canonical,
/// prev_hash, hash]`, the columns read out of the canonical text (which holds no backslash or
/// control character, so escaping its quotes makes it a JSON string: serde_json per event took
/// most of the time in a debug build); on PostgreSQL from one array per column.
#[allow(dead_code)]
async fn insert_chain_rows(pool: &Direct, org_id: &str, rows: Vec<ChainRow>) {
    const COLUMNS: &str = "INSERT INTO activity_log (org_id, actor, action, record_type, seq, id, at, record_id, changes, prev_hash, hash, canonical) \
                           SELECT CAST($1 AS TEXT), 'owner@acme.example', 'update', 'ai_system', ";
    match pool {
        Direct::Sqlite(p) => {
            let elements: Vec<String> =
                rows.iter().map(|r| format!(r#"["{}","{}","{}"]"#, r.canonical.replace('"', "\\\""), r.prev_hash, r.hash)).collect();
            let sql = format!(
                "{COLUMNS} json_extract(c, '$.seq'), json_extract(c, '$.id'), json_extract(c, '$.at'), json_extract(c, '$.record_id'), \
                 json_extract(c, '$.changes'), p, h, c \
                 FROM (SELECT json_extract(value, '$[0]') AS c, json_extract(value, '$[1]') AS p, json_extract(value, '$[2]') AS h FROM json_each($2))"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(format!("[{}]", elements.join(",")))
                .execute(p)
                .await
                .expect("insert events");
        }
        Direct::Postgres(p) => {
            let column = |field: fn(&ChainRow) -> &String| rows.iter().map(|r| field(r).clone()).collect::<Vec<String>>();
            let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
            let sql = format!(
                "{COLUMNS} * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(seqs)
                .bind(column(|r| &r.id))
                .bind(column(|r| &r.at))
                .bind(column(|r| &r.record_id))
                .bind(column(|r| &r.changes))
                .bind(column(|r| &r.prev_hash))
                .bind(column(|r| &r.hash))
                .bind(column(|r| &r.canonical))
                .execute(p)
                .await
                .expect("insert events");
        }
    }
}

/// Appends correctly sealed events to `acme`'s chain straight into the database and moves the
/// recorded head to the last one. The application appends one event per change; a test of
/// scale needs a million fast, so the canonical text is written out here for one fixed shape
/// (checked against `chain::canonical` on the first event), and SQLite takes thousands of
/// events per statement as one JSON array, filling the columns from the canonical text
/// (PostgreSQL as one array per column).
#[allow(dead_code)] // as above
pub async fn grow_chain(pool: &Direct, to_seq: i64) {
    use aims_domain::chain::{EventContent, canonical, link_hash};
    let (org_id, mut seq, mut head): (String, i64, String) = direct!(pool, p => sqlx::query_as("SELECT id, log_seq, log_head FROM organizations WHERE slug = 'acme'").fetch_one(p).await.expect("org"));
    const ROWS: i64 = 5000;
    while seq < to_seq {
        let mut batch = Vec::new();
        for _ in 0..(to_seq - seq).min(ROWS) {
            seq += 1;
            let id = uuid::Uuid::now_v7().to_string();
            let at = format!("2026-03-01T{:02}:{:02}:{:02}.000000Z", (seq / 3600) % 24, (seq / 60) % 60, seq % 60);
            let record_id = format!("00000000-0000-7000-8000-{:012}", seq % 10_000);
            let changes = format!(r#"{{"status":{{"from":"draft","to":"in_use"}},"version":{seq}}}"#);
            let text = format!(
                r#"{{"action":"update","actor":"owner@acme.example","at":"{at}","changes":{changes},"id":"{id}","org_id":"{org_id}","record_id":"{record_id}","record_type":"ai_system","seq":{seq}}}"#
            );
            if batch.is_empty() {
                let content = EventContent {
                    id: id.clone(),
                    org_id: org_id.clone(),
                    seq,
                    at: at.clone(),
                    actor: "owner@acme.example".into(),
                    action: "update".into(),
                    record_type: "ai_system".into(),
                    record_id: record_id.clone(),
                    changes: serde_json::json!({"status": {"from": "draft", "to": "in_use"}, "version": seq}),
                };
                assert_eq!(text, canonical(&content), "the test's canonical text is the chain's");
            }
            let hash = link_hash(&head, &text);
            batch.push(ChainRow {
                seq,
                id,
                at,
                record_id,
                changes,
                prev_hash: std::mem::replace(&mut head, hash.clone()),
                hash,
                canonical: text,
            });
        }
        insert_chain_rows(pool, &org_id, batch).await;
    }
    direct!(pool, p => { sqlx::query("UPDATE organizations SET log_seq = $1, log_head = $2 WHERE id = $3")
        .bind(seq)
        .bind(&head)
        .bind(&org_id)
        .execute(p)
        .await
        .expect("move head"); });
}
