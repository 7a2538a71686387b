-- Notification channels' write-only secrets (an SMTP password, a webhook's signing secret),
-- sealed with AES-256-GCM under the server's key: never in the record's document, its events
-- or its revisions. `channel_id` is the record's id ('pending' only inside the transaction
-- that creates the channel, before its id exists).
CREATE TABLE channel_secrets (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    channel_id TEXT NOT NULL,
    field TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, channel_id, field)
);

-- One reminder per (schedule, due date, channel): the scheduler inserts the row before it
-- sends, and the key makes a second insert (another instance, another tick) do nothing. A
-- sender claims a row by a conditional update (status pending, not leased, next attempt due),
-- so one instance sends it; the outcome, attempts and the next retry are kept here.
CREATE TABLE notification_deliveries (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    schedule_id TEXT NOT NULL,
    due_on TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    last_error TEXT,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, schedule_id, due_on, channel_id)
);
CREATE INDEX notification_deliveries_waiting ON notification_deliveries (status, next_attempt_at);
