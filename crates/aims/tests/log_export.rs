//! The signed activity-log export as an outsider uses it: `aims log export` writes it,
//! `aims log verify-export` checks it (no database needed) against the embedded key or the key
//! the trust page publishes, and names what failed when an event, the signature or the key is
//! wrong; OpenSSL alone checks the signature the way the README says; a large log exports in
//! bounded memory.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[macro_use]
mod support;

use support::{Backend, Direct, aims_with_peak_memory, fresh_database, grow_chain, postgres_url};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Runs `aims ARGS` against `database` with the server's sealing key set.
fn aims(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_SECRET_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .expect("run aims")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status.code(), text(&o.stdout), text(&o.stderr));
    o
}

/// `aims log verify-export FILE [ARGS]`: exit code and the line it printed.
fn verify(file: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["log", "verify-export", file.to_str().expect("path")];
    args.extend_from_slice(extra);
    // No database: verification works from the file alone.
    let out = aims("sqlite:/nonexistent/never-opened.db", &args);
    (out.status.code(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

/// The public key the trust page of `slug` publishes (hex), read through the same service.
async fn published_key(database: &str, slug: &str) -> String {
    // SAFETY: set before the services read it, to the same value in every test of the process.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", KEY) };
    let (app, _) = aims_app::App::open(database).await.expect("open");
    let page = app.public_trust_page(slug).await.expect("trust page");
    let key = page.public_key.expect("the trust page publishes the key").0;
    app.db.close().await;
    key
}

/// A directory of this test's own, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join("aims-tests").join(format!("export-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_json(path: &std::path::Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).expect("json")).expect("write");
}

async fn signed_export_verifies_and_names_what_was_tampered(backend: Backend) {
    let db = fresh_database(backend, "aims_export").await;
    ok(aims(&db, &["demo"]));
    ok(aims(&db, &["org", "create", "acme", "--name", "Acme AI"]));
    let dir = TempDir::new();
    let file = dir.path().join("demo.json");
    ok(aims(&db, &["log", "export", "--org", "demo", "--output", file.to_str().expect("path")]));
    let head = text(&ok(aims(&db, &["log", "head", "--org", "demo", "--checkpoint"])).stdout);
    let (head_seq, head_hash) = head.trim().split_once(':').expect("SEQ:HASH");

    // Intact: the whole chain, its head, and the key the trust page publishes.
    let key = published_key(&db, "demo").await;
    let (code, said) = verify(&file, &[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.starts_with(&format!("ok: org=demo events={head_seq} seq=1..{head_seq} head={head_hash} public_key={key}")), "{said}");
    let (code, said) = verify(&file, &["--public-key", &key]);
    assert_eq!(code, Some(0), "{said}");
    let export: Value = serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
    assert_eq!(export["head"]["hash"], head_hash);
    assert_eq!(export["public_key"]["hex"], key.as_str());
    assert!(export["events"][0].get("prev_hash").is_some() && export["events"][0].get("hash").is_some(), "events as stored");

    // Another organisation's key (published on its trust page) is the wrong key.
    let other = published_key(&db, "acme").await;
    assert_ne!(other, key, "each organisation has its own key");
    let (code, said) = verify(&file, &["--public-key", &other]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("signature: does not verify with the public key given"), "{said}");

    // An altered event is named by its sequence number.
    let mut altered = export.clone();
    altered["events"][3]["actor"] = Value::from("intruder@evil.example");
    let tampered = dir.path().join("event.json");
    write_json(&tampered, &altered);
    let (code, said) = verify(&tampered, &[]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("event seq=4 id=") && said.contains("its hash does not match its content"), "{said}");

    // A removed event breaks the sequence.
    let mut removed = export.clone();
    removed["events"].as_array_mut().expect("events").remove(5);
    write_json(&tampered, &removed);
    let (code, said) = verify(&tampered, &[]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("event seq=7") && said.contains("expected event 6 here"), "{said}");

    // Outside the events, any change breaks the signed content.
    let mut renamed = export.clone();
    renamed["org"]["name"] = Value::from("Somebody else");
    write_json(&tampered, &renamed);
    let (code, said) = verify(&tampered, &[]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("signature.content_sha256: does not match"), "{said}");

    // A tampered signature.
    let mut forged = export.clone();
    let value = forged["signature"]["value"].as_str().expect("signature").to_owned();
    let flipped = if value.starts_with('A') { format!("B{}", &value[1..]) } else { format!("A{}", &value[1..]) };
    forged["signature"]["value"] = Value::from(flipped);
    write_json(&tampered, &forged);
    let (code, said) = verify(&tampered, &[]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("signature: does not verify with the export's public key"), "{said}");

    // A range: events 5 to 10, linked to the event before them.
    let range = dir.path().join("range.json");
    ok(aims(&db, &["log", "export", "--org", "demo", "--output", range.to_str().expect("path"), "--from-seq", "5", "--to-seq", "10"]));
    let (code, said) = verify(&range, &["--public-key", &key]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.starts_with("ok: org=demo events=6 seq=5..10 "), "{said}");
    let refused = aims(&db, &["log", "export", "--org", "demo", "--output", range.to_str().expect("path"), "--to-seq", "99999999"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("to_seq: the log ends at event"), "{}", text(&refused.stderr));

    // Without a key in the environment the server keeps one in `aims-secret.key` in its working
    // folder, created on first use (mode 0600), and signs with it.
    let unsigned = dir.path().join("own-key.json");
    let out = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["log", "export", "--org", "demo", "--output", unsigned.to_str().expect("path")])
        .env("AIMS_DATABASE_URL", &db)
        .env_remove("AIMS_SECRET_KEY")
        .env_remove("AIMS_SECRET_KEY_FILE")
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let key_file = dir.path().join("aims-secret.key");
    assert!(key_file.exists(), "the key file is created");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).expect("meta").permissions()) & 0o777, 0o600);
    let (code, said) = verify(&unsigned, &[]);
    assert_eq!(code, Some(0), "{said}");

    openssl_verifies_the_signature(&file, &export);
}

