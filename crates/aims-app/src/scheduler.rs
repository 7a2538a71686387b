//! The background scheduler of `aims serve`: every interval it finds the active recurring
//! reviews that are due (or overdue) in every organisation with an enabled notification
//! channel, records one delivery per (schedule, due date, channel) — a second instance or a
//! later tick finds it recorded and adds nothing — then sends the deliveries waiting, each
//! claimed in the database first so exactly one instance sends it. A failed attempt is retried
//! with a growing delay (1 minute, doubling, at most an hour) up to [`MAX_ATTEMPTS`]. Every
//! attempt's outcome is an event of the schedule in the activity log, attributed to
//! `scheduler`, naming the channel, never its secrets.
//!
//! A claim is a lease: an instance that dies between sending and recording the outcome leaves
//! the delivery to be sent again once the lease ends, so a crash at that instant can repeat a
//! reminder; nothing else can.

use std::collections::HashMap;
use std::time::Duration;

use aims_domain::clock;
use aims_domain::identity::Role;
use aims_domain::kinds::{self, NOTIFICATION_CHANNEL, SCHEDULE};
use aims_domain::validate::KindSpec;
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Member, Organization, Record};
use aims_store::notify::{self as store, Delivery, DeliveryKey, Outcome};
use aims_store::orgs;
use aims_store::page_json::Filter;
use aims_store::records::RecordKey;
use serde_json::{Value, json};

use crate::notify::{self, Reminder};
use crate::{App, AppResult};

pub const INTERVAL_ENV: &str = "AIMS_SCHEDULER_INTERVAL_SECS";
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claim holds a delivery for its sender.
const LEASE: time::Duration = time::Duration::minutes(5);
/// Deliveries read per query.
const BATCH: i64 = 100;
const PAGE: u32 = 200;

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub interval: Duration,
    /// The address people reach the server at, for the links in reminders.
    pub public_url: String,
    /// This instance's name in its claims.
    pub instance: String,
}

impl SchedulerSettings {
    /// The interval from `AIMS_SCHEDULER_INTERVAL_SECS` (default 300; `0` turns the scheduler
    /// off); `None` when off.
    pub fn from_env(public_url: &str) -> Result<Option<Self>, String> {
        let seconds = match std::env::var(INTERVAL_ENV) {
            Ok(text) => {
                text.trim().parse::<u64>().map_err(|_| format!("{INTERVAL_ENV} must be a whole number of seconds, not {text:?}"))?
            }
            Err(_) => 300,
        };
        if seconds == 0 {
            return Ok(None);
        }
        let instance = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Some(Self { interval: Duration::from_secs(seconds), public_url: public_url.trim_end_matches('/').to_owned(), instance }))
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub recorded: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Runs the scheduler until the process ends.
pub fn spawn(app: App, settings: SchedulerSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(settings.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match app.scheduler_tick(&settings).await {
                Ok(report) if report != TickReport::default() => tracing::info!(?report, "scheduler"),
                Ok(_) => {}
                Err(e) => tracing::warn!("scheduler: {e}"),
            }
        }
    })
}

/// The scheduler reads as a viewer of each organisation would.
fn reader(org: &Organization) -> Member {
    Member {
        org_id: org.id.clone(),
        org_slug: org.slug.clone(),
        org_name: org.name.clone(),
        user_id: "scheduler".into(),
        email: "scheduler".into(),
        display_name: "Scheduler".into(),
        role: Role::Viewer,
    }
}

fn text<'a>(record: &'a Record, field: &str) -> &'a str {
    record.data.get(field).and_then(Value::as_str).unwrap_or_default()
}

