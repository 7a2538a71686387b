//! The signed export of an organisation's activity log: a JSON document an outsider verifies
//! without aims. It holds the events as stored (with `prev_hash` and `hash`), the head it ends
//! at, the organisation's public key and an Ed25519 signature over the SHA-256 of the export's
//! canonical content.
//!
//! The document is written in RFC 8785 (JCS) form, so its canonical content is its own bytes
//! without the `signature` member, which sorts last: `{"events":[…],"exported_at":…,"format":…,
//! "head":…,"org":…,"public_key":…,"range":…` + `}`. The export is produced a page of events at
//! a time ([`ActivityExport::next_chunk`]) and the content hashed as it is written, so its memory
//! does not depend on the log's length.

use aims_domain::ValidationErrors;
use aims_domain::chain::{self, EventContent, GENESIS};
use aims_domain::policy::Action;
use aims_store::activity;
use aims_store::model::{ActivityEvent, Member, Organization};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::access::require;
use crate::{App, AppError, AppResult};

/// The `format` of an export this module writes and reads.
pub const FORMAT: &str = "aims-activity-export/1";

/// Events read (and written) per chunk.
const PAGE: i64 = 1000;

/// Which events to export: sequence numbers from and to, both included; `None` is the start or
/// the head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportRange {
    pub from_seq: Option<i64>,
    pub to_seq: Option<i64>,
}

/// An export being written: ask for chunks until there are none.
pub struct ActivityExport {
    app: App,
    org: Organization,
    key: SigningKey,
    from_seq: i64,
    to_seq: i64,
    /// The sequence number the next page starts after.
    after: i64,
    /// The last event written: the head the export ends at.
    last: (i64, String),
    hasher: Sha256,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Opening,
    Events { first: bool },
    Closing,
    Done,
}

impl App {
    /// The signed export of the member's organisation's activity log (reading the log is the
    /// permission it needs).
    pub async fn export_activity(&self, member: &Member, range: ExportRange) -> AppResult<ActivityExport> {
        require(member, Action::Read)?;
        let org = self.org_by_slug(&member.org_slug).await?;
        ActivityExport::start(self.clone(), org, range).await
    }

    /// The same export for the operator on the command line (`aims log export`).
    pub async fn export_activity_of_org(&self, slug: &str, range: ExportRange) -> AppResult<ActivityExport> {
        let org = self.org_by_slug(slug).await?;
        ActivityExport::start(self.clone(), org, range).await
    }
}

impl ActivityExport {
    async fn start(app: App, org: Organization, range: ExportRange) -> AppResult<Self> {
        let key = crate::trust::signing_key(&org.id)?;
        // The head read now bounds the export: events appended while it is written belong to
        // the next one.
        let (head_seq, _) = activity::head(&app.db, &org.id).await?;
        let from_seq = range.from_seq.unwrap_or(1);
        let to_seq = range.to_seq.unwrap_or(head_seq);
        check_range(from_seq, to_seq, head_seq)?;
        // An empty export still names where it stands: the event before its range.
        let before = if from_seq > 1 { event_hash(&app, &org.id, from_seq - 1).await? } else { GENESIS.to_owned() };
        Ok(Self {
            app,
            org,
            key,
            from_seq,
            to_seq,
            after: from_seq - 1,
            last: (from_seq - 1, before),
            hasher: Sha256::new(),
            stage: Stage::Opening,
        })
    }

