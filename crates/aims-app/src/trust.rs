//! What the public trust pages show (A.8): an organisation's published AI system disclosures,
//! read without an account, and the public key its activity-log exports are signed with.
//! Only the fields chosen for publication leave this module (`DISCLOSURE_FIELDS`); anything
//! not published, archived or of another organisation is not found.

use aims_domain::ValidationErrors;
use aims_domain::kinds::AI_SYSTEM;
use aims_domain::kinds::inventory::disclosure_published;
use aims_store::model::{Organization, Record};
use aims_store::page_json::{Filter, PageRequest};
use aims_store::records::{self, RecordKey};
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::{App, AppError, AppResult};

/// The HKDF label of the activity-export signing keys; changing it changes every organisation's
/// public key.
const SIGNING_LABEL: &str = "aims/activity-export-signing/v1";

/// The organisation's Ed25519 key for signing activity exports, derived from the server's
/// sealing key and the organisation's id: the same on every instance sharing the key, nothing
/// stored.
pub(crate) fn signing_key(org_id: &str) -> AppResult<SigningKey> {
    let key = crate::schedules::process_key().ok_or_else(|| {
        AppError::from(ValidationErrors::single(
            "signing_key",
            "no_secret_key",
            format!("the server has no key to sign exports with: set {} or {}", crate::secretbox::KEY_ENV, crate::secretbox::KEY_FILE_ENV),
        ))
    })?;
    Ok(SigningKey::from_bytes(&key.derive(SIGNING_LABEL, org_id)))
}

/// Whether this server can sign activity exports (it has a sealing key).
pub fn signing_available() -> bool {
    crate::schedules::process_key().is_some()
}

/// One published disclosure, as the public reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicDisclosure {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub intended_use: String,
    pub limitations: String,
    /// The oversight mode's code (`human_in_the_loop` …), if set.
    pub oversight_mode: Option<String>,
    pub oversight: String,
    /// The record version shown and when it last changed.
    pub version: i64,
    pub updated_at: String,
}

/// An organisation's trust page: its published disclosures and its export-signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPage {
    pub org_slug: String,
    pub org_name: String,
    pub systems: Vec<PublicDisclosure>,
    /// The newest change among the disclosures shown (`None` when none is published).
    pub updated_at: Option<String>,
    /// The key activity exports are signed with, as hex and PEM; `None` when the server has no
    /// sealing key.
    pub public_key: Option<(String, String)>,
}

impl App {
    /// The trust page of `org_slug`; an unknown organisation is not found.
    pub async fn public_trust_page(&self, org_slug: &str) -> AppResult<TrustPage> {
        let org = self.public_org(org_slug).await?;
        let mut systems = Vec::new();
        let filters = [Filter::Flag { field: "disclosure_published", value: true }];
        let mut after_seq = 0;
        loop {
            let request =
                PageRequest { kind: AI_SYSTEM.kind, include_archived: false, filters: &filters, after_seq, limit: 200, prefix: "" };
            let page = records::list_where(&self.db, &org.id, &request).await?;
            systems.extend(page.items.iter().filter(|r| disclosure_published(&r.data)).map(disclosure));
            match page.next_after {
                Some(next) => after_seq = next,
                None => break,
            }
        }
        let updated_at = systems.iter().map(|s| s.updated_at.clone()).max();
        let public_key = signing_key(&org.id).ok().map(|k| {
            let public = k.verifying_key();
            (hex::encode(public.as_bytes()), crate::activity_export::public_key_pem(&public))
        });
        Ok(TrustPage { org_slug: org.slug, org_name: org.name, systems, updated_at, public_key })
    }

    /// One published disclosure of `org_slug`; unpublished, archived, another organisation's or
    /// unknown are all the same not found.
    pub async fn public_disclosure(&self, org_slug: &str, id: &str) -> AppResult<(String, PublicDisclosure)> {
        let not_found = || AppError::NotFound("AI system".into());
        let org = self.public_org(org_slug).await?;
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(not_found());
        }
        let record = records::get(&self.db, &org.id, AI_SYSTEM.kind, &RecordKey::Id(id))
            .await?
            .filter(|r| !r.archived && disclosure_published(&r.data))
            .ok_or_else(not_found)?;
        Ok((org.name, disclosure(&record)))
    }

    async fn public_org(&self, org_slug: &str) -> AppResult<Organization> {
        aims_store::orgs::by_slug(&self.db, org_slug).await?.ok_or_else(|| AppError::NotFound("organisation".into()))
    }
}

/// The published fields of an AI system, and only those.
fn disclosure(record: &Record) -> PublicDisclosure {
    let text = |name: &str| record.data.get(name).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    PublicDisclosure {
        id: record.id.clone(),
        name: text("name"),
        summary: text("disclosure_summary"),
        intended_use: text("intended_use"),
        limitations: text("disclosure_limitations"),
        oversight_mode: Some(text("human_oversight_mode")).filter(|m| !m.is_empty()),
        oversight: text("disclosure_human_oversight"),
        version: record.version,
        updated_at: record.updated_at.clone(),
    }
}
