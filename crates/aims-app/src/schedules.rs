//! Recurring reviews and notification channels: what "Mark done" records (the completion and
//! the next due date, moved on by the frequency), the day of the month a schedule keeps, the
//! checks of a channel's settings per type, its write-only secrets (sealed into
//! `channel_secrets`, the record only saying "set"), and the "send test" use case.

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::kinds::NOTIFICATION_CHANNEL;
use aims_domain::kinds::schedules::{self, CHANNEL_SECRETS, SECRET_SET};
use aims_domain::policy::Action;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::notify as store;
use serde_json::{Map, Value, json};

use crate::access::require;
use crate::notify::{self, Channel};
use crate::records::{current_version, update_logged};
use crate::rules::{Draft, KindRules};
use crate::secretbox::{self, SecretKey};
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{App, AppError, AppResult};

fn date_of(document: &Map<String, Value>, field: &str) -> Option<time::Date> {
    document.get(field).and_then(Value::as_str).and_then(clock::parse_date)
}

/// The day of the month a schedule keeps: the day its due date was set to.
fn set_anchor(document: &mut Map<String, Value>) {
    if let Some(due) = date_of(document, "next_due_on") {
        document.insert("anchor_day".into(), json!(due.day()));
    }
}

pub(crate) struct ScheduleRules;

impl KindRules for ScheduleRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            set_anchor(&mut draft.document);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            // Someone moved the date by hand: the schedule now keeps that day of the month.
            if current.data.get("next_due_on") != draft.document.get("next_due_on") {
                set_anchor(&mut draft.document);
            }
            Ok(())
        })
    }
}

pub(crate) struct ScheduleEffects;

impl Effects for ScheduleEffects {
    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if c.transition.name != "mark-done" {
                return Ok(Applied::default());
            }
            let due = date_of(c.document, "next_due_on").ok_or_else(|| AppError::Conflict("set the next due date first".into()))?;
            let frequency = c.document.get("frequency").and_then(Value::as_str).unwrap_or_default().to_owned();
            let anchor = c.document.get("anchor_day").and_then(Value::as_u64).and_then(|d| u8::try_from(d).ok()).unwrap_or(due.day());
            let today = clock::today();
            let next = schedules::next_due(due, &frequency, anchor, today)
                .ok_or_else(|| AppError::Conflict(format!("cannot move {due} on by the frequency {frequency}")))?;
            c.document.insert("next_due_on".into(), json!(clock::format_date(next)));
            c.document.insert("last_done_on".into(), json!(clock::format_date(today)));
            c.document.insert("last_done_by".into(), json!(c.member.user_id));
            c.document.insert("last_done_at".into(), json!(clock::now_text()));
            c.document.insert("last_done_note".into(), text(c.body, "note").map_or(Value::Null, Value::String));
            Ok(Applied::default())
        })
    }
}

/// The checks of a channel's settings that depend on its type; every problem names its field.
fn check_channel(document: &Map<String, Value>) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let present = |field: &str| document.get(field).and_then(Value::as_str).is_some_and(|t| !t.trim().is_empty());
    match document.get("channel_type").and_then(Value::as_str) {
        Some("email") => {
            if !present("smtp_host") {
                errors.push("smtp_host", "required", "an e-mail channel needs the SMTP server's host name");
            }
            match document.get("from_address").and_then(Value::as_str) {
                Some(from) if notify::mailbox(from).is_some() => {}
                Some(_) => errors.push("from_address", "invalid_format", "an e-mail address"),
                None => errors.push("from_address", "required", "an e-mail channel needs the address reminders come from"),
            }
            let recipients: Vec<&str> = document
                .get("recipients")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if recipients.is_empty() {
                errors.push("recipients", "required", "at least one e-mail address to send reminders to");
            }
            for (i, bad) in recipients.iter().enumerate().filter(|(_, r)| notify::mailbox(r).is_none()) {
                errors.push(format!("recipients[{i}]"), "invalid_format", format!("{bad} is not an e-mail address"));
            }
            if present("smtp_password") && !present("smtp_username") {
                errors.push("smtp_username", "required", "a password is sent with a username");
            }
        }
        Some("webhook") => match document.get("webhook_url").and_then(Value::as_str).map(str::trim) {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {}
            Some(_) => errors.push("webhook_url", "invalid_format", "an http:// or https:// URL"),
            None => errors.push("webhook_url", "required", "a webhook channel needs the URL reminders are posted to"),
        },
        _ => {}
    }
    errors.into_result()
}

