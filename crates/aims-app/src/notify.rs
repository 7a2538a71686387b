//! Sending a reminder through a channel: an e-mail over SMTP (lettre, rustls) or a JSON POST
//! to a webhook signed with HMAC-SHA256. The signed text is `"{timestamp}.{body}"`, the
//! timestamp (Unix seconds) sent in `X-Aims-Timestamp`, so a receiver that refuses old
//! timestamps cannot be replayed an old reminder; the signature is
//! `X-Aims-Signature: sha256=<hex>`.

use std::time::Duration;

use aims_store::model::Member;
use hmac::{Hmac, KeyInit, Mac};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{Map, Value, json};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-Aims-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Aims-Timestamp";

static PUBLIC_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Remembers the address people reach the server at (`aims serve` sets it), for the links in
/// messages sent outside the scheduler (a channel's test).
pub fn set_public_url(url: &str) {
    let _ = PUBLIC_URL.set(url.trim_end_matches('/').to_owned());
}

/// The address set by [`set_public_url`], else `AIMS_PUBLIC_URL`, else the default bind address.
pub fn public_url() -> String {
    PUBLIC_URL.get().cloned().or_else(|| std::env::var("AIMS_PUBLIC_URL").ok()).unwrap_or_else(|| "http://127.0.0.1:8080".into())
}

/// A channel ready to send: its settings and its opened secrets.
pub struct Channel {
    pub id: String,
    pub name: String,
    pub data: Map<String, Value>,
    pub secrets: Map<String, Value>,
}

impl Channel {
    fn text(&self, field: &str) -> Option<&str> {
        self.data.get(field).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty())
    }
    fn secret(&self, field: &str) -> Option<&str> {
        self.secrets.get(field).and_then(Value::as_str)
    }
}

/// What a reminder says: which review, of what, when it is due, and where to do it.
#[derive(Debug, Clone)]
pub struct Reminder {
    pub org_slug: String,
    pub org_name: String,
    pub schedule_id: String,
    pub title: String,
    pub subject: String,
    pub frequency: String,
    pub due_on: String,
    pub overdue: bool,
    pub owner: Option<String>,
    /// The schedule's page.
    pub link: String,
    /// The records it concerns: (kind label, name, page).
    pub records: Vec<(String, String, String)>,
}

impl Reminder {
    /// The message a "send test" sends.
    pub fn test(member: &Member, public_url: &str) -> Self {
        Self {
            org_slug: member.org_slug.clone(),
            org_name: member.org_name.clone(),
            schedule_id: String::new(),
            title: "Test message".into(),
            subject: "test".into(),
            frequency: String::new(),
            due_on: aims_domain::clock::format_date(aims_domain::clock::today()),
            overdue: false,
            owner: Some(member.email.clone()),
            link: format!("{}/orgs/{}/notification-channels", public_url.trim_end_matches('/'), member.org_slug),
            records: Vec::new(),
        }
    }

    pub fn email_subject(&self) -> String {
        if self.schedule_id.is_empty() {
            return format!("[aims] Test message from {}", self.org_name);
        }
        let when = if self.overdue { "overdue since" } else { "due" };
        format!("[aims] {} {when} {}", self.title, self.due_on)
    }

    pub fn email_body(&self) -> String {
        if self.schedule_id.is_empty() {
            return format!(
                "This is a test message from aims for {}: this channel delivers reminders.\n\nSent by {}.\n{}\n",
                self.org_name,
                self.owner.as_deref().unwrap_or("aims"),
                self.link
            );
        }
        let mut body = format!(
            "{}\n\n{} ({}, {}) is {} {}.\n",
            self.title,
            words(&self.subject),
            self.org_name,
            words(&self.frequency),
            if self.overdue { "overdue since" } else { "due on" },
            self.due_on
        );
        if let Some(owner) = &self.owner {
            body.push_str(&format!("Owner: {owner}\n"));
        }
        if !self.records.is_empty() {
            body.push_str("\nIt concerns:\n");
            for (kind, name, link) in &self.records {
                body.push_str(&format!("- {kind}: {name} <{link}>\n"));
            }
        }
        body.push_str(&format!("\nOpen the review and mark it done: {}\n", self.link));
        body
    }