    /// A file name for the export: the organisation and the range.
    pub fn file_name(&self) -> String {
        format!("activity-{}-{}-{}.json", self.org.slug, self.from_seq, self.to_seq)
    }
    /// The export as a stream of chunks, for a response body: a failure part-way is logged and
    /// ends the stream with an error (the receiver then holds a truncated, unverifiable file).
    pub fn into_stream(self) -> impl futures::Stream<Item = std::io::Result<Vec<u8>>> + Send {
        futures::stream::unfold(Some(self), |export| async move {
            let mut export = export?;
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(export))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(cause = %e, "signed activity export failed");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        })
    }

    /// The next piece of the document, `None` once it is complete.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        match self.stage {
            Stage::Opening => {
                self.stage = Stage::Events { first: true };
                Ok(Some(self.content(b"{\"events\":[".to_vec())))
            }
            Stage::Events { first } => {
                let events = self.next_page().await?;
                if events.is_empty() {
                    self.stage = Stage::Closing;
                    return Ok(Some(self.content(b"]".to_vec())));
                }
                let mut out = Vec::with_capacity(events.len() * 1024);
                for (i, event) in events.iter().enumerate() {
                    if !(first && i == 0) {
                        out.push(b',');
                    }
                    out.extend_from_slice(jcs(&event_json(event))?.as_bytes());
                    self.last = (event.seq, event.hash.clone());
                }
                self.stage = Stage::Events { first: false };
                Ok(Some(self.content(out)))
            }
            Stage::Closing => {
                self.stage = Stage::Done;
                Ok(Some(self.closing()?))
            }
            Stage::Done => Ok(None),
        }
    }

    /// The events of the next page within the range.
    async fn next_page(&mut self) -> AppResult<Vec<ActivityEvent>> {
        if self.after >= self.to_seq {
            return Ok(Vec::new());
        }
        let events = activity::chain_page(&self.app.db, &self.org.id, self.after, self.to_seq, PAGE).await?;
        self.after = events.last().map_or(self.to_seq, |e| e.seq);
        Ok(events)
    }

    /// Bytes of the canonical content: hashed, then handed out.
    fn content(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        self.hasher.update(&bytes);
        bytes
    }

    /// The members after the events, the content's closing brace (hashed, not yet written) and
    /// the signature over the content's SHA-256.
    fn closing(&mut self) -> AppResult<Vec<u8>> {
        let public = self.key.verifying_key();
        let rest = [
            ("exported_at", json!(aims_domain::clock::now_text())),
            ("format", json!(FORMAT)),
            ("head", json!({"seq": self.last.0, "hash": self.last.1})),
            ("org", json!({"id": self.org.id, "slug": self.org.slug, "name": self.org.name})),
            ("public_key", public_key_json(&public)),
            ("range", json!({"from_seq": self.from_seq, "to_seq": self.to_seq})),
        ];
        let mut out = Vec::new();
        for (name, value) in rest {
            out.extend_from_slice(format!(",\"{name}\":{}", jcs(&value)?).as_bytes());
        }
        let mut hasher = std::mem::take(&mut self.hasher);
        hasher.update(&out);
        hasher.update(b"}");
        let digest: [u8; 32] = hasher.finalize().into();
        let signature = self.key.sign(&digest);
        let signed = json!({
            "algorithm": "ed25519",
            "content_sha256": hex::encode(digest),
            "value": STANDARD.encode(signature.to_bytes()),
        });
        out.extend_from_slice(format!(",\"signature\":{}}}", jcs(&signed)?).as_bytes());
        Ok(out)
    }
}

fn check_range(from_seq: i64, to_seq: i64, head_seq: i64) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    if from_seq < 1 {
        errors.push("from_seq", "out_of_range", "the first event is 1");
    }
    if to_seq > head_seq {
        errors.push("to_seq", "out_of_range", format!("the log ends at event {head_seq}"));
    }
    if to_seq < from_seq - 1 {
        errors.push("to_seq", "out_of_range", "the range ends before it starts");
    }
    errors.into_result().map_err(AppError::from)
}

/// The hash of event `seq` of an organisation's chain.
async fn event_hash(app: &App, org_id: &str, seq: i64) -> AppResult<String> {
    let events = activity::chain_page(&app.db, org_id, seq - 1, seq, 1).await?;
    events.into_iter().next().map(|e| e.hash).ok_or_else(|| AppError::NotFound(format!("event {seq}")))
}