/// Seals the write-only fields given in plain text into `channel_secrets` (under `channel_id`,
/// or [`store::PENDING`] on create) and leaves "set" in the document; a field set to null
/// forgets its secret.
async fn seal_secrets(
    tx: &mut WriteTx,
    // Read only when a secret is given: the default key file is created on first real use.
    key: fn() -> Option<SecretKey>,
    org_id: &str,
    channel_id: &str,
    current: Option<&Map<String, Value>>,
    document: &mut Map<String, Value>,
) -> AppResult<()> {
    let now = clock::now_text();
    for field in CHANNEL_SECRETS {
        let before = current.and_then(|c| c.get(*field)).and_then(Value::as_str);
        match document.get(*field).and_then(Value::as_str).map(str::to_owned) {
            // Unchanged (the record already shows "set").
            Some(value) if value == SECRET_SET && before == Some(SECRET_SET) => {}
            Some(value) if value == SECRET_SET => {
                return Err(ValidationErrors::single(
                    *field,
                    "invalid_value",
                    "send the secret itself; \"set\" only shows that one is stored",
                )
                .into());
            }
            Some(value) if value.trim().is_empty() => {
                document.insert((*field).into(), Value::Null);
                store::delete_secret(tx, org_id, channel_id, field).await?;
            }
            Some(value) => {
                let Some(key) = key() else {
                    return Err(ValidationErrors::single(
                        *field,
                        "no_secret_key",
                        format!("the server has no key to keep secrets with: set {} or {}", secretbox::KEY_ENV, secretbox::KEY_FILE_ENV),
                    )
                    .into());
                };
                let sealed = key.seal(&secretbox::context(org_id, field), &value)?;
                store::put_secret(tx, org_id, channel_id, field, &sealed, &now).await?;
                document.insert((*field).into(), json!(SECRET_SET));
            }
            None if before.is_some() => store::delete_secret(tx, org_id, channel_id, field).await?,
            None => {}
        }
    }
    Ok(())
}

pub(crate) struct ChannelRules;

impl KindRules for ChannelRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            check_channel(&draft.document)?;
            seal_secrets(tx, process_key, &m.org_id, store::PENDING, None, &mut draft.document).await
        })
    }

    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, m: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            check_channel(&draft.document)?;
            seal_secrets(tx, process_key, &m.org_id, &current.id, Some(&current.data), &mut draft.document).await
        })
    }

    fn after_write<'a>(&'a self, tx: &'a mut WriteTx, m: &'a Member, old: Option<&'a Record>, new: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            if old.is_none() {
                store::adopt_pending_secrets(tx, &m.org_id, &new.id).await?;
            }
            Ok(())
        })
    }
}

/// The key the rules seal with: the process's, read once from the environment (or the default
/// key file, see `secretbox`).
pub(crate) fn process_key() -> Option<SecretKey> {
    static KEY: std::sync::OnceLock<Option<SecretKey>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| match SecretKey::load() {
        Ok(key) => Some(key),
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    })
    .clone()
}

/// A reminder of a schedule as its page lists it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub due_on: String,
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<String>,
}

impl App {
    /// The reminders of one schedule, every due date and channel, with the channels' names.
    pub async fn deliveries_of(&self, member: &Member, schedule_id: &str) -> AppResult<Vec<DeliveryRow>> {
        require(member, Action::Read)?;
        let mut names = std::collections::HashMap::new();
        let mut rows = Vec::new();
        for d in store::of_schedule(&self.db, &member.org_id, schedule_id).await? {
            if !names.contains_key(&d.key.channel_id) {
                let name = aims_store::records::get(
                    &self.db,
                    &member.org_id,
                    NOTIFICATION_CHANNEL.kind,
                    &aims_store::records::RecordKey::Id(&d.key.channel_id),
                )
                .await?
                .and_then(|c| c.data.get("name").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
                names.insert(d.key.channel_id.clone(), name);
            }
            rows.push(DeliveryRow {
                due_on: d.key.due_on.clone(),
                channel: names.get(&d.key.channel_id).cloned().unwrap_or_default(),
                status: d.status,
                attempts: d.attempts,
                sent_at: d.sent_at,
            });
        }
        Ok(rows)
    }

    /// A channel as the senders use it, its secrets opened.
    pub async fn channel_for_sending(&self, org_id: &str, record: &Record) -> AppResult<Channel> {
        let mut secrets = Map::new();
        for field in CHANNEL_SECRETS {
            if record.data.get(*field).and_then(Value::as_str) != Some(SECRET_SET) {
                continue;
            }
            let sealed = store::secret(&self.db, org_id, &record.id, field).await?;
            let key = process_key();
            let opened = match (sealed, key) {
                (Some(sealed), Some(key)) => key.open(&secretbox::context(org_id, field), &sealed),
                _ => None,
            };
            let opened =
                opened.ok_or_else(|| AppError::Conflict(format!("the {field} of this channel cannot be read with the server's key")))?;
            secrets.insert((*field).into(), json!(opened));
        }
        Ok(Channel {
            id: record.id.clone(),
            name: record.data.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
            data: record.data.clone(),
            secrets,
        })
    }

    /// Sends a test message through a channel (enabled or not) and records when and how it
    /// went on the channel, attributed to the member. Returns what happened, in words.
    pub async fn send_test(&self, member: &Member, segment: &str, public_url: &str) -> AppResult<(Record, String)> {
        require(member, Action::Edit)?;
        let record = self.get_record(member, &NOTIFICATION_CHANNEL, segment).await?;
        let channel = self.channel_for_sending(&member.org_id, &record).await?;
        let result = match notify::send(&channel, &notify::Reminder::test(member, public_url)).await {
            Ok(()) => "sent".to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        let mut tx = self.db.begin_write().await?;
        let current = current_version(&mut tx, member, &NOTIFICATION_CHANNEL, &record.id, record.version).await?;
        let mut document = current.data.clone();
        document.insert("last_test_at".into(), json!(clock::now_text()));
        document.insert("last_test_result".into(), json!(result));
        let draft = Draft { reference: current.reference.clone(), state: current.state.clone(), document };
        let updated = update_logged(
            &mut tx,
            &member.org_id,
            &crate::access::actor(member),
            &NOTIFICATION_CHANNEL,
            &current,
            &draft,
            current.archived,
            "send-test",
        )
        .await?;
        tx.commit().await?;
        Ok((updated, result))
    }
}
