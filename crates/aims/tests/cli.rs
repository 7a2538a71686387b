//! The `aims` binary as people and scripts use it: bootstrap, exit codes, the demo, the
//! activity log's verification after tampering, and CLI and server sharing one database.
//! Every test runs on SQLite and on PostgreSQL.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The database itself refuses UPDATE and DELETE on the log.
macro_rules! assert_log_guarded {
    ($pool:expr) => {
        assert!(sqlx::query("UPDATE activity_log SET actor = 'x' WHERE seq = 1").execute($pool).await.is_err(), "UPDATE is refused");
        assert!(sqlx::query("DELETE FROM activity_log WHERE seq = 1").execute($pool).await.is_err(), "DELETE is refused");
        assert!(sqlx::query("DELETE FROM activity_log").execute($pool).await.is_err(), "DELETE of all rows is refused");
    };
}

#[macro_use]
mod support;

use support::{Backend, Direct, aims_with_peak_memory, fresh_database, grow_chain, postgres_url};

/// Runs `aims ARGS` against `database` with `stdin`.
fn aims(database: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .env_remove("AIMS_BIND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aims");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("aims output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status.code(), stdout(&o), stderr(&o));
    o
}

const PASSWORD: &str = "correct horse battery staple\n";

/// An organisation `acme` with an owner and the owner's token.
fn bootstrap(database: &str) -> String {
    ok(aims(database, &["org", "create", "acme", "--name", "Acme AI"], ""));
    ok(aims(database, &["user", "create", "owner@acme.example", "--org", "acme", "--role", "owner"], PASSWORD));
    let token = ok(aims(database, &["token", "create", "owner@acme.example", "--org", "acme", "--name", "ci"], ""));
    let out = stdout(&token);
    assert_eq!(out.lines().count(), 1, "stdout is exactly one line, the token");
    out.trim().to_owned()
}

/// A server on a free port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
    stderr_lines: Vec<String>,
}

