//! The activity log's hash chain. Each organisation's events form one chain:
//! `hash = SHA-256(prev_hash ‖ canonical)`, where `canonical` is the RFC 8785 (JCS) form of the
//! event's content. The canonical text is stored exactly as hashed, so the chain verifies the
//! same on SQLite and PostgreSQL and after moving between them; verification also checks that
//! the stored columns still say what the canonical text says.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of an organisation's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content of one event, in the form that is canonicalised and hashed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventContent {
    pub id: String,
    pub org_id: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    pub changes: Value,
}

/// An event as stored: its content's columns plus the chain fields and the hashed text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub content: EventContent,
    pub prev_hash: String,
    pub hash: String,
    pub canonical: String,
}

/// The RFC 8785 canonical JSON of an event's content.
pub fn canonical(content: &EventContent) -> String {
    // Serialising plain strings, integers and JSON values cannot fail.
    serde_jcs::to_string(content).unwrap_or_default()
}

/// The chain link: SHA-256 over the previous hash (as hex text) followed by the canonical text.
pub fn link_hash(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `stored_hex` is the chain link of `prev_hash` and `canonical` (see [`link_hash`]),
/// compared without allocating.
fn hash_matches(prev_hash: &str, canonical: &str, stored_hex: &str) -> bool {
    let digest = Sha256::new().chain_update(prev_hash.as_bytes()).chain_update(canonical.as_bytes()).finalize();
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).is_ok() && hex[..] == *stored_hex.as_bytes()
}

/// Writes into `out` the canonical text of a row's content, taking the `changes` column's text
/// as already canonical: keys in RFC 8785 order, strings escaped as JSON.
fn spell_canonical(out: &mut String, row: &EventRow<'_>) {
    out.clear();
    for (key, value) in [("{\"action\":", row.action), (",\"actor\":", row.actor), (",\"at\":", row.at)] {
        out.push_str(key);
        push_json_string(out, value);
    }
    out.push_str(",\"changes\":");
    out.push_str(row.changes);
    for (key, value) in
        [(",\"id\":", row.id), (",\"org_id\":", row.org_id), (",\"record_id\":", row.record_id), (",\"record_type\":", row.record_type)]
    {
        out.push_str(key);
        push_json_string(out, value);
    }
    use std::fmt::Write;
    let _ = write!(out, ",\"seq\":{}}}", row.seq);
}

/// Appends `text` as a JSON string; only text that needs escaping goes through serde_json.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

/// Seals new content onto a chain whose head hash is `prev_hash`.
pub fn seal(content: EventContent, prev_hash: &str) -> StoredEvent {
    let canonical = canonical(&content);
    let hash = link_hash(prev_hash, &canonical);
    StoredEvent { content, prev_hash: prev_hash.to_owned(), hash, canonical }
}

/// The first event that breaks a chain, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq={seq} id={id}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub id: String,
    pub reason: String,
}

/// The head an organisation recorded when it last appended: sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// Reads a checkpoint written as `SEQ:HASH` (see its `Display`): a sequence number of 0 or
    /// more and a lowercase hex SHA-256. `None` for anything else.
    pub fn parse(text: &str) -> Option<Head> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq: i64 = seq.parse().ok().filter(|s| *s >= 0)?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| Head { seq, hash: hash.to_owned() })
    }
}

/// `SEQ:HASH`: the checkpoint form that a later verification can start from.
impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// One stored event as its row holds it, borrowed from the row: what verification reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRow<'r> {
    pub id: &'r str,
    pub org_id: &'r str,
    pub seq: i64,
    pub at: &'r str,
    pub actor: &'r str,
    pub action: &'r str,
    pub record_type: &'r str,
    pub record_id: &'r str,
    /// The `changes` column: JSON text.
    pub changes: &'r str,
    pub prev_hash: &'r str,
    pub hash: &'r str,
    pub canonical: &'r str,
}

