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

fn http_client() -> Result<reqwest::Client, String> {
    // reqwest's rustls takes the process's crypto provider: ring, as lettre uses (aws-lc-rs,
    // rustls' other provider, would add a C and CMake build). Its post-quantum key exchange is
    // what the deprecation is about; reminders carry no long-lived secrets.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

async fn send_webhook(channel: &Channel, reminder: &Reminder) -> Result<(), String> {
    let url = channel.text("webhook_url").ok_or("no webhook URL")?;
    let body = reminder.json().to_string();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut request =
        http_client()?.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").header(TIMESTAMP_HEADER, timestamp.to_string());
    if let Some(secret) = channel.secret("webhook_secret") {
        request = request.header(SIGNATURE_HEADER, format!("sha256={}", signature(secret, timestamp, &body)));
    }
    let response = request.body(body).send().await.map_err(|e| format!("POST {url}: {}", without_url(&e)))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(format!("POST {url}: answered {status}")) }
}

/// reqwest's errors name the URL; the message keeps only the cause.
fn without_url(error: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        cause = e.to_string();
        source = e.source();
    }
    if cause.is_empty() { error.to_string() } else { cause }
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