impl App {
    /// Every live record of `spec` matching `filters`, a page at a time.
    async fn all_where(&self, member: &Member, spec: &KindSpec, filters: &[Filter]) -> AppResult<Vec<Record>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self.list_records_where(member, spec, false, filters, after, PAGE).await?;
            all.extend(page.items);
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(all),
            }
        }
    }

    /// One round: record the reminders owed, then send those waiting.
    pub async fn scheduler_tick(&self, settings: &SchedulerSettings) -> AppResult<TickReport> {
        let mut report = TickReport::default();
        let tomorrow = clock::today().next_day().unwrap_or(clock::today());
        for org in orgs::all(&self.db).await? {
            let member = reader(&org);
            // Readiness is measured once a day even when nobody opens the dashboard, so the
            // trend shows progress between management reviews.
            if let Err(e) = self.readiness_snapshot_if_due(&member).await {
                tracing::warn!("readiness snapshot of {}: {e}", org.slug);
            }
            let channels = self.all_where(&member, &NOTIFICATION_CHANNEL, &[Filter::Flag { field: "enabled", value: true }]).await?;
            if channels.is_empty() {
                continue;
            }
            let due = [Filter::State("active".into()), Filter::Before { field: "next_due_on", date: clock::format_date(tomorrow) }];
            let schedules = self.all_where(&member, &SCHEDULE, &due).await?;
            if schedules.is_empty() {
                continue;
            }
            let now = clock::now_text();
            let mut tx = self.db.begin_write().await?;
            for schedule in &schedules {
                for channel in &channels {
                    let key = DeliveryKey {
                        org_id: org.id.clone(),
                        schedule_id: schedule.id.clone(),
                        due_on: text(schedule, "next_due_on").to_owned(),
                        channel_id: channel.id.clone(),
                    };
                    report.recorded += usize::from(store::enqueue(&mut tx, &key, &now).await?);
                }
            }
            tx.commit().await?;
        }
        loop {
            let waiting = store::waiting(&self.db, &clock::now_text(), BATCH).await?;
            let mut claimed = 0;
            for delivery in &waiting {
                match self.deliver(delivery, settings).await? {
                    Some(true) => report.sent += 1,
                    Some(false) => report.failed += 1,
                    None => continue,
                }
                claimed += 1;
            }
            // A short batch was the last; one in which every delivery went to another
            // instance leaves the rest to the next tick.
            if waiting.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) || claimed == 0 {
                return Ok(report);
            }
        }
    }

    /// Claims and sends one delivery; `None` when another instance has it.
    async fn deliver(&self, delivery: &Delivery, settings: &SchedulerSettings) -> AppResult<Option<bool>> {
        let key = &delivery.key;
        let now = clock::now();
        let mut tx = self.db.begin_write().await?;
        let claimed = store::claim(&mut tx, key, &settings.instance, &clock::format(now), &clock::format(now + LEASE)).await?;
        tx.commit().await?;
        if !claimed {
            return Ok(None);
        }
        let attempt = delivery.attempts + 1;
        let result = self.attempt(key, settings).await;
        let sent_at = clock::now_text();
        let retry_at = clock::format(clock::now() + backoff(attempt));
        let (outcome, label, error) = match &result {
            Ok(()) => (Outcome::Sent { at: &sent_at }, "sent", None),
            Err(Failure::Retry(e)) if attempt < MAX_ATTEMPTS => {
                (Outcome::Retry { error: e, next_attempt_at: &retry_at }, "retrying", Some(e))
            }
            Err(Failure::Retry(e) | Failure::Final(e)) => (Outcome::Failed { error: e }, "failed", Some(e)),
        };
        let channel_name = self.channel_name(key).await;
        let mut tx = self.db.begin_write().await?;
        store::finish(&mut tx, key, &settings.instance, outcome).await?;
        let changes = json!({
            "due_on": key.due_on,
            "channel_id": key.channel_id,
            "channel": channel_name,
            "outcome": label,
            "attempt": attempt,
            "error": error,
        });
        activity::append(
            &mut tx,
            &key.org_id,
            &Actor::System("scheduler"),
            NewEvent { action: "remind", record_type: SCHEDULE.kind, record_id: &key.schedule_id, changes },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(result.is_ok()))
    }

    async fn channel_name(&self, key: &DeliveryKey) -> Value {
        match aims_store::records::get(&self.db, &key.org_id, NOTIFICATION_CHANNEL.kind, &RecordKey::Id(&key.channel_id)).await {
            Ok(Some(channel)) => json!(text(&channel, "name")),
            _ => Value::Null,
        }
    }

    /// Sends one reminder; a schedule or channel that no longer qualifies is a final failure.
    async fn attempt(&self, key: &DeliveryKey, settings: &SchedulerSettings) -> Result<(), Failure> {
        let Some(org) = orgs::all(&self.db).await.map_err(retry)?.into_iter().find(|o| o.id == key.org_id) else {
            return Err(Failure::Final("the organisation is gone".into()));
        };
        let schedule =
            aims_store::records::get(&self.db, &key.org_id, SCHEDULE.kind, &RecordKey::Id(&key.schedule_id)).await.map_err(retry)?;
        let channel = aims_store::records::get(&self.db, &key.org_id, NOTIFICATION_CHANNEL.kind, &RecordKey::Id(&key.channel_id))
            .await
            .map_err(retry)?;
        let (Some(schedule), Some(channel)) = (schedule, channel) else {
            return Err(Failure::Final("the schedule or the channel is gone".into()));
        };
        if channel.archived || channel.data.get("enabled").and_then(Value::as_bool) != Some(true) {
            return Err(Failure::Final("the channel was disabled".into()));
        }
        if schedule.archived || schedule.state.as_deref() != Some("active") {
            return Err(Failure::Final("the review was paused or archived".into()));
        }
        let channel = self.channel_for_sending(&key.org_id, &channel).await.map_err(|e| Failure::Final(e.to_string()))?;
        let reminder = self.reminder(&org, &schedule, &key.due_on, settings).await.map_err(retry)?;
        notify::send(&channel, &reminder).await.map_err(Failure::Retry)
    }

    /// What a reminder of `schedule` due on `due_on` says.
    async fn reminder(&self, org: &Organization, schedule: &Record, due_on: &str, settings: &SchedulerSettings) -> AppResult<Reminder> {
        let base = format!("{}/orgs/{}", settings.public_url, org.slug);
        let members: HashMap<String, String> = orgs::members(&self.db, &org.id).await?.into_iter().map(|m| (m.user_id, m.email)).collect();
        let mut records = Vec::new();
        for field in SCHEDULE.fields {
            let aims_domain::validate::FieldType::Ids { kind } = field.ty else { continue };
            let Some(spec) = kinds::by_kind(kind) else { continue };
            let ids: Vec<String> = schedule
                .data
                .get(field.name)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            for id in ids {
                if let Some(record) = aims_store::records::get(&self.db, &org.id, kind, &RecordKey::Id(&id)).await? {
                    let name = ["title", "name"].iter().map(|f| text(&record, f)).find(|t| !t.is_empty()).unwrap_or(&id).to_owned();
                    records.push((spec.label.to_owned(), name, format!("{base}/{}/{id}", spec.collection)));
                }
            }
        }
        Ok(Reminder {
            org_slug: org.slug.clone(),
            org_name: org.name.clone(),
            schedule_id: schedule.id.clone(),
            title: text(schedule, "title").to_owned(),
            subject: text(schedule, "subject").to_owned(),
            frequency: text(schedule, "frequency").to_owned(),
            due_on: due_on.to_owned(),
            overdue: due_on < clock::format_date(clock::today()).as_str(),
            owner: schedule.data.get("owner_id").and_then(Value::as_str).and_then(|id| members.get(id)).cloned(),
            link: format!("{base}/schedules/{}", schedule.id),
            records,
        })
    }
}

enum Failure {
    /// Worth trying again (the server or network refused this time).
    Retry(String),
    /// No retry can mend it.
    Final(String),
}

fn retry(e: impl std::fmt::Display) -> Failure {
    Failure::Retry(e.to_string())
}

/// The wait before attempt `attempt + 1`: a minute, doubling, at most an hour.
pub fn backoff(attempt: i64) -> time::Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 6)).unwrap_or(6);
    time::Duration::minutes(1i64 << doublings).min(time::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1), time::Duration::minutes(1));
        assert_eq!(backoff(2), time::Duration::minutes(2));
        assert_eq!(backoff(4), time::Duration::minutes(8));
        assert_eq!(backoff(7), time::Duration::hours(1));
        assert_eq!(backoff(100), time::Duration::hours(1));
    }
}