/// Walks one organisation's events in storage order and checks every link, then compares the
/// end of the chain with the recorded head (which catches a deleted or appended last event).
pub struct Verifier {
    org_id: String,
    expected_seq: i64,
    prev_hash: String,
    last_id: String,
    /// Reused for every event: the canonical text its columns spell (see [`Verifier::check_row`]).
    spelled: String,
}

impl Verifier {
    pub fn new(org_id: &str) -> Self {
        Self::resume(org_id, &Head { seq: 0, hash: GENESIS.to_owned() })
    }

    /// Continues a chain after an event already verified (a checkpoint): the next event must
    /// be `checkpoint.seq + 1` and link to `checkpoint.hash`.
    pub fn resume(org_id: &str, checkpoint: &Head) -> Self {
        Self {
            org_id: org_id.to_owned(),
            expected_seq: checkpoint.seq + 1,
            prev_hash: checkpoint.hash.clone(),
            last_id: String::new(),
            spelled: String::new(),
        }
    }

    /// How many events of the chain are behind this verifier (the checkpoint's included).
    pub fn verified_up_to(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Checks the next event in storage order.
    pub fn check(&mut self, event: &StoredEvent) -> Result<(), ChainBreak> {
        let c = &event.content;
        let changes = c.changes.to_string();
        self.check_row(&EventRow {
            id: &c.id,
            org_id: &c.org_id,
            seq: c.seq,
            at: &c.at,
            actor: &c.actor,
            action: &c.action,
            record_type: &c.record_type,
            record_id: &c.record_id,
            changes: &changes,
            prev_hash: &event.prev_hash,
            hash: &event.hash,
            canonical: &event.canonical,
        })
    }

    /// Checks the next event in storage order, as read from its row. Nothing is allocated for
    /// an intact event, so a walk costs about the hashing.
    pub fn check_row(&mut self, row: &EventRow<'_>) -> Result<(), ChainBreak> {
        let fail = |reason: String| Err(ChainBreak { seq: row.seq, id: row.id.to_owned(), reason });
        if row.org_id != self.org_id {
            return fail("event belongs to another organisation".into());
        }
        if row.seq != self.expected_seq {
            return fail(format!("expected seq {} here: an event was deleted, inserted or reordered", self.expected_seq));
        }
        if row.prev_hash != self.prev_hash {
            return fail("prev_hash does not match the previous event's hash".into());
        }
        if let Err(reason) = self.columns_say_the_hashed_content(row) {
            return fail(reason.into());
        }
        if !hash_matches(row.prev_hash, row.canonical, row.hash) {
            return fail("hash does not match the event's content".into());
        }
        self.expected_seq += 1;
        self.prev_hash.clear();
        self.prev_hash.push_str(row.hash);
        self.last_id.clear();
        self.last_id.push_str(row.id);
        Ok(())
    }

    /// Whether the stored columns say what the hashed canonical text says. Quick way first:
    /// the columns spelled out in the canonical form, with the `changes` column's text as it
    /// is (the store writes it with sorted keys, as RFC 8785 does), equal the canonical text
    /// byte for byte — then they say exactly what was hashed. Otherwise the exact way, as the
    /// event was sealed: `changes` parsed and the whole content canonicalised; only that can
    /// call the event edited (a float or a rare key order spells differently yet agrees).
    fn columns_say_the_hashed_content(&mut self, row: &EventRow<'_>) -> Result<(), &'static str> {
        spell_canonical(&mut self.spelled, row);
        if self.spelled == row.canonical {
            return Ok(());
        }
        let Ok(changes) = serde_json::from_str(row.changes) else {
            return Err("changes are not valid JSON: the event was edited");
        };
        let content = EventContent {
            id: row.id.to_owned(),
            org_id: row.org_id.to_owned(),
            seq: row.seq,
            at: row.at.to_owned(),
            actor: row.actor.to_owned(),
            action: row.action.to_owned(),
            record_type: row.record_type.to_owned(),
            record_id: row.record_id.to_owned(),
            changes,
        };
        if canonical(&content) == row.canonical {
            Ok(())
        } else {
            Err("stored columns differ from the hashed content: the event was edited")
        }
    }

    /// Compares the end of the walked chain with the organisation's recorded head.
    pub fn finish(self, head: &Head) -> Result<(), ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if head.seq != last_seq || head.hash != self.prev_hash {
            return Err(ChainBreak {
                seq: last_seq.max(head.seq),
                id: if self.last_id.is_empty() { "-".into() } else { self.last_id },
                reason: format!(
                    "chain ends at seq {last_seq} but the recorded head is seq {}: events were removed or added at the end",
                    head.seq
                ),
            });
        }
        Ok(())
    }
}

/// Verifies a whole chain in storage order against its head.
pub fn verify<'a>(org_id: &str, events: impl IntoIterator<Item = &'a StoredEvent>, head: &Head) -> Result<(), ChainBreak> {
    let mut verifier = Verifier::new(org_id);
    for event in events {
        verifier.check(event)?;
    }
    verifier.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn chain(len: usize) -> (Vec<StoredEvent>, Head) {
        let mut events = Vec::new();
        let mut prev = GENESIS.to_owned();
        for i in 0..len {
            let content = EventContent {
                id: format!("id-{i}"),
                org_id: "org".into(),
                seq: i as i64 + 1,
                at: format!("2026-01-01T00:00:{:02}.000000Z", i % 60),
                actor: "owner@demo.example".into(),
                action: "update".into(),
                record_type: "control".into(),
                record_id: format!("rec-{}", i % 3),
                changes: json!({"status": {"from": i, "to": i + 1}, "note": "ünïcødé \u{1}"}),
            };
            let event = seal(content, &prev);
            prev = event.hash.clone();
            events.push(event);
        }
        let head = Head { seq: len as i64, hash: prev };
        (events, head)
    }

    #[test]
    fn intact_chain_verifies() {
        let (events, head) = chain(5);
        assert_eq!(verify("org", &events, &head), Ok(()));
        let (none, head) = chain(0);
        assert_eq!(verify("org", &none, &head), Ok(()));
    }

    #[test]
    fn a_chain_resumes_from_a_checkpoint() {
        let (events, head) = chain(6);
        let checkpoint = Head { seq: 3, hash: events[2].hash.clone() };
        let mut verifier = Verifier::resume("org", &checkpoint);
        for event in &events[3..] {
            assert_eq!(verifier.check(event), Ok(()));
        }
        assert_eq!(verifier.finish(&head), Ok(()));
        // A checkpoint the stored chain does not extend (history rewritten before it).
        let forged = Head { seq: 3, hash: link_hash("forged", "x") };
        let broken = Verifier::resume("org", &forged).check(&events[3]).expect_err("caught");
        assert_eq!(broken.seq, 4);
    }

    #[test]
    fn columns_are_read_as_their_meaning_not_their_spelling() {
        let (events, _) = chain(1);
        let e = &events[0];
        let c = &e.content;
        let row = |changes: &'static str| EventRow {
            id: &c.id,
            org_id: &c.org_id,
            seq: c.seq,
            at: &c.at,
            actor: &c.actor,
            action: &c.action,
            record_type: &c.record_type,
            record_id: &c.record_id,
            changes,
            prev_hash: &e.prev_hash,
            hash: &e.hash,
            canonical: &e.canonical,
        };
        // The quick spelling of the stored columns is the sealed text itself.
        let mut spelled = String::new();
        let stored = c.changes.to_string();
        spell_canonical(&mut spelled, &EventRow { changes: &stored, ..row("") });
        assert_eq!(spelled, e.canonical);
        // Same changes, spelled in another key order and with spaces: intact.
        let reordered = r#"{ "note": "ünïcødé \u0001", "status": {"to": 1, "from": 0} }"#;
        assert_eq!(Verifier::new("org").check_row(&row(reordered)), Ok(()));
        // Different changes: edited; not JSON at all: edited.
        for edited in [r#"{"forged":true}"#, "{"] {
            let broken = Verifier::new("org").check_row(&row(edited)).expect_err("caught");
            assert!(broken.reason.contains("the event was edited"), "{}", broken.reason);
        }
    }

    #[test]
    fn a_float_in_the_changes_verifies_whatever_its_spelling() {
        let content = EventContent {
            id: "id".into(),
            org_id: "org".into(),
            seq: 1,
            at: "2026-01-01T00:00:00.000000Z".into(),
            actor: "a@b.example".into(),
            action: "update".into(),
            record_type: "control".into(),
            record_id: "r".into(),
            changes: json!({"score": 1e21, "ratio": 0.1}),
        };
        let event = seal(content, GENESIS);
        let head = Head { seq: 1, hash: event.hash.clone() };
        assert_eq!(verify("org", [&event], &head), Ok(()));
    }

    #[test]
    fn checkpoints_read_back_as_written() {
        let head = Head { seq: 42, hash: link_hash(GENESIS, "x") };
        assert_eq!(Head::parse(&head.to_string()), Some(head.clone()));
        assert_eq!(Head::parse(&format!("{head}\n")), Some(head.clone()));
        for bad in ["", "42", &head.hash, "-1:00", "x:00", &format!("42:{}", head.hash.to_uppercase()), &format!("42:{}0", head.hash)] {
            assert_eq!(Head::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_form_is_rfc8785() {
        let (events, _) = chain(1);
        assert!(events[0].canonical.starts_with(r#"{"action":"update","actor":"owner@demo.example","at":"#));
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        EditField(usize, u8),
        Delete(usize),
        Insert(usize),
        Swap(usize),
        ReHashEdit(usize),
    }

    fn tamper_strategy() -> impl Strategy<Value = (usize, Tamper)> {
        (2usize..12).prop_flat_map(|len| {
            let tamper = prop_oneof![
                (0..len, 0u8..6).prop_map(|(i, f)| Tamper::EditField(i, f)),
                (0..len).prop_map(Tamper::Delete),
                (0..=len).prop_map(Tamper::Insert),
                (0..len - 1).prop_map(Tamper::Swap),
                (0..len).prop_map(Tamper::ReHashEdit),
            ];
            (Just(len), tamper)
        })
    }

    proptest! {
        /// Every single tampering with one stored event is caught, even one that recomputes the
        /// edited event's own hash (it breaks the next link or the recorded head).
        #[test]
        fn every_single_tampering_is_caught((len, tamper) in tamper_strategy()) {
            let (mut events, head) = chain(len);
            match tamper {
                Tamper::EditField(i, field) => {
                    let c = &mut events[i].content;
                    match field {
                        0 => c.actor.push('x'),
                        1 => c.action = "delete".into(),
                        2 => c.record_id.push('1'),
                        3 => c.changes = json!({"forged": true}),
                        4 => c.at = "1999-01-01T00:00:00.000000Z".into(),
                        _ => events[i].hash = link_hash("forged", "x"),
                    }
                }
                Tamper::Delete(i) => { events.remove(i); }
                Tamper::Insert(i) => {
                    let prev = if i == 0 { GENESIS.to_owned() } else { events[i - 1].hash.clone() };
                    let mut content = events[i.min(len - 1)].content.clone();
                    content.id = "forged".into();
                    content.seq = i as i64 + 1;
                    events.insert(i, seal(content, &prev));
                }
                Tamper::Swap(i) => events.swap(i, i + 1),
                Tamper::ReHashEdit(i) => {
                    let mut content = events[i].content.clone();
                    content.actor = "intruder@evil.example".into();
                    let prev = events[i].prev_hash.clone();
                    events[i] = seal(content, &prev);
                }
            }
            prop_assert!(verify("org", &events, &head).is_err());
        }
    }
}