impl Server {
    fn start(database: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("AIMS_DATABASE_URL", database)
            .env("AIMS_LOG", "warn")
            .env_remove("AIMS_PUBLIC_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut stderr_lines = Vec::new();
        let url = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("read") == 0 {
                panic!("server exited: {stderr_lines:?}");
            }
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                break url.to_owned();
            }
            stderr_lines.push(line.trim().to_owned());
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Self { child, url, stderr_lines }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn bootstrap_by_cli_then_use_the_api(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let token = bootstrap(&db);
    let server = Server::start(&db, &[]);
    let client = reqwest::Client::new();
    let body: Value = client
        .get(format!("{}/api/v1/orgs/acme/requirements", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 32);
    assert_eq!(items[0]["ref"], "4.1");
    assert_eq!(items[31]["ref"], "10.2");
    let controls: Value = client
        .get(format!("{}/api/v1/orgs/acme/controls", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(controls["items"].as_array().map(Vec::len), Some(38));
    // Revocation by CLI takes effect on the next request.
    let listed = stdout(&ok(aims(&db, &["token", "list", "owner@acme.example", "--org", "acme"], "")));
    let id = listed.split('\t').next().expect("id").to_owned();
    ok(aims(&db, &["token", "revoke", &id], ""));
    let after = client.get(format!("{}/api/v1/orgs/acme/controls", server.url)).bearer_auth(&token).send().await.expect("send");
    assert_eq!(after.status(), 401);
}

async fn errors_name_the_field_and_use_the_contract_exit_codes(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let bad_slug = aims(&db, &["org", "create", "Bad_Slug", "--name", "X"], "");
    assert_eq!(bad_slug.status.code(), Some(1));
    assert!(stderr(&bad_slug).contains("slug"), "{}", stderr(&bad_slug));
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme"], ""));
    let duplicate = aims(&db, &["org", "create", "acme", "--name", "Acme"], "");
    assert_eq!(duplicate.status.code(), Some(1));
    assert!(stderr(&duplicate).contains("acme"));
    let short = aims(&db, &["user", "create", "a@acme.example", "--org", "acme", "--role", "owner"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("password"), "{}", stderr(&short));
    for weak in ["aaaaaaaaaaaa\n", "password1234\n"] {
        let refused = aims(&db, &["user", "create", "a@acme.example", "--org", "acme", "--role", "owner"], weak);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains("error: password: this password is too easy to guess: "), "{}", stderr(&refused));
    }
    let role = aims(&db, &["user", "create", "a@acme.example", "--org", "acme", "--role", "boss"], PASSWORD);
    assert_eq!(role.status.code(), Some(1));
    assert!(stderr(&role).contains("role"));
    let email = aims(&db, &["user", "create", "not-an-email", "--org", "acme", "--role", "owner"], PASSWORD);
    assert!(stderr(&email).contains("email"));
    let unknown_org = aims(&db, &["token", "create", "a@acme.example", "--org", "nowhere"], "");
    assert_eq!(unknown_org.status.code(), Some(1));
    let usage = aims(&db, &["frobnicate"], "");
    assert_eq!(usage.status.code(), Some(2));
    let missing = aims(&db, &["org", "create"], "");
    assert_eq!(missing.status.code(), Some(2));
    for command in [&["--help"][..], &["user", "create", "--help"], &["log", "verify", "--help"], &["token", "create", "--help"]] {
        let help = ok(aims(&db, command, ""));
        assert!(stdout(&help).contains("Usage"));
    }
}

async fn the_demo_is_created_once(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let first = ok(aims(&db, &["demo"], ""));
    let credentials: Vec<String> = stderr(&first).lines().filter(|l| l.contains("@demo.example ")).map(str::to_owned).collect();
    assert_eq!(credentials.len(), 5, "{}", stderr(&first));
    for role in ["owner", "admin", "editor", "auditor", "viewer"] {
        assert!(credentials.iter().any(|l| l.starts_with(&format!("{role}@demo.example "))));
    }
    let head_before = stdout(&ok(aims(&db, &["log", "head", "--org", "demo"], "")));
    let second = ok(aims(&db, &["demo"], ""));
    assert!(!stderr(&second).contains("@demo.example "), "no new credentials");
    let head_after = stdout(&ok(aims(&db, &["log", "head", "--org", "demo"], "")));
    assert_eq!(head_before, head_after, "nothing changed");
    assert_eq!(head_after.trim().len(), 64);
    ok(aims(&db, &["log", "verify"], ""));
}

async fn setup_link_is_printed_while_no_user_exists(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let server = Server::start(&db, &[]);
    let setup = server.stderr_lines.iter().find_map(|l| l.strip_prefix("setup: ")).expect("setup line");
    assert!(setup.starts_with(&format!("{}/setup/", server.url)), "{setup}");
    drop(server);
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme"], ""));
    ok(aims(&db, &["user", "create", "o@acme.example", "--org", "acme", "--role", "owner"], PASSWORD));
    let server = Server::start(&db, &[]);
    assert!(!server.stderr_lines.iter().any(|l| l.starts_with("setup: ")));
}

async fn deactivation_and_password_reset(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let token = bootstrap(&db);
    let server = Server::start(&db, &[]);
    let link = stdout(&ok(aims(&db, &["user", "reset-password", "owner@acme.example"], "")));
    assert!(link.trim().contains("/reset/reset_"), "{link}");
    ok(aims(&db, &["user", "deactivate", "owner@acme.example"], ""));
    let client = reqwest::Client::new();
    let after = client.get(format!("{}/api/v1/orgs/acme/controls", server.url)).bearer_auth(&token).send().await.expect("send");
    assert_eq!(after.status(), 401);
    let missing = aims(&db, &["user", "deactivate", "nobody@acme.example"], "");
    assert_eq!(missing.status.code(), Some(1));
}

/// How an attacker with database access tampers with one event.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    EditActor,
    EditChanges,
    DeleteMiddle,
    DeleteLast,
    InsertForged,
    Reorder,
}

async fn tamper(database: &str, backend: Backend, how: Tamper) -> i64 {
    let seq_of_target: i64 = 3;
    let statements: Vec<String> = match how {
        Tamper::EditActor => vec![format!("UPDATE activity_log SET actor = 'intruder@evil.example' WHERE seq = {seq_of_target}")],
        Tamper::EditChanges => vec![format!("UPDATE activity_log SET changes = '{{\"forged\":true}}' WHERE seq = {seq_of_target}")],
        Tamper::DeleteMiddle => vec![format!("DELETE FROM activity_log WHERE seq = {seq_of_target}")],
        Tamper::DeleteLast => vec!["DELETE FROM activity_log WHERE seq = (SELECT MAX(seq) FROM activity_log)".into()],
        Tamper::InsertForged => vec![
            "INSERT INTO activity_log (org_id, seq, id, at, actor, action, record_type, record_id, changes, prev_hash, hash, canonical) \
             SELECT org_id, seq + 1000, 'forged', at, actor, action, record_type, record_id, changes, hash, hash, canonical FROM activity_log WHERE seq = 1"
                .into(),
        ],
        Tamper::Reorder => vec![
            "UPDATE activity_log SET seq = -1 WHERE seq = 2".into(),
            "UPDATE activity_log SET seq = 2 WHERE seq = 3".into(),
            "UPDATE activity_log SET seq = 3 WHERE seq = -1".into(),
        ],
    };
    match backend {
        Backend::Sqlite => {
            let path = database.trim_start_matches("sqlite:");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{path}")).await.expect("open");
            // The triggers refuse this; an attacker with file access drops them first.
            assert_log_guarded!(&pool);
            sqlx::query("DROP TRIGGER activity_log_no_update").execute(&pool).await.expect("drop");
            sqlx::query("DROP TRIGGER activity_log_no_delete").execute(&pool).await.expect("drop");
            for statement in statements {
                sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&pool).await.expect("tamper");
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(database).await.expect("open");
            assert_log_guarded!(&pool);
            let truncate = sqlx::query("TRUNCATE activity_log").execute(&pool).await;
            assert!(truncate.is_err(), "TRUNCATE is refused");
            let mut conn = pool.acquire().await.expect("conn");
            sqlx::query("ALTER TABLE activity_log DISABLE TRIGGER USER").execute(&mut *conn).await.expect("disable");
            for statement in statements {
                sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await.expect("tamper");
            }
            sqlx::query("ALTER TABLE activity_log ENABLE TRIGGER USER").execute(&mut *conn).await.expect("enable");
            drop(conn);
            pool.close().await;
        }
    }
    seq_of_target
}

async fn tampering_makes_log_verify_fail_and_name_the_event(backend: Backend) {
    for how in [Tamper::EditActor, Tamper::EditChanges, Tamper::DeleteMiddle, Tamper::DeleteLast, Tamper::InsertForged, Tamper::Reorder] {
        let db = fresh_database(backend, "aims_cli").await;
        bootstrap(&db);
        ok(aims(&db, &["log", "verify", "--org", "acme"], ""));
        let seq = tamper(&db, backend, how).await;
        let verify = aims(&db, &["log", "verify"], "");
        assert_eq!(verify.status.code(), Some(1), "{how:?} was not caught: {}", stderr(&verify));
        let line = stdout(&verify);
        assert!(line.starts_with("org=acme seq="), "{how:?}: {line}");
        assert!(line.contains(" id="), "{how:?}: {line}");
        if matches!(how, Tamper::EditActor | Tamper::EditChanges) {
            assert!(line.starts_with(&format!("org=acme seq={seq} ")), "{how:?} names the edited event: {line}");
        }
    }
}

/// A log of a million events verifies in a flat, small amount of memory (under 64 MB for the
/// whole process), tampering with event 999,999 is named, and a verification from a checkpoint
/// reads only what came after it.
async fn a_million_event_chain_verifies_in_constant_memory(backend: Backend) {
    chain_verifies_in_constant_memory(backend, 1_000_000).await;
}

async fn chain_verifies_in_constant_memory(backend: Backend, events: i64) {
    let target = events - 1;
    let db = fresh_database(backend, "aims_cli").await;
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme AI"], ""));
    // One connection: the settings that make loading quick hold for the whole load.
    let pool = Direct::open(&db, backend).await;
    let quick_load = match backend {
        Backend::Sqlite => "PRAGMA synchronous = OFF",
        Backend::Postgres => "SET synchronous_commit = off",
    };
    direct!(&pool, p => { sqlx::query(quick_load).execute(p).await.expect("quick load"); });
    let started = std::time::Instant::now();
    grow_chain(&pool, events).await;
    eprintln!("built a chain of {events} events in {:?}", started.elapsed());

    let started = std::time::Instant::now();
    let (intact, peak) = aims_with_peak_memory(&db, &["log", "verify", "--org", "acme"]);
    eprintln!("verified it in {:?}", started.elapsed());
    let intact = ok(intact);
    assert!(stderr(&intact).contains("org=acme intact"), "{}", stderr(&intact));
    assert!(peak < 64 << 20, "verifying {events} events peaked at {} MB resident", peak >> 20);
    eprintln!("verified {events} events; peak resident memory {} MB", peak >> 20);

    let (checkpoint_seq, checkpoint_hash): (i64, String) = direct!(&pool, p =>
        sqlx::query_as("SELECT seq, hash FROM activity_log WHERE seq = $1").bind(events - 1000).fetch_one(p).await.expect("event"));
    let checkpoint = format!("{checkpoint_seq}:{checkpoint_hash}");
    let head = ok(aims(&db, &["log", "head", "--org", "acme", "--checkpoint"], ""));
    assert!(stdout(&head).starts_with(&format!("{events}:")), "{}", stdout(&head));

    // An attacker with the database drops the guard and edits one event near the end.
    let unguard = match backend {
        Backend::Sqlite => "DROP TRIGGER activity_log_no_update",
        Backend::Postgres => "ALTER TABLE activity_log DISABLE TRIGGER USER",
    };
    let edit = "UPDATE activity_log SET actor = 'intruder@evil.example' WHERE seq = $1";
    direct!(&pool, p => { sqlx::query(unguard).execute(p).await.expect("unguard"); });
    direct!(&pool, p => { sqlx::query(edit).bind(target).execute(p).await.expect("edit"); });
    direct!(&pool, p => p.close().await);
    let expected = format!("org=acme seq={target} ");
    let (whole, peak) = aims_with_peak_memory(&db, &["log", "verify", "--org", "acme"]);
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    assert!(stdout(&whole).starts_with(&expected), "{}", stdout(&whole));
    assert!(stdout(&whole).contains("the event was edited"), "{}", stdout(&whole));
    assert!(peak < 64 << 20, "peaked at {} MB resident", peak >> 20);
    let since = aims(&db, &["log", "verify", "--org", "acme", "--from", &checkpoint], "");
    assert_eq!(since.status.code(), Some(1), "{}", stderr(&since));
    assert!(stdout(&since).starts_with(&expected), "{}", stdout(&since));
    // A million events take most of a gigabyte: not left behind.
    drop_database(&db, backend).await;
}

/// Removes a test's database (its files on SQLite).
async fn drop_database(db: &str, backend: Backend) {
    match backend {
        Backend::Sqlite => {
            let path = db.trim_start_matches("sqlite:");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        Backend::Postgres => {
            let Some((_, name)) = db.rsplit_once('/') else { return };
            let admin = sqlx::PgPool::connect(&postgres_url().expect("url")).await.expect("connect");
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await;
            admin.close().await;
        }
    }
}

/// A daily check starts from the head recorded the day before: it passes when the log only grew,
/// and fails naming the checkpoint's event when the checkpoint is not in the stored history.
async fn verification_starts_from_a_checkpoint(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    bootstrap(&db);
    let checkpoint = stdout(&ok(aims(&db, &["log", "head", "--org", "acme", "--checkpoint"], ""))).trim().to_owned();
    let (seq, hash) = checkpoint.split_once(':').expect("SEQ:HASH");
    assert_eq!(stdout(&ok(aims(&db, &["log", "head", "--org", "acme"], ""))).trim(), hash, "the head hash as before");
    ok(aims(&db, &["user", "create", "second@acme.example", "--org", "acme", "--role", "viewer"], PASSWORD));
    let since = ok(aims(&db, &["log", "verify", "--org", "acme", "--from", &checkpoint], ""));
    assert!(stderr(&since).contains(&format!("org=acme intact from seq {seq} to ")), "{}", stderr(&since));

    let forged = format!("{seq}:{}", "0".repeat(64));
    let broken = aims(&db, &["log", "verify", "--org", "acme", "--from", &forged], "");
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    assert!(stdout(&broken).starts_with(&format!("org=acme seq={seq} ")), "{}", stdout(&broken));
    let past = aims(&db, &["log", "verify", "--org", "acme", "--from", &format!("999999:{hash}")], "");
    assert_eq!(past.status.code(), Some(1), "{}", stdout(&past));
    let malformed = aims(&db, &["log", "verify", "--org", "acme", "--from", hash], "");
    assert!(!malformed.status.success() && stderr(&malformed).contains("error: from:"), "{}", stderr(&malformed));
    let without_org = aims(&db, &["log", "verify", "--from", &checkpoint], "");
    assert!(!without_org.status.success() && stderr(&without_org).contains("error: from:"), "{}", stderr(&without_org));
}

/// An import that grows the inventory by thousands refreshes PostgreSQL's planner statistics
/// before the command ends, so the next list is planned for the table's real size even where
/// autovacuum is off. (SQLite plans without statistics: nothing to check there.)
async fn a_bulk_import_refreshes_planner_statistics(backend: Backend) {
    if backend == Backend::Sqlite {
        return;
    }
    let db = fresh_database(backend, "aims_cli").await;
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme AI"], ""));
    let mut csv = String::from("name,eu_ai_act_role\n");
    for i in 0..1000 {
        csv.push_str(&format!("System {i},provider\n"));
    }
    let file = std::env::temp_dir().join(format!("aims-import-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, &csv).expect("write csv");
    let pool = sqlx::PgPool::connect(&db).await.expect("open");
    let analyzed = || async {
        sqlx::query_scalar::<_, i64>("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'records'")
            .fetch_one(&pool)
            .await
            .expect("statistics")
    };
    let before = analyzed().await;
    let import = ok(aims(&db, &["import", "ai-systems", file.to_str().expect("path"), "--org", "acme"], ""));
    assert_eq!(stdout(&import).trim(), "created=1000 updated=0 unchanged=0");
    let _ = std::fs::remove_file(&file);
    // The statistics collector reports with a short delay.
    let mut after = analyzed().await;
    for _ in 0..50 {
        if after > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = analyzed().await;
    }
    assert!(after > before, "records was analysed after the import ({before} → {after})");
    pool.close().await;
}

/// The import's look-up by name reads the name index on an organisation grown in bulk whose
/// table was never analysed (autovacuum off, as on many servers), asked the way the import asks
/// it: the very statement, prepared, with the generic plan the application's connections force.
/// Then the same after an ANALYZE. A plan, not a timing: a look-up that filtered the inventory
/// instead would make an import quadratic in the organisation's size.
async fn the_import_lookup_reads_the_name_index_without_statistics(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme AI"], ""));
    let sql = aims_store::records::by_name_sql(match backend {
        Backend::Sqlite => aims_store::Backend::Sqlite,
        Backend::Postgres => aims_store::Backend::Postgres,
    });
    // 20,000 systems written behind the application's back, so nothing analyses them.
    let bulk = "INSERT INTO records (org_id, id, kind, version, data, created_at, updated_at) \
        SELECT o.id, 'bulk-' || n.g, 'ai_system', 1, '{\"name\": \"Bulk system ' || n.g || '\"}', 'now', 'now' \
        FROM organizations o, n WHERE o.slug = 'acme'";
    match backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&db).await.expect("open");
            let rows = format!("WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 20000) {bulk}");
            sqlx::query(sqlx::AssertSqlSafe(rows)).execute(&mut conn).await.expect("bulk rows");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind("x")
                .bind("ai_system")
                .bind("bulk system 7")
                .fetch_all(&mut conn)
                .await
                .expect("plan");
            let plan: Vec<String> = rows.iter().map(|r| sqlx::Row::get::<String, _>(r, "detail")).collect();
            let plan = plan.join("\n");
            assert!(plan.contains("records_by_name"), "{plan}");
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db).await.expect("open");
            let rows = format!("WITH n(g) AS (SELECT generate_series(1, 20000)) {bulk}");
            sqlx::query(sqlx::AssertSqlSafe(rows)).execute(&mut conn).await.expect("bulk rows");
            let never: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'records'")
                .fetch_one(&mut conn)
                .await
                .expect("reltuples");
            assert_eq!(never, -1.0, "records was never analysed");
            let org: String =
                sqlx::query_scalar("SELECT id FROM organizations WHERE slug = 'acme'").fetch_one(&mut conn).await.expect("org");
            // As the application's connections run (db.rs): plans for the statement, not its values.
            sqlx::raw_sql("SET plan_cache_mode = force_generic_plan").execute(&mut conn).await.expect("plan cache mode");
            for stage in ["never analysed", "analysed"] {
                if stage == "analysed" {
                    sqlx::raw_sql("DEALLOCATE lookup; ANALYZE records").execute(&mut conn).await.expect("analyse");
                }
                let prepare = format!("PREPARE lookup (text, text, text) AS {sql}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(prepare)).execute(&mut conn).await.expect("prepare");
                let explain = format!("EXPLAIN EXECUTE lookup('{org}', 'ai_system', 'bulk system 7')");
                let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(explain)).fetch_all(&mut conn).await.expect("plan");
                let plan = plan.join("\n");
                assert!(plan.contains("records_by_name") && !plan.contains("Seq Scan"), "{stage}:\n{plan}");
            }
            conn.close().await.expect("close");
        }
    }
    // And the import finds an existing system through it, whatever the letters' case.
    let csv = std::env::temp_dir().join(format!("aims-import-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&csv, "name,eu_ai_act_role\nBULK SYSTEM 7,provider\nNew system,provider\n").expect("write csv");
    let import = ok(aims(&db, &["import", "ai-systems", csv.to_str().expect("path"), "--org", "acme"], ""));
    let _ = std::fs::remove_file(&csv);
    assert_eq!(stdout(&import).trim(), "created=1 updated=1 unchanged=0");
}

async fn a_newer_database_is_refused(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    ok(aims(&db, &["migrate"], ""));
    let insert = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2099-01-01T00:00:00.000000Z')";
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db).await.expect("open");
            sqlx::query(insert).execute(&pool).await.expect("insert");
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db).await.expect("open");
            sqlx::query(insert).execute(&pool).await.expect("insert");
            pool.close().await;
        }
    }
    let refused = aims(&db, &["migrate"], "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("newer"), "{}", stderr(&refused));
}

/// The layers every response passes through: security headers on API and UI responses alike,
/// cross-site form posts refused, and each request counted under its route template.
async fn every_response_passes_the_cross_cutting_layers(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let token = bootstrap(&db);
    let server = Server::start(&db, &[]);
    let client = reqwest::Client::new();
    let api = client.get(format!("{}/api/v1/orgs/acme/controls/A.2.2", server.url)).bearer_auth(&token).send().await.expect("send");
    let page = client.get(format!("{}/login", server.url)).send().await.expect("send");
    for response in [&api, &page] {
        assert_eq!(response.status(), 200, "{}", response.url());
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{}", response.url());
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{}", response.url());
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"), "{}", response.url());
        assert!(header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")), "{}", response.url());
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{}", response.url());
        assert_eq!(header("strict-transport-security"), None, "no HSTS over plain http: {}", response.url());
    }
    // The response that carries a new token's secret is never cached.
    let created = client
        .post(format!("{}/api/v1/orgs/acme/tokens", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "cache test"}))
        .send()
        .await
        .expect("send");
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let cross_site = client
        .post(format!("{}/login", server.url))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=owner%40acme.example&password=correct+horse+battery+staple")
        .send()
        .await
        .expect("send");
    assert_eq!(cross_site.status(), 403, "a cross-site form post is refused");
    assert_eq!(cross_site.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = cross_site.json().await.expect("a problem document");
    assert_eq!(problem["status"], 403);
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("cross-site")), "{problem}");
    let metrics = client.get(format!("{}/metrics", server.url)).send().await.expect("send").text().await.expect("text");
    let counted = metrics.lines().find(|line| {
        line.starts_with("aims_http_request_duration_seconds_count")
            && line.contains(r#"route="/api/v1/orgs/{org}/controls/{ref}""#)
            && line.contains(r#"method="GET""#)
            && line.contains(r#"status="200""#)
    });
    assert!(counted.is_some_and(|line| line.ends_with(" 1")), "the control read is counted once under its route template:\n{metrics}");
    assert!(metrics.contains(r#"status="403""#), "the refused post is counted too:\n{metrics}");
}

/// The CLI and a running server write to one SQLite file at once without "database is locked".
async fn cli_and_server_share_the_database(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    let token = bootstrap(&db);
    let server = Server::start(&db, &[]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/orgs/acme/requirements/4.1", server.url);
    let api_writes = async {
        for i in 0..20 {
            let current: Value = client.get(&url).bearer_auth(&token).send().await.expect("get").json().await.expect("json");
            let version = current["version"].as_i64().expect("version");
            let reply = client
                .patch(&url)
                .bearer_auth(&token)
                .header("if-match", format!("\"{version}\""))
                .header("content-type", "application/json")
                .body(format!("{{\"notes\": \"api write {i}\"}}"))
                .send()
                .await
                .expect("patch");
            assert_eq!(reply.status(), 200);
        }
    };
    let db2 = db.clone();
    let cli_writes = tokio::task::spawn_blocking(move || {
        for i in 0..10 {
            ok(aims(&db2, &["token", "create", "owner@acme.example", "--org", "acme", "--name", &format!("t{i}")], ""));
        }
    });
    let (_, cli) = tokio::join!(api_writes, cli_writes);
    cli.expect("cli writes");
    ok(aims(&db, &["log", "verify"], ""));
}

/// Every file under `dir`, depth first.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { found.extend(files_under(&path)) } else { found.push(path) }
    }
    found.sort();
    found
}

/// `aims evidence verify` re-hashes every stored file: intact → 0; a changed or missing file
/// → 1 with a line naming the evidence. The demo's files are in a folder beside a SQLite
/// database and in the database on PostgreSQL.
async fn evidence_verify_names_changed_and_missing_files(backend: Backend) {
    let db = fresh_database(backend, "aims_cli").await;
    ok(aims(&db, &["demo"], ""));
    let intact = ok(aims(&db, &["evidence", "verify", "--org", "demo"], ""));
    assert!(stderr(&intact).contains("files checked=5 problems=0"), "{}", stderr(&intact));
    match backend {
        Backend::Sqlite => {
            let path = db.trim_start_matches("sqlite:").trim_end_matches(".db").to_owned() + "-files";
            let files = files_under(std::path::Path::new(&path));
            assert_eq!(files.len(), 5, "content-addressed files in {path}");
            std::fs::write(&files[0], b"edited behind the application's back").expect("tamper");
            std::fs::remove_file(&files[1]).expect("remove");
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db).await.expect("connect");
            let shas: Vec<String> =
                sqlx::query_scalar("SELECT sha256 FROM evidence_files ORDER BY sha256").fetch_all(&pool).await.expect("files");
            assert_eq!(shas.len(), 5);
            sqlx::query("UPDATE evidence_files SET content = $1 WHERE sha256 = $2")
                .bind(b"edited".to_vec())
                .bind(&shas[0])
                .execute(&pool)
                .await
                .expect("tamper");
            sqlx::query("DELETE FROM evidence_files WHERE sha256 = $1").bind(&shas[1]).execute(&pool).await.expect("remove");
            pool.close().await;
        }
    }
    let broken = aims(&db, &["evidence", "verify", "--org", "demo"], "");
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let report = stdout(&broken);
    assert_eq!(report.lines().count(), 2, "{report}");
    assert!(report.contains(": hash mismatch") && report.contains(": missing"), "{report}");
    assert!(report.lines().all(|l| l.starts_with("org=demo evidence=") && l.contains(" sha256=")), "{report}");
    assert_eq!(aims(&db, &["evidence", "verify", "--org", "nope"], "").status.code(), Some(1));
}

on_both_backends!(
    evidence_verify_names_changed_and_missing_files,
    bootstrap_by_cli_then_use_the_api,
    errors_name_the_field_and_use_the_contract_exit_codes,
    the_demo_is_created_once,
    setup_link_is_printed_while_no_user_exists,
    deactivation_and_password_reset,
    tampering_makes_log_verify_fail_and_name_the_event,
    verification_starts_from_a_checkpoint,
    a_million_event_chain_verifies_in_constant_memory,
    a_bulk_import_refreshes_planner_statistics,
    the_import_lookup_reads_the_name_index_without_statistics,
    a_newer_database_is_refused,
    cli_and_server_share_the_database,
    every_response_passes_the_cross_cutting_layers,
);

/// A PostgreSQL server that cannot be reached, or that refuses the login, is named (password
/// masked) with the reason, in the same words by a command and by `serve`.
#[test]
fn unreachable_databases_are_named_with_the_reason() {
    let refused = aims("postgres://u:secret@127.0.0.1:1/x", &["migrate"], "");
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(said.contains("cannot connect to the database postgres://u:***@127.0.0.1:1/x: connection refused"), "{said}");
    assert!(!said.contains("secret"), "{said}");
    let serving = aims("postgres://u:secret@127.0.0.1:1/x", &["serve", "--bind", "127.0.0.1:0"], "");
    assert!(!serving.status.success());
    let served = stderr(&serving);
    assert!(served.contains("cannot connect to the database postgres://u:***@127.0.0.1:1/x: connection refused"), "{served}");
    assert!(!served.contains("secret"), "{served}");

    let Some(admin_url) = postgres_url() else { return };
    let host = admin_url.split_once('@').map_or("127.0.0.1:5432", |(_, rest)| rest.split('/').next().unwrap_or_default());
    let cases = [
        (format!("postgres://postgres:secret@{host}/aims_no_such_database"), "no such database \"aims_no_such_database\""),
        (format!("postgres://aims_no_such_role:secret@{host}/postgres"), "no such role \"aims_no_such_role\""),
    ];
    for (url, reason) in cases {
        let out = aims(&url, &["migrate"], "");
        assert!(!out.status.success());
        let said = stderr(&out);
        assert!(said.contains("cannot connect to the database postgres://") && said.contains(reason), "{said}");
        assert!(!said.contains("secret"), "{said}");
    }
}