/// The README's OpenSSL recipe, run as written: the content is the file without its signature
/// member, its SHA-256 is what was signed, and the Ed25519 signature verifies with the PEM key.
fn openssl_verifies_the_signature(file: &std::path::Path, export: &Value) {
    let dir = file.parent().expect("dir");
    std::fs::write(dir.join("pub.pem"), export["public_key"]["pem"].as_str().expect("pem")).expect("pem");
    let recipe = r#"
        set -e
        sed -E 's/,"signature":\{[^}]*\}\}$/}/' export.json > content.json
        openssl dgst -sha256 -binary content.json > digest.bin
        test "$(openssl dgst -sha256 -r content.json | cut -d' ' -f1)" = "$(jq -r .signature.content_sha256 export.json)"
        jq -r .signature.value export.json | base64 -d > signature.bin
        openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in digest.bin -sigfile signature.bin
    "#;
    std::fs::copy(file, dir.join("export.json")).expect("copy");
    let out = Command::new("sh").arg("-c").arg(recipe).current_dir(dir).output().expect("sh");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("Signature Verified Successfully"), "{}", text(&out.stdout));
    // The same recipe refuses an export whose content was changed.
    let tampered =
        text(&std::fs::read(dir.join("export.json")).expect("read")).replacen("\"action\":\"create\"", "\"action\":\"delete\"", 1);
    std::fs::write(dir.join("export.json"), tampered).expect("write");
    let out = Command::new("sh").arg("-c").arg(recipe).current_dir(dir).output().expect("sh");
    assert!(!out.status.success(), "OpenSSL accepted a changed export");
}

on_both_backends!(signed_export_verifies_and_names_what_was_tampered);

/// Exporting a log ten times as long takes no more memory: the export is written a page of
/// events at a time and its hash kept running. SQLite only, like the million-event verification
/// in `cli.rs` (filling PostgreSQL that fast is not possible); the export's paging is the same
/// code on both backends, and the backends' export is tested above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_log_exports_in_bounded_memory() {
    let dir = TempDir::new();
    let mut peaks = Vec::new();
    for events in [5_000i64, 50_000] {
        let db = fresh_database(Backend::Sqlite, "aims_export_scale").await;
        ok(aims(&db, &["org", "create", "acme", "--name", "Acme AI"]));
        let pool = Direct::open(&db, Backend::Sqlite).await;
        grow_chain(&pool, events).await;
        drop(pool);
        let file = dir.path().join(format!("acme-{events}.json"));
        let (out, peak) =
            with_key(|| aims_with_peak_memory(&db, &["log", "export", "--org", "acme", "--output", file.to_str().expect("path")]));
        ok(out);
        let size = std::fs::metadata(&file).expect("file").len();
        eprintln!("exported {events} events ({} MB) with a peak resident memory of {} MB", size >> 20, peak >> 20);
        assert!(size > events as u64 * 400, "every event is in the file");
        let (code, said) = verify(&file, &[]);
        assert_eq!(code, Some(0), "{said}");
        assert!(said.contains(&format!("events={events} ")), "{said}");
        peaks.push(peak);
        let path = db.trim_start_matches("sqlite:");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    assert!(peaks[1] < 64 << 20, "exporting 50,000 events peaked at {} MB", peaks[1] >> 20);
    assert!(peaks[1] < peaks[0] + (8 << 20), "ten times the events took {} MB more", (peaks[1].saturating_sub(peaks[0])) >> 20);
}

/// Runs `f` with the sealing key in this process's environment, which the children inherit.
fn with_key<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: every test of this process sets the same value.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", KEY) };
    f()
}
