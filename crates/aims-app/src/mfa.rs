//! Two-step sign-in with an authenticator app (RFC 6238), its single-use recovery codes, and
//! each organisation's rule of whom it is required of.
//!
//! The authenticator secret is sealed with the server's key (`secretbox`, bound to the user
//! id) and only the last accepted time step is kept beside it, so no code is accepted twice.
//! A person's own changes (enrolment, removal, recovery codes used or regenerated) are
//! recorded in the activity log of every organisation they are a member of — the same rule as
//! password changes — so each organisation sees what concerns the accounts that reach it.

use aims_domain::identity::Role;
use aims_domain::mfa::{self, MfaRequired, RECOVERY_CODES};
use aims_domain::policy::Denied;
use aims_domain::{ValidationErrors, clock, signin};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Member, User};
use aims_store::{WriteTx, mfa as store, throttle, users};
use serde_json::json;
use time::OffsetDateTime;
use totp_rs::{Secret, Totp};

use crate::secretbox::SecretKey;
use crate::secrets::{self, verify_password};
use crate::{App, AppError, AppResult};

/// The name authenticator apps show for the account.
const ISSUER: &str = "aims";

/// An enrolment waiting for its confirming code: what the person scans or types.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// The secret in base32, grouped by four for reading.
    pub secret_grouped: String,
    /// The QR code of the `otpauth://` URI as an inline SVG element.
    pub qr_svg: String,
}

/// A person's two-step sign-in as their account page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    pub totp: bool,
    pub recovery_codes_left: i64,
}

/// Which second step was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    Code,
    RecoveryCode,
}

/// An organisation's rule with its version (for `If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecuritySettings {
    pub mfa_required: MfaRequired,
    pub version: i64,
}

fn key() -> AppResult<SecretKey> {
    crate::schedules::process_key()
        .ok_or_else(|| AppError::Internal("the server has no secret key to keep authenticator secrets with".into()))
}

/// The context a person's authenticator secret is sealed under: their user id, so a sealed
/// secret copied onto another person's row does not open.
fn seal_context(user_id: &str) -> String {
    format!("aims/totp/{user_id}")
}

fn totp_for(secret: Secret, email: &str) -> AppResult<Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(email.replace(':', ""))
        .build()
        .map_err(|e| AppError::Internal(format!("authenticator set-up: {e}")))
}

fn unix_seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or_default()
}

/// The enrolment's QR code as inline SVG (no XML prologue), labelled for screen readers.
fn qr_svg(totp: &Totp) -> AppResult<String> {
    let url = totp.to_url().map_err(|e| AppError::Internal(format!("authenticator URI: {e}")))?;
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen("<svg ", r#"<svg class="qr" role="img" aria-label="QR code of the secret for your authenticator app" "#, 1))
}

/// Ten new recovery codes: 80 random bits each, in base32 as `XXXX-XXXX-XXXX-XXXX`.
fn new_recovery_codes() -> AppResult<Vec<String>> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
            let text = Secret::from(bytes.to_vec()).to_base32();
            Ok(mfa::grouped(&text, 4, "-"))
        })
        .collect()
}

/// The stored form of a recovery code. SHA-256 rather than argon2: each code carries 80
/// random bits, so even a fast hash cannot be searched offline (2^80 guesses), while argon2 would
/// cost every check (against up to ten codes) a deliberately slow hash for no added safety —
/// argon2's slowness only protects low-entropy secrets such as passwords.
fn recovery_hash(code: &str) -> String {
    secrets::token_hash(&mfa::normalise_code(code))
}