/// An event as the API shows it and the export holds it.
fn event_json(e: &ActivityEvent) -> Value {
    json!({
        "id": e.id, "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
        "record_type": e.record_type, "record_id": e.record_id, "changes": e.changes,
        "prev_hash": e.prev_hash, "hash": e.hash,
    })
}

fn jcs(value: &Value) -> AppResult<String> {
    serde_jcs::to_string(value).map_err(|e| AppError::Internal(format!("canonical JSON: {e}")))
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A public key as PEM (what `openssl pkeyutl -pubin` reads).
pub fn public_key_pem(key: &VerifyingKey) -> String {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(der))
}

fn public_key_json(key: &VerifyingKey) -> Value {
    json!({"algorithm": "ed25519", "hex": hex::encode(key.as_bytes()), "pem": public_key_pem(key)})
}

/// Reads a public key given as 64 hex digits or as PEM (SubjectPublicKeyInfo).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let text = text.trim();
    let bytes: Vec<u8> = if let Some(body) = text.strip_prefix("-----BEGIN PUBLIC KEY-----") {
        let body: String = body.split("-----END PUBLIC KEY-----").next()?.split_whitespace().collect();
        STANDARD.decode(body).ok()?.strip_prefix(&ED25519_SPKI_PREFIX[..])?.to_vec()
    } else {
        hex::decode(text).ok()?
    };
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

/// What a verified export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedExport {
    pub org_slug: String,
    pub events: usize,
    pub from_seq: i64,
    pub to_seq: i64,
    pub head_hash: String,
    pub public_key_hex: String,
}

/// Why an export does not verify: the part that failed and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {reason}")]
pub struct ExportFault {
    pub part: String,
    pub reason: String,
}

fn fault(part: impl Into<String>, reason: impl Into<String>) -> ExportFault {
    ExportFault { part: part.into(), reason: reason.into() }
}

/// Verifies an export from its text alone: every event's hash recomputed from its canonical
/// content and linked to the one before, the head at the last event, the content's SHA-256 and
/// the signature — against `expected_key` when given (the key the trust page publishes), else
/// against the key the export embeds.
pub fn verify_export(text: &[u8], expected_key: Option<&VerifyingKey>) -> Result<VerifiedExport, ExportFault> {
    let document: Map<String, Value> = serde_json::from_slice(text).map_err(|e| fault("document", format!("not a JSON object: {e}")))?;
    let str_at = |value: &Value, path: &str| -> Result<String, ExportFault> {
        value.pointer(path).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| fault(path, "missing or not text"))
    };
    let whole = Value::Object(document.clone());
    if str_at(&whole, "/format")? != FORMAT {
        return Err(fault("format", format!("not {FORMAT}")));
    }
    let org_id = str_at(&whole, "/org/id")?;
    let events = whole.get("events").and_then(Value::as_array).ok_or_else(|| fault("events", "missing or not a list"))?;
    let from_seq = whole.pointer("/range/from_seq").and_then(Value::as_i64).ok_or_else(|| fault("range.from_seq", "missing"))?;
    let to_seq = whole.pointer("/range/to_seq").and_then(Value::as_i64).ok_or_else(|| fault("range.to_seq", "missing"))?;
    let (last_seq, last_hash) = verify_chain(&org_id, events, from_seq)?;
    if last_seq != to_seq {
        return Err(fault("range", format!("says the export ends at event {to_seq}, its events end at {last_seq}")));
    }
    let head_seq = whole.pointer("/head/seq").and_then(Value::as_i64);
    let head_hash = str_at(&whole, "/head/hash")?;
    if head_seq != Some(last_seq) || (!events.is_empty() && head_hash != last_hash) {
        return Err(fault("head", "does not match the last event"));
    }
    let embedded = parse_public_key(&str_at(&whole, "/public_key/hex")?).ok_or_else(|| fault("public_key", "not an Ed25519 key"))?;
    let key = expected_key.unwrap_or(&embedded);
    verify_signature(document, key, expected_key.is_some())?;
    Ok(VerifiedExport {
        org_slug: str_at(&whole, "/org/slug")?,
        events: events.len(),
        from_seq,
        to_seq,
        head_hash,
        public_key_hex: hex::encode(key.as_bytes()),
    })
}