    pub fn json(&self) -> Value {
        json!({
            "event": if self.schedule_id.is_empty() { "test" } else { "review_due" },
            "organization": self.org_slug,
            "schedule": if self.schedule_id.is_empty() { Value::Null } else { json!({
                "id": self.schedule_id,
                "title": self.title,
                "subject": self.subject,
                "frequency": self.frequency,
                "due_on": self.due_on,
                "overdue": self.overdue,
                "owner": self.owner,
                "url": self.link,
            }) },
            "records": self.records.iter().map(|(kind, name, url)| json!({"kind": kind, "name": name, "url": url})).collect::<Vec<_>>(),
            "url": self.link,
        })
    }
}

fn words(text: &str) -> String {
    let text = text.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().collect::<String>() + chars.as_str())
}

/// An e-mail address as a mailbox, if it is one.
pub fn mailbox(address: &str) -> Option<Mailbox> {
    address.trim().parse::<Mailbox>().ok()
}

/// Sends the reminder through the channel; the error says why not, without any secret.
pub async fn send(channel: &Channel, reminder: &Reminder) -> Result<(), String> {
    match channel.text("channel_type") {
        Some("email") => send_email(channel, reminder).await,
        Some("webhook") => send_webhook(channel, reminder).await,
        other => Err(format!("unknown channel type {other:?}")),
    }
}

async fn send_email(channel: &Channel, reminder: &Reminder) -> Result<(), String> {
    let host = channel.text("smtp_host").ok_or("no SMTP host")?;
    let tls = channel.text("smtp_tls").unwrap_or("starttls");
    let default_port = match tls {
        "tls" => 465,
        "none" => 25,
        _ => 587,
    };
    let port = channel.data.get("smtp_port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(default_port);
    let from = channel.text("from_address").and_then(mailbox).ok_or("no valid from address")?;
    let mut message = Message::builder().from(from).subject(reminder.email_subject());
    let recipients: Vec<&str> =
        channel.data.get("recipients").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if recipients.is_empty() {
        return Err("no recipients".into());
    }
    for recipient in recipients {
        message = message.to(mailbox(recipient).ok_or_else(|| format!("{recipient} is not an e-mail address"))?);
    }
    let message = message.header(ContentType::TEXT_PLAIN).body(reminder.email_body()).map_err(|e| format!("the message: {e}"))?;
    let builder = match tls {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| format!("TLS to {host}: {e}"))?,
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| format!("STARTTLS to {host}: {e}"))?,
    };
    let mut builder = builder.port(port).timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (channel.text("smtp_username"), channel.secret("smtp_password")) {
        builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
    }
    builder.build().send(message).await.map(|_| ()).map_err(|e| format!("SMTP {host}:{port}: {e}"))
}

/// The signature of a webhook body sent at `timestamp`: hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this never refuses one.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn send_webhook(channel: &Channel, reminder: &Reminder) -> Result<(), String> {
    let url = channel.text("webhook_url").ok_or("no webhook URL")?;
    let body = reminder.json().to_string();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut headers = vec![(TIMESTAMP_HEADER, timestamp.to_string())];
    if let Some(secret) = channel.secret("webhook_secret") {
        headers.push((SIGNATURE_HEADER, format!("sha256={}", signature(secret, timestamp, &body))));
    }
    let status = tokio::time::timeout(Duration::from_secs(30), post_json(url, &headers, body))
        .await
        .map_err(|_| format!("POST {url}: no answer within 30 s"))??;
    if status.is_success() { Ok(()) } else { Err(format!("POST {url}: answered {status}")) }
}

/// POSTs a JSON body over HTTP/1.1, through TLS for `https://` (the web PKI's roots).
async fn post_json(url: &str, headers: &[(&str, String)], body: String) -> Result<hyper::StatusCode, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url}: not an http:// or https:// URL")),
    };
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_else(|| host.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "aims-reminders");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).map_err(|e| format!("{url}: {e}"))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("{url}: {e}"))?;
    if !https {
        return exchange(hyper_util::rt::TokioIo::new(tcp), request).await;
    }
    let roots = tokio_rustls::rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[allow(deprecated)] // ring without post-quantum key exchange; see `Cargo.toml`
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| format!("{url}: {e}"))?;
    let tls =
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.map_err(|e| format!("{url}: TLS: {e}"))?;
    exchange(hyper_util::rt::TokioIo::new(tls), request).await
}

async fn exchange<I>(io: I, request: hyper::Request<http_body_util::Full<hyper::body::Bytes>>) -> Result<hyper::StatusCode, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    Ok(response.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("s3cret", 1_700_000_000, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, signature("s3cret", 1_700_000_001, "{}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, "{ }"));
        assert_ne!(a, signature("other", 1_700_000_000, "{}"));
    }
}
