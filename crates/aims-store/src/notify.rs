//! Notification channels' sealed secrets and the scheduler's deliveries (migration 12).
//!
//! A delivery is one reminder of one schedule's due date by one channel. Its row is inserted
//! before anything is sent, keyed by (organisation, schedule, due date, channel), so every
//! instance sharing the database agrees there is one. Sending it is claimed by a conditional
//! update that only one writer can win (pending, not leased by another, its attempt due): on
//! PostgreSQL the second update waits for the first's row lock and then finds the lease taken;
//! on SQLite writers are serialised anyway.

use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

/// The `channel_id` of secrets written while their channel is being created.
pub const PENDING: &str = "pending";

/// Stores (or replaces) a sealed secret of a channel.
pub async fn put_secret(tx: &mut WriteTx, org_id: &str, channel_id: &str, field: &str, sealed: &str, now: &str) -> StoreResult<()> {
    tx.query(
        "INSERT INTO channel_secrets (org_id, channel_id, field, sealed, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, channel_id, field) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(channel_id)
    .bind(field)
    .bind(sealed)
    .bind(now)
    .execute()
    .await?;
    Ok(())
}

pub async fn delete_secret(tx: &mut WriteTx, org_id: &str, channel_id: &str, field: &str) -> StoreResult<()> {
    tx.query("DELETE FROM channel_secrets WHERE org_id = $1 AND channel_id = $2 AND field = $3")
        .bind(org_id)
        .bind(channel_id)
        .bind(field)
        .execute()
        .await?;
    Ok(())
}

/// Gives the secrets written before the channel existed to the channel just inserted, in the
/// same transaction.
pub async fn adopt_pending_secrets(tx: &mut WriteTx, org_id: &str, channel_id: &str) -> StoreResult<()> {
    tx.query("UPDATE channel_secrets SET channel_id = $2 WHERE org_id = $1 AND channel_id = $3")
        .bind(org_id)
        .bind(channel_id)
        .bind(PENDING)
        .execute()
        .await?;
    Ok(())
}

/// The sealed secret of a channel, if one is stored.
pub async fn secret(db: &Db, org_id: &str, channel_id: &str, field: &str) -> StoreResult<Option<String>> {
    let sql = "SELECT sealed FROM channel_secrets WHERE org_id = $1 AND channel_id = $2 AND field = $3";
    let row: Option<(String,)> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(channel_id).bind(field).fetch_optional(pool).await?);
    Ok(row.map(|(sealed,)| sealed))
}

/// Which reminder a delivery is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryKey {
    pub org_id: String,
    pub schedule_id: String,
    pub due_on: String,
    pub channel_id: String,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub key: DeliveryKey,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

type DeliveryRow = (String, String, String, String, String, i64, Option<String>, Option<String>);

fn delivery((org_id, schedule_id, due_on, channel_id, status, attempts, last_error, sent_at): DeliveryRow) -> Delivery {
    Delivery { key: DeliveryKey { org_id, schedule_id, due_on, channel_id }, status, attempts, last_error, sent_at }
}

const DELIVERY_COLUMNS: &str = "org_id, schedule_id, due_on, channel_id, status, attempts, last_error, sent_at";

/// Records that a reminder is owed; true when this call added it (false: it was known).
pub async fn enqueue(tx: &mut WriteTx, key: &DeliveryKey, now: &str) -> StoreResult<bool> {
    let added = tx
        .query(
            "INSERT INTO notification_deliveries (org_id, schedule_id, due_on, channel_id, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (org_id, schedule_id, due_on, channel_id) DO NOTHING",
        )
        .bind(&key.org_id)
        .bind(&key.schedule_id)
        .bind(&key.due_on)
        .bind(&key.channel_id)
        .bind(now)
        .execute()
        .await?;
    Ok(added == 1)
}

/// Deliveries waiting to be sent (or retried) now, oldest first, at most `limit` of them.
pub async fn waiting(db: &Db, now: &str, limit: i64) -> StoreResult<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at, org_id, schedule_id, due_on, channel_id LIMIT $2"
    );
    let rows: Vec<DeliveryRow> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(pool).await?);
    Ok(rows.into_iter().map(delivery).collect())
}

/// The deliveries of one schedule (every due date and channel).
pub async fn of_schedule(db: &Db, org_id: &str, schedule_id: &str) -> StoreResult<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE org_id = $1 AND schedule_id = $2 ORDER BY due_on, channel_id"
    );
    let rows: Vec<DeliveryRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(schedule_id).fetch_all(pool).await?);
    Ok(rows.into_iter().map(delivery).collect())
}

/// Takes the delivery for `claimer` until `until`, counting an attempt; false when another
/// instance holds it, it was sent, or its next attempt is not due yet.
pub async fn claim(tx: &mut WriteTx, key: &DeliveryKey, claimer: &str, now: &str, until: &str) -> StoreResult<bool> {
    let claimed = tx
        .query(
            "UPDATE notification_deliveries SET claimed_by = $5, claimed_until = $7, attempts = attempts + 1 \
             WHERE org_id = $1 AND schedule_id = $2 AND due_on = $3 AND channel_id = $4 AND status = 'pending' \
             AND next_attempt_at <= $6 AND (claimed_until IS NULL OR claimed_until < $6)",
        )
        .bind(&key.org_id)
        .bind(&key.schedule_id)
        .bind(&key.due_on)
        .bind(&key.channel_id)
        .bind(claimer)
        .bind(now)
        .bind(until)
        .execute()
        .await?;
    Ok(claimed == 1)
}

/// What came of an attempt.
pub enum Outcome<'a> {
    Sent {
        at: &'a str,
    },
    /// Retry at `next_attempt_at`.
    Retry {
        error: &'a str,
        next_attempt_at: &'a str,
    },
    /// Given up after too many attempts (or a failure no retry can mend).
    Failed {
        error: &'a str,
    },
}

/// Records an attempt's outcome and releases the claim (only the claimer's).
pub async fn finish(tx: &mut WriteTx, key: &DeliveryKey, claimer: &str, outcome: Outcome<'_>) -> StoreResult<()> {
    let (status, error, next, sent) = match outcome {
        Outcome::Sent { at } => ("sent", None, None, Some(at)),
        Outcome::Retry { error, next_attempt_at } => ("pending", Some(error), Some(next_attempt_at), None),
        Outcome::Failed { error } => ("failed", Some(error), None, None),
    };
    tx.query(
        "UPDATE notification_deliveries SET status = $6, last_error = $7, next_attempt_at = COALESCE($8, next_attempt_at), \
         sent_at = $9, claimed_by = NULL, claimed_until = NULL \
         WHERE org_id = $1 AND schedule_id = $2 AND due_on = $3 AND channel_id = $4 AND claimed_by = $5",
    )
    .bind(&key.org_id)
    .bind(&key.schedule_id)
    .bind(&key.due_on)
    .bind(&key.channel_id)
    .bind(claimer)
    .bind(status)
    .bind(error)
    .bind(next)
    .bind(sent)
    .execute()
    .await?;
    Ok(())
}