/// Checks each event's link; returns the last event's sequence number and hash.
fn verify_chain(org_id: &str, events: &[Value], from_seq: i64) -> Result<(i64, String), ExportFault> {
    let mut expected_seq = from_seq;
    let mut previous: Option<String> = None;
    for (i, event) in events.iter().enumerate() {
        let text = |name: &str| -> Result<String, ExportFault> {
            event.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| fault(format!("events[{i}].{name}"), "missing"))
        };
        let seq = event.get("seq").and_then(Value::as_i64).ok_or_else(|| fault(format!("events[{i}].seq"), "missing"))?;
        let id = text("id")?;
        let at_event = |reason: &str| fault(format!("event seq={seq} id={id}"), reason);
        if seq != expected_seq {
            return Err(at_event(&format!("expected event {expected_seq} here: an event is missing or out of order")));
        }
        let prev_hash = text("prev_hash")?;
        if previous.as_ref().is_some_and(|p| *p != prev_hash) {
            return Err(at_event("its prev_hash is not the hash of the event before"));
        }
        let content = EventContent {
            id: id.clone(),
            org_id: org_id.to_owned(),
            seq,
            at: text("at")?,
            actor: text("actor")?,
            action: text("action")?,
            record_type: text("record_type")?,
            record_id: text("record_id")?,
            changes: event.get("changes").cloned().unwrap_or(Value::Null),
        };
        let hash = text("hash")?;
        if chain::link_hash(&prev_hash, &chain::canonical(&content)) != hash {
            return Err(at_event("its hash does not match its content: the event was altered"));
        }
        previous = Some(hash);
        expected_seq += 1;
    }
    Ok((expected_seq - 1, previous.unwrap_or_default()))
}

/// Recomputes the content's SHA-256 (the document without its signature, canonical) and checks
/// the signature over it.
fn verify_signature(mut document: Map<String, Value>, key: &VerifyingKey, key_given: bool) -> Result<(), ExportFault> {
    let signed = document.remove("signature").ok_or_else(|| fault("signature", "missing"))?;
    let content = serde_jcs::to_vec(&Value::Object(document)).map_err(|e| fault("document", e.to_string()))?;
    let digest: [u8; 32] = Sha256::digest(&content).into();
    let stated = signed.get("content_sha256").and_then(Value::as_str).unwrap_or_default();
    if stated != hex::encode(digest) {
        return Err(fault("signature.content_sha256", "does not match the export's content: the export was altered"));
    }
    let value = signed.get("value").and_then(Value::as_str).unwrap_or_default();
    let bytes: [u8; 64] = STANDARD
        .decode(value)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| fault("signature.value", "not an Ed25519 signature (64 bytes in base64)"))?;
    let whose = if key_given { "the public key given" } else { "the export's public key" };
    key.verify(&digest, &Signature::from_bytes(&bytes)).map_err(|_| fault("signature", format!("does not verify with {whose}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secretbox::SecretKey;

    #[test]
    fn each_organisation_gets_its_own_stable_key_and_its_pem_reads_back() {
        let key = SecretKey::parse("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff").expect("key");
        let a = SigningKey::from_bytes(&key.derive("label", "org-a")).verifying_key();
        let a_again = SigningKey::from_bytes(&key.derive("label", "org-a")).verifying_key();
        let b = SigningKey::from_bytes(&key.derive("label", "org-b")).verifying_key();
        let other_label = SigningKey::from_bytes(&key.derive("other", "org-a")).verifying_key();
        assert_eq!(a, a_again, "derived again, not stored");
        assert_ne!(a, b);
        assert_ne!(a, other_label);
        assert_eq!(parse_public_key(&public_key_pem(&a)), Some(a));
        assert_eq!(parse_public_key(&hex::encode(a.as_bytes())), Some(a));
        assert_eq!(parse_public_key("not a key"), None);
    }
}