impl App {
    /// A signed-in person's account.
    pub async fn account_user(&self, user_id: &str) -> AppResult<User> {
        users::by_id(&self.db, user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))
    }

    /// The person's two-step sign-in.
    pub async fn mfa_status(&self, user_id: &str) -> AppResult<MfaStatus> {
        let totp = store::enabled(&self.db, user_id).await?;
        let recovery_codes_left = if totp { store::unused_recovery_codes(&self.db, user_id).await? } else { 0 };
        Ok(MfaStatus { totp, recovery_codes_left })
    }

    /// Starts an enrolment: a new secret, sealed and kept unconfirmed until [`App::confirm_totp`].
    /// Not an event: nothing about the account changes until it is confirmed.
    pub async fn start_totp(&self, user: &User) -> AppResult<TotpEnrolment> {
        let totp = totp_for(Secret::generate(), &user.email)?;
        let sealed = key()?.seal(&seal_context(&user.id), &totp.secret().to_base32())?;
        let mut tx = self.db.begin_write().await?;
        if !store::start(&mut tx, &user.id, &sealed, &clock::now_text()).await? {
            return Err(AppError::Conflict("two-step sign-in is already on; turn it off first to enrol again".into()));
        }
        tx.commit().await?;
        self.enrolment_view(&totp)
    }

    /// The enrolment waiting for its code, shown again (after a wrong code or a reload).
    pub async fn pending_totp(&self, user: &User) -> AppResult<Option<TotpEnrolment>> {
        match store::totp(&self.db, &user.id).await? {
            Some(row) if row.enabled_at.is_none() => Ok(Some(self.enrolment_view(&self.open_totp(&user.id, &user.email, &row)?)?)),
            _ => Ok(None),
        }
    }

    fn enrolment_view(&self, totp: &Totp) -> AppResult<TotpEnrolment> {
        Ok(TotpEnrolment { secret_grouped: mfa::grouped(&totp.secret().to_base32(), 4, " "), qr_svg: qr_svg(totp)? })
    }

    fn open_totp(&self, user_id: &str, email: &str, row: &store::Totp) -> AppResult<Totp> {
        let base32 = key()?
            .open(&seal_context(user_id), &row.secret_sealed)
            .ok_or_else(|| AppError::Internal("the authenticator secret does not open with this server's key".into()))?;
        let secret = Secret::try_from_base32(base32).map_err(|e| AppError::Internal(format!("authenticator secret: {e}")))?;
        totp_for(secret, email)
    }

    /// Confirms the enrolment with a current code: turns two-step sign-in on and returns the
    /// ten recovery codes, shown once.
    pub async fn confirm_totp(&self, user: &User, code: &str) -> AppResult<Vec<String>> {
        let row = store::totp(&self.db, &user.id)
            .await?
            .filter(|r| r.enabled_at.is_none())
            .ok_or_else(|| AppError::Conflict("there is no enrolment waiting for a code; start again".into()))?;
        let totp = self.open_totp(&user.id, &user.email, &row)?;
        let step = matching_step(&totp, code, clock::now()).ok_or_else(wrong_code)?;
        let codes = new_recovery_codes()?;
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let now = clock::now_text();
        let mut tx = self.db.begin_write().await?;
        if !store::accept_step(&mut tx, &user.id, step).await? || !store::enable(&mut tx, &user.id, &now).await? {
            return Err(wrong_code());
        }
        store::replace_recovery_codes(&mut tx, &user.id, &hashes, &now).await?;
        own_event(&mut tx, user, "enable_totp", json!({"two_step": "authenticator app", "recovery_codes": RECOVERY_CODES})).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// New recovery codes replacing the old ones; needs a current code or the password.
    pub async fn regenerate_recovery_codes(&self, user: &User, proof: &str) -> AppResult<Vec<String>> {
        self.check_proof(user, proof).await?;
        let codes = new_recovery_codes()?;
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let mut tx = self.db.begin_write().await?;
        store::replace_recovery_codes(&mut tx, &user.id, &hashes, &clock::now_text()).await?;
        own_event(&mut tx, user, "regenerate_recovery_codes", json!({"recovery_codes": RECOVERY_CODES})).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns two-step sign-in off (deleting the recovery codes); needs the password or a
    /// current code.
    pub async fn disable_totp(&self, user: &User, proof: &str) -> AppResult<()> {
        self.check_proof(user, proof).await?;
        let mut tx = self.db.begin_write().await?;
        if store::remove(&mut tx, &user.id).await? {
            own_event(&mut tx, user, "disable_totp", json!({"two_step": "off", "recovery_codes": "deleted"})).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The password, or a current authenticator code (used up like any other).
    async fn check_proof(&self, user: &User, proof: &str) -> AppResult<()> {
        let code = mfa::normalise_code(proof);
        if mfa::is_totp_code(&code) && self.use_totp_code(user, &code, clock::now()).await? {
            return Ok(());
        }
        let stored = users::password_hash(&self.db, &user.email).await?.and_then(|(_, hash)| hash);
        match stored {
            Some(hash) if verify_password(proof.to_owned(), hash.clone()).await => Ok(()),
            _ => Err(AppError::Validation(ValidationErrors::single("proof", "incorrect", "neither your password nor a current code"))),
        }
    }

    /// Uses a six-digit code once: `false` when it is wrong or its time step was used already.
    async fn use_totp_code(&self, user: &User, code: &str, now: OffsetDateTime) -> AppResult<bool> {
        let Some(row) = store::totp(&self.db, &user.id).await?.filter(|r| r.enabled_at.is_some()) else { return Ok(false) };
        let totp = self.open_totp(&user.id, &user.email, &row)?;
        let Some(step) = matching_step(&totp, code, now) else { return Ok(false) };
        let mut tx = self.db.begin_write().await?;
        let accepted = store::accept_step(&mut tx, &user.id, step).await?;
        tx.commit().await?;
        Ok(accepted)
    }

    /// Uses a recovery code once, recording its use.
    async fn use_recovery_code(&self, user: &User, code: &str) -> AppResult<bool> {
        let mut tx = self.db.begin_write().await?;
        if !store::use_recovery_code(&mut tx, &user.id, &recovery_hash(code), &clock::now_text()).await? {
            return Ok(false);
        }
        own_event(&mut tx, user, "use_recovery_code", json!({"recovery_code": "used"})).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Does the person need a second step after their password?
    pub async fn needs_second_step(&self, user_id: &str) -> AppResult<bool> {
        Ok(store::enabled(&self.db, user_id).await?)
    }

    /// The second step of a sign-in: a current code or an unused recovery code, from `source`.
    /// Failures count in the same throttle as wrong passwords (per account and source).
    pub async fn second_step(&self, user_id: &str, typed: &str, source: &str) -> AppResult<SecondStep> {
        self.second_step_at(user_id, typed, source, clock::now()).await
    }

    /// [`App::second_step`] at a given time (tests step the clock).
    pub async fn second_step_at(&self, user_id: &str, typed: &str, source: &str, now: OffsetDateTime) -> AppResult<SecondStep> {
        let user = users::by_id(&self.db, user_id).await?.filter(|u| u.active).ok_or(AppError::Unauthorized)?;
        let failures = throttle::failures(&self.db, &user.email, source)
            .await?
            .and_then(|(count, last)| Some(signin::Failures { count, last_at: clock::parse_stored(&last)? }));
        if let Some(until) = signin::wait_until(failures, now) {
            tracing::warn!(email = %user.email, source, "second step throttled");
            return Err(AppError::RateLimited(clock::format(until)));
        }
        let code = mfa::normalise_code(typed);
        let used = if mfa::is_totp_code(&code) {
            self.use_totp_code(&user, &code, now).await?.then_some(SecondStep::Code)
        } else {
            self.use_recovery_code(&user, &code).await?.then_some(SecondStep::RecoveryCode)
        };
        match used {
            Some(step) => {
                if failures.is_some() {
                    throttle::clear(&self.db, &user.email, source).await?;
                }
                Ok(step)
            }
            None => {
                let failed = signin::after_failure(failures, now);
                throttle::record(&self.db, &user.email, source, failed.count, &clock::format(failed.last_at)).await?;
                tracing::info!(email = %user.email, source, failures = failed.count, "second step failed");
                Err(AppError::Unauthorized)
            }
        }
    }

    /// The organisation's rule.
    pub async fn security_settings(&self, member: &Member) -> AppResult<SecuritySettings> {
        crate::access::require(member, aims_domain::policy::Action::Read)?;
        let (rule, version) = store::org_rule(&self.db, &member.org_id).await?;
        Ok(SecuritySettings { mfa_required: MfaRequired::parse("mfa_required", &rule)?, version })
    }

    /// Changes the organisation's rule (owners only), if still at `if_match`.
    pub async fn change_security_settings(&self, member: &Member, mfa_required: &str, if_match: i64) -> AppResult<SecuritySettings> {
        if member.role != Role::Owner {
            return Err(
                Denied::Role { role: member.role, action: "change the security settings", allowed: Role::Owner.as_str().into() }.into()
            );
        }
        let new = MfaRequired::parse("mfa_required", mfa_required)?;
        let mut tx = self.db.begin_write().await?;
        let (current, version) = store::org_rule_in(&mut tx, &member.org_id).await?;
        if if_match != crate::records::ANY_VERSION && if_match != version {
            return Err(AppError::Stale { expected: if_match, current: version });
        }
        if current == new.as_str() {
            return Ok(SecuritySettings { mfa_required: new, version });
        }
        store::set_org_rule(&mut tx, &member.org_id, new.as_str(), version + 1, &clock::now_text()).await?;
        let changes = json!({"mfa_required": {"from": current, "to": new.as_str()}});
        let actor = crate::access::actor(member);
        activity::append(
            &mut tx,
            &member.org_id,
            &actor,
            NewEvent { action: "update", record_type: "security_settings", record_id: &member.org_id, changes },
        )
        .await?;
        tx.commit().await?;
        Ok(SecuritySettings { mfa_required: new, version: version + 1 })
    }

    /// The organisation's rule when it applies to the member and they have no second step yet.
    pub async fn mfa_missing(&self, member: &Member) -> AppResult<Option<MfaRequired>> {
        let (rule, _) = store::org_rule(&self.db, &member.org_id).await?;
        let rule = MfaRequired::parse("mfa_required", &rule)?;
        if !rule.applies_to(member.role) || store::enabled(&self.db, &member.user_id).await? {
            return Ok(None);
        }
        Ok(Some(rule))
    }

    /// Refuses (403 naming the rule) a member the organisation requires two-step sign-in of
    /// who has not enrolled.
    pub async fn require_mfa_if_enforced(&self, member: &Member) -> AppResult<()> {
        match self.mfa_missing(member).await? {
            Some(rule) => Err(Denied::MfaRequired(rule.describe().into()).into()),
            None => Ok(()),
        }
    }
}

/// The time step a typed code matches at `now` (one step of clock drift either way).
fn matching_step(totp: &Totp, typed: &str, now: OffsetDateTime) -> Option<i64> {
    let code = mfa::normalise_code(typed);
    totp.check(&code, unix_seconds(now)).and_then(|step| i64::try_from(step).ok())
}

fn wrong_code() -> AppError {
    AppError::Validation(ValidationErrors::single("code", "incorrect", "the code is not correct or was used already; try the next one"))
}

/// One event in each organisation the person belongs to, attributed to them.
async fn own_event(tx: &mut WriteTx, user: &User, action: &str, changes: serde_json::Value) -> AppResult<()> {
    let actor = Actor::User { id: user.id.clone(), email: user.email.clone() };
    for org_id in users::org_ids(tx, &user.id).await? {
        activity::append(tx, &org_id, &actor, NewEvent { action, record_type: "user", record_id: &user.id, changes: changes.clone() })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_and_readable() {
        let codes = new_recovery_codes().expect("codes");
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 19 && c.split('-').count() == 4), "{codes:?}");
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0].to_lowercase().replace('-', " ")), recovery_hash(&codes[0]), "typed loosely");
    }
}
