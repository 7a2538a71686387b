//! Large evidence uploads against the real binary: eight 200 MB bodies in parallel, by a viewer
//! (refused before the body is read) and by an owner (stored whole), while the server's
//! resident memory is sampled. `AIMS_UPLOAD_TEST_MB` changes the size of each body (200 MB).
//! Into PostgreSQL's `evidence_files` the bodies are 25 MB (`AIMS_UPLOAD_TEST_DATABASE_MB`):
//! PostgreSQL compresses and stores 1.6 GB of bytea in about nine minutes on the CI machine,
//! while the memory this process needs per upload does not depend on the size.
//!
//! The client speaks HTTP/1.1 over a plain socket with a small send buffer, so the bytes it
//! manages to send bound what the server read: once the server stops reading, the client can
//! only fill the two sockets' buffers.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MB: u64 = 1024 * 1024;
const PARALLEL: usize = 8;
const PIECE: usize = 64 * 1024;
const PASSWORD: &str = "correct horse battery staple\n";

fn body_mb(files: &str) -> u64 {
    let (variable, default) = if files == "database" { ("AIMS_UPLOAD_TEST_DATABASE_MB", 25) } else { ("AIMS_UPLOAD_TEST_MB", 200) };
    std::env::var(variable).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn postgres_url() -> Option<String> {
    match std::env::var("AIMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true but AIMS_TEST_POSTGRES_URL is not set"),
        _ => {
            eprintln!("skipped: PostgreSQL variant (set AIMS_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

fn aims(database: &str, files: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_FILE_STORE", files)
        .env_remove("AIMS_BIND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aims");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("aims output");
    assert!(output.status.success(), "aims {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// An organisation with an owner and a viewer; returns their tokens.
fn bootstrap(database: &str, files: &str) -> (String, String) {
    aims(database, files, &["org", "create", "acme", "--name", "Acme AI"], "");
    let mut tokens = Vec::new();
    for (email, role) in [("owner@acme.example", "owner"), ("viewer@acme.example", "viewer")] {
        aims(database, files, &["user", "create", email, "--org", "acme", "--role", role], PASSWORD);
        let out = aims(database, files, &["token", "create", email, "--org", "acme", "--name", "uploads"], "");
        tokens.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    (tokens.remove(0), tokens.remove(0))
}

struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(database: &str, files: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("AIMS_DATABASE_URL", database)
            .env("AIMS_FILE_STORE", files)
            .env("AIMS_MAX_UPLOAD_MB", (body_mb(files) + 1).to_string())
            .env("AIMS_LOG", "warn")
            .env_remove("AIMS_PUBLIC_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let address = loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).expect("read") > 0, "the server exited");
            if let Some(url) = line.trim().strip_prefix("listening on http://") {
                break url.to_owned();
            }
        };
        std::thread::spawn(move || for _ in reader.lines() {});
        Self { child, address }
    }

    /// The resident memory's parts: anonymous (the heap), file-backed (the binary's pages).
    fn rss_parts(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .filter(|l| l.starts_with("RssAnon") || l.starts_with("RssFile") || l.starts_with("Threads"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples the server's resident memory every 20 ms until stopped; returns the highest.
fn sample_peak(server: &Server) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let path = format!("/proc/{}/status", server.child.id());
    let stopped = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut peak = 0;
        while !stopped.load(Ordering::Relaxed) {
            if let Ok(status) = std::fs::read_to_string(&path) {
                let rss = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    .unwrap_or(0);
                peak = peak.max(rss);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    (stop, handle)
}

/// The piece of text that upload `n` repeats: UTF-8, different for every upload.
fn piece_of(n: usize) -> Vec<u8> {
    let line = format!("upload {n} of a large evidence file\n");
    line.repeat(PIECE / line.len() + 1).into_bytes()[..PIECE].to_vec()
}

struct Outcome {
    status: u16,
    sent: u64,
    response: String,
    sha256: String,
}

/// Sends one multipart upload of `size` bytes, counting the body bytes the socket accepted,
/// and stops sending as soon as a response arrives or the server stops reading.
async fn upload(address: &str, token: &str, n: usize, size: u64) -> Outcome {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_send_buffer_size(PIECE as u32).expect("send buffer");
    let mut stream = socket.connect(address.parse().expect("address")).await.expect("connect");
    let boundary = "aimsuploadboundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"large-{n}.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() as u64 + size + tail.len() as u64;
    let request = format!(
        "POST /api/v1/orgs/acme/evidence HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{head}"
    );
    let (mut reader, mut writer) = stream.split();
    writer.write_all(request.as_bytes()).await.expect("send head");
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    let mut response = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let mut answered = false;
    let whole = piece_of(n);
    while sent < size {
        let piece = &whole[..(size - sent).min(PIECE as u64) as usize];
        tokio::select! {
            biased;
            read = reader.read(&mut buffer) => {
                match read {
                    Ok(0) | Err(_) => {}
                    Ok(got) => response.extend_from_slice(&buffer[..got]),
                }
                answered = true;
                break;
            }
            written = writer.write_all(piece) => {
                if written.is_err() {
                    break;
                }
                hasher.update(piece);
                sent += piece.len() as u64;
            }
        }
    }
    if !answered && sent == size {
        let _ = writer.write_all(tail.as_bytes()).await;
    }
    // The rest of the response, until the server closes the connection.
    while let Ok(got) = reader.read(&mut buffer).await {
        if got == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..got]);
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Outcome { status, sent, response, sha256: hex(&hasher.finalize()) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn all_at_once(address: &str, token: &str, size: u64) -> Vec<Outcome> {
    let uploads: Vec<_> = (0..PARALLEL)
        .map(|n| {
            let (address, token) = (address.to_owned(), token.to_owned());
            tokio::spawn(async move { upload(&address, &token, n, size).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for upload in uploads {
        outcomes.push(upload.await.expect("upload task"));
    }
    outcomes
}

/// Waits for the server's memory to settle after the uploads: the allocator returns freed
/// pages after a short delay.
fn settled_rss_kb(server: &Server, start_kb: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut rss = server.rss_kb();
    while rss > start_kb + 20 * 1024 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1000));
        rss = server.rss_kb();
    }
    rss
}

async fn parallel_large_uploads(database: &str, files: &str) {
    let (owner, viewer) = bootstrap(database, files);
    let server = Server::start(database, files);
    let size = body_mb(files) * MB;
    // Eight small uploads at once first, so the start figure includes what serving eight
    // uploads at once sets up a single time (connections, buffers, the allocator's per-thread
    // caches): what is measured after is what grows with the bodies' size, which must not stay.
    for warm in all_at_once(&server.address, &owner, MB).await {
        assert_eq!(warm.status, 201, "{}", warm.response);
    }
    let start_kb = server.rss_kb();
    let start_parts = server.rss_parts();
    let (stop, sampler) = sample_peak(&server);

    let began = Instant::now();
    let refused = all_at_once(&server.address, &viewer, size).await;
    let viewer_time = began.elapsed();
    for outcome in &refused {
        assert_eq!(outcome.status, 403, "{}", outcome.response);
        assert!(outcome.response.contains("application/problem+json"), "{}", outcome.response);
        assert!(outcome.sent < MB, "the viewer's upload was read for {} bytes before its refusal", outcome.sent);
    }

    let began = Instant::now();
    let stored = all_at_once(&server.address, &owner, size).await;
    let owner_time = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak_kb = sampler.join().expect("sampler");
    for outcome in &stored {
        assert_eq!(outcome.status, 201, "{}", outcome.response);
        assert_eq!(outcome.sent, size);
        let body = outcome.response.split("\r\n\r\n").nth(1).expect("body");
        let record: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(record["sha256"], outcome.sha256.as_str(), "the stored file's hash is the sent file's");
        assert_eq!(record["size_bytes"], size);
    }
    let end_kb = settled_rss_kb(&server, start_kb);
    eprintln!("start: {start_parts}; end: {}", server.rss_parts());
    let most_sent = refused.iter().map(|o| o.sent).max().unwrap_or(0);
    eprintln!(
        "figures: store={files} {PARALLEL}x{} MB; viewer: 403 after at most {most_sent} bytes sent, {viewer_time:?}; \
         owner: {owner_time:?}; RSS start {} MB, peak {} MB, end {} MB",
        body_mb(files),
        start_kb / 1024,
        peak_kb / 1024,
        end_kb / 1024
    );
    assert!(peak_kb < 150 * 1024, "peak resident memory {peak_kb} kB");
    assert!(end_kb <= start_kb + 20 * 1024, "resident memory {end_kb} kB after, {start_kb} kB before");
    // The stored files can be read back whole.
    drop(server);
    aims(database, files, &["evidence", "verify", "--org", "acme"], "");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("aims-tests").join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// SQLite with the evidence files in a folder (the default beside a SQLite file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_uploads_in_parallel_folder_store() {
    let dir = temp_dir("uploads");
    let database = format!("sqlite:{}", dir.join("aims.db").display());
    parallel_large_uploads(&database, &dir.join("files").display().to_string()).await;
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL with the evidence files in the database (the default there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_uploads_in_parallel_database_store() {
    let Some(admin_url) = postgres_url() else { return };
    let name = format!("aims_uploads_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.expect("create database");
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
    parallel_large_uploads(&format!("{base}/{name}"), "database").await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&admin).await;
}
