//! The activity log: the only code that writes `activity_log`. Events are appended inside the
//! caller's write transaction, so a change and its event commit or roll back together.

use aims_domain::chain::{self, EventContent, Head, StoredEvent};
use aims_domain::workflow::HistoryEvent;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::db::{Backend, Db, WriteTx};
use crate::error::{StoreError, StoreResult};
use crate::model::{ActivityEvent, Actor, Page};
use crate::sql::Query;

/// What a change to one record was, to be logged.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub changes: Value,
}

/// Appends one event to an organisation's chain within `tx`.
pub async fn append(tx: &mut WriteTx, org_id: &str, actor: &Actor, event: NewEvent<'_>) -> StoreResult<ActivityEvent> {
    // PostgreSQL: the row lock on the organisation serialises appends to its chain. It is a
    // NO KEY UPDATE lock: the foreign-key checks of the same transactions hold KEY SHARE locks
    // on that row, which a FOR UPDATE would have to wait for — two writers would deadlock.
    // SQLite already holds the database write lock (BEGIN IMMEDIATE).
    let head_sql = match tx.backend() {
        Backend::Postgres => "SELECT log_seq, log_head FROM organizations WHERE id = $1 FOR NO KEY UPDATE",
        Backend::Sqlite => "SELECT log_seq, log_head FROM organizations WHERE id = $1",
    };
    let (seq, hash): (i64, String) = tx.query(head_sql).bind(org_id).fetch_optional().await?.ok_or(StoreError::NotFound)?;
    append_to_locked(tx, org_id, actor, event, Head { seq, hash }).await
}

/// Appends one event after `head`, which this transaction read under the organisation's row
/// lock (`records::insert_with_links`) and has not appended to since.
pub async fn append_to_locked(
    tx: &mut WriteTx,
    org_id: &str,
    actor: &Actor,
    event: NewEvent<'_>,
    head: Head,
) -> StoreResult<ActivityEvent> {
    let Head { seq: last_seq, hash: last_hash } = head;
    let content = EventContent {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org_id.to_owned(),
        seq: last_seq + 1,
        at: aims_domain::clock::now_text(),
        actor: actor.label(),
        action: event.action.to_owned(),
        record_type: event.record_type.to_owned(),
        record_id: event.record_id.to_owned(),
        changes: event.changes,
    };
    let sealed = chain::seal(content, &last_hash);
    let c = &sealed.content;
    let changes_text = c.changes.to_string();
    // The event and the new head of the chain: one statement on PostgreSQL (a round trip
    // saved while the organisation's row is locked), two on SQLite.
    const INSERT: &str = "INSERT INTO activity_log (org_id, seq, id, at, actor, action, record_type, record_id, changes, prev_hash, hash, canonical) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    match tx.backend() {
        Backend::Postgres => {
            let sql =
                format!("WITH appended AS ({INSERT} RETURNING seq) UPDATE organizations SET log_seq = $2, log_head = $11 WHERE id = $1");
            bind_event(tx.query(&sql), org_id, c.seq, &sealed, &changes_text).execute().await?;
        }
        Backend::Sqlite => {
            bind_event(tx.query(INSERT), org_id, c.seq, &sealed, &changes_text).execute().await?;
            tx.query("UPDATE organizations SET log_seq = $1, log_head = $2 WHERE id = $3")
                .bind(c.seq)
                .bind(&sealed.hash)
                .bind(org_id)
                .execute()
                .await?;
        }
    }
    Ok(ActivityEvent {
        id: c.id.clone(),
        seq: c.seq,
        at: c.at.clone(),
        actor: c.actor.clone(),
        action: c.action.clone(),
        record_type: c.record_type.clone(),
        record_id: c.record_id.clone(),
        changes: c.changes.clone(),
        prev_hash: sealed.prev_hash.clone(),
        hash: sealed.hash.clone(),
    })
}

/// Binds `$1`…`$12` of the event insert.
fn bind_event<'t, 'q>(query: Query<'t, 'q>, org_id: &'q str, seq: i64, sealed: &'q StoredEvent, changes: &'q str) -> Query<'t, 'q> {
    let c = &sealed.content;
    query
        .bind(org_id)
        .bind(seq)
        .bind(&c.id)
        .bind(&c.at)
        .bind(&c.actor)
        .bind(&c.action)
        .bind(&c.record_type)
        .bind(&c.record_id)
        .bind(changes)
        .bind(&sealed.prev_hash)
        .bind(&sealed.hash)
        .bind(&sealed.canonical)
}

/// Filters of the activity list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub actor: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// The order of an activity list. Chain order (oldest first) is how auditors verify the log;
/// newest first is how people read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Chain,
    Newest,
}

type EventRow = (String, i64, String, String, String, String, String, String, String, String);

fn event_from_row(row: EventRow) -> StoreResult<ActivityEvent> {
    let (id, seq, at, actor, action, record_type, record_id, changes, prev_hash, hash) = row;
    let changes = serde_json::from_str(&changes).map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?;
    Ok(ActivityEvent { id, seq, at, actor, action, record_type, record_id, changes, prev_hash, hash })
}

/// One page of an organisation's events in chain order, after `after_seq`. `limit = None`
/// returns every matching event (for exports).
pub async fn list(db: &Db, org_id: &str, filter: &ActivityFilter, after_seq: i64, limit: Option<u32>) -> StoreResult<Page<ActivityEvent>> {
    list_ordered(db, org_id, filter, Order::Chain, after_seq, limit).await
}

/// One page of an organisation's events in `order`. The cursor is a sequence number: the
/// page holds events after it (chain order) or before it (newest first; 0 means "from the
/// head"). `limit = None` returns every matching event (for exports).
pub async fn list_ordered(
    db: &Db,
    org_id: &str,
    filter: &ActivityFilter,
    order: Order,
    cursor: i64,
    limit: Option<u32>,
) -> StoreResult<Page<ActivityEvent>> {
    const COLUMNS: &str = "SELECT id, seq, at, actor, action, record_type, record_id, changes, prev_hash, hash FROM activity_log \
                           WHERE org_id = $1 AND ($3 IS NULL OR record_type = $3) AND ($4 IS NULL OR record_id = $4) \
                           AND ($5 IS NULL OR actor = $5) AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7)";
    let (sql, bound) = match order {
        Order::Chain => (format!("{COLUMNS} AND seq > $2 ORDER BY seq LIMIT $8"), cursor),
        Order::Newest => (format!("{COLUMNS} AND seq < $2 ORDER BY seq DESC LIMIT $8"), if cursor > 0 { cursor } else { i64::MAX }),
    };
    let fetch = limit.map_or(i64::MAX, |l| i64::from(l) + 1);
    let rows: Vec<EventRow> = on_pool!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(org_id).bind(bound).bind(&filter.record_type).bind(&filter.record_id).bind(&filter.actor)
            .bind(&filter.since).bind(&filter.until).bind(fetch)
            .fetch_all(pool).await?
    });
    let events = rows.into_iter().map(event_from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(match limit {
        Some(limit) => Page::from_overfetch(events, limit, |e| e.seq),
        None => Page { items: events, next_after: None },
    })
}

/// The record types an organisation's log holds, sorted. A loose index scan over
/// `activity_log_by_type` (one probe per type), so it stays quick on a long log.
pub async fn record_types(db: &Db, org_id: &str) -> StoreResult<Vec<String>> {
    let sql = "WITH RECURSIVE t(rt) AS ( \
                 SELECT MIN(record_type) FROM activity_log WHERE org_id = $1 \
                 UNION ALL \
                 SELECT (SELECT MIN(record_type) FROM activity_log WHERE org_id = $1 AND record_type > t.rt) FROM t WHERE t.rt IS NOT NULL \
               ) SELECT rt FROM t WHERE rt IS NOT NULL";
    let rows: Vec<(String,)> = on_pool!(db, pool => { sqlx::query_as(sql).bind(org_id).fetch_all(pool).await? });
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// Events read per page while verifying: large enough that a page's round trip is a small
/// part of its cost, small enough that the page is a few hundred kilobytes.
const VERIFY_PAGE: i64 = 2000;

/// How far a verification has come: the last event checked and the head it walks towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub checked_seq: i64,
    pub head_seq: i64,
}

/// A chain found intact from `from_seq` (0: its start) up to its recorded `head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub from_seq: i64,
    pub head: Head,
}

/// Verifies an organisation's chain against its recorded head, from its start or from a
/// `checkpoint` (a head recorded earlier), so a daily check reads only the events added since.
///
/// Streams: pages of [`VERIFY_PAGE`] events in key order (`(org_id, seq)`, the primary key, so
/// every page is an index range read whatever the planner's statistics say), each hashed as it
/// arrives and dropped; memory does not grow with the log. `progress` is called after each page.
pub async fn verify(
    db: &Db,
    org_id: &str,
    checkpoint: Option<&Head>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> StoreResult<Result<Verified, chain::ChainBreak>> {
    let (seq, hash) = head(db, org_id).await?;
    let head = Head { seq, hash };
    let start = match checkpoint {
        Some(checkpoint) => match check_checkpoint(db, org_id, checkpoint, &head).await? {
            Ok(()) => checkpoint.clone(),
            Err(broken) => return Ok(Err(broken)),
        },
        None => Head { seq: 0, hash: chain::GENESIS.to_owned() },
    };
    let verifier = chain::Verifier::resume(org_id, &start);
    let walked = match db {
        Db::Sqlite(_, readers, _) => {
            let read_page = |after| readers.run(move |connection| read_page_sqlite(connection, org_id, after));
            walk(verifier, start.seq, head.seq, read_page, SqlitePage::check, progress).await?
        }
        Db::Postgres(_, readers, _) => {
            let client = readers.pipelined.dedicated().await?;
            let statement = client.prepare(VERIFY_PAGE_SQL).await?;
            let read_page = |after| read_page_postgres(&client, &statement, org_id, after);
            walk(verifier, start.seq, head.seq, read_page, check_page_postgres, progress).await?
        }
    };
    Ok(walked.and_then(|verifier| verifier.finish(&head)).map(|()| Verified { from_seq: start.seq, head }))
}

/// Checks that the stored chain still holds `checkpoint`: its event is there, with that hash.
/// (The events before it were verified when the checkpoint was recorded.)
async fn check_checkpoint(db: &Db, org_id: &str, checkpoint: &Head, head: &Head) -> StoreResult<Result<(), chain::ChainBreak>> {
    let broken = |id: &str, reason: String| Ok(Err(chain::ChainBreak { seq: checkpoint.seq, id: id.to_owned(), reason }));
    if checkpoint.seq > head.seq {
        return broken("-", format!("the checkpoint is past the recorded head (seq {}): events were removed", head.seq));
    }
    if checkpoint.seq == 0 {
        return if checkpoint.hash == chain::GENESIS { Ok(Ok(())) } else { broken("-", "a chain starts from the genesis hash".into()) };
    }
    let stored: Option<(String, String)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT id, hash FROM activity_log WHERE org_id = $1 AND seq = $2")
            .bind(org_id).bind(checkpoint.seq).fetch_optional(pool).await?
    });
    match stored {
        None => broken("-", "the checkpoint's event is missing: events were removed".into()),
        Some((id, hash)) if hash != checkpoint.hash => {
            broken(&id, "the event's hash differs from the checkpoint: the history up to it was rewritten".into())
        }
        Some(_) => Ok(Ok(())),
    }
}

/// One page of the walk: ordered by the storage key (`(org_id, seq)`, the primary key, so every
/// page is an index range read whatever the planner's statistics say), and a reordered or
/// renumbered row shows up as a sequence or link break at its new position.
const VERIFY_PAGE_SQL: &str = "SELECT id, org_id, seq, at, actor, action, record_type, record_id, changes, prev_hash, hash, canonical \
                               FROM activity_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// Pages read ahead of the checking: with the page being checked and the one being read, a walk
/// holds three pages (about 10 MB of events of 1.6 KB).
const PAGES_AHEAD: usize = 1;

/// Reads pages of the chain after `after` and checks them on two cores at once: this task reads
/// (on SQLite it steps the statement, on PostgreSQL it receives the rows the server reads on
/// its own core) and hands each page, owned, over a bounded channel to a blocking thread that
/// hashes and checks it. On one core, reading and hashing took 2 µs an event between them.
/// `read_page` gives a page and its last sequence number, `None` past the end of the log.
/// The verifier comes back when the pages end intact; otherwise the first break.
async fn walk<P, R, F>(
    mut verifier: chain::Verifier,
    mut after: i64,
    head_seq: i64,
    mut read_page: R,
    check_page: fn(&P, &mut chain::Verifier) -> StoreResult<Option<chain::ChainBreak>>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> StoreResult<Result<chain::Verifier, chain::ChainBreak>>
where
    P: Send + 'static,
    R: FnMut(i64) -> F,
    F: std::future::Future<Output = StoreResult<Option<(P, i64)>>>,
{
    let (pages, mut incoming) = tokio::sync::mpsc::channel::<P>(PAGES_AHEAD);
    let checked_seq = Arc::new(AtomicI64::new(after));
    let checker = tokio::task::spawn_blocking({
        let checked_seq = checked_seq.clone();
        move || -> StoreResult<Result<chain::Verifier, chain::ChainBreak>> {
            while let Some(page) = incoming.blocking_recv() {
                if let Some(broken) = check_page(&page, &mut verifier)? {
                    return Ok(Err(broken));
                }
                checked_seq.store(verifier.verified_up_to(), Ordering::Relaxed);
            }
            Ok(Ok(verifier))
        }
    });
    let read: StoreResult<()> = async {
        while let Some((page, last_seq)) = read_page(after).await? {
            after = last_seq;
            if pages.send(page).await.is_err() {
                break; // the checker stopped at a break
            }
            progress(Progress { checked_seq: checked_seq.load(Ordering::Relaxed), head_seq });
        }
        Ok(())
    }
    .await;
    drop(pages);
    let checked = checker.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    match checked {
        Err(broken) => Ok(Err(broken)),
        Ok(verifier) => {
            read?;
            progress(Progress { checked_seq: verifier.verified_up_to(), head_seq });
            Ok(Ok(verifier))
        }
    }
}

/// A page of SQLite rows copied out of the statement (whose buffers last only until its next
/// step), so that it can cross to the checker: the text columns of every row one after another
/// in one string, and per row its sequence number and where each text column ends.
struct SqlitePage {
    text: String,
    rows: Vec<(i64, [usize; 11])>,
}

/// The text columns of [`VERIFY_PAGE_SQL`] (all but `seq`, column 2).
const TEXT_COLUMNS: [usize; 11] = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11];

impl SqlitePage {
    fn check(&self, verifier: &mut chain::Verifier) -> StoreResult<Option<chain::ChainBreak>> {
        let mut start = 0;
        for (seq, ends) in &self.rows {
            let [id, org_id, at, actor, action, record_type, record_id, changes, prev_hash, hash, canonical] = ends.map(|end| {
                let column = &self.text[start..end];
                start = end;
                column
            });
            let event =
                chain::EventRow { id, org_id, seq: *seq, at, actor, action, record_type, record_id, changes, prev_hash, hash, canonical };
            if let Err(broken) = verifier.check_row(&event) {
                return Ok(Some(broken));
            }
        }
        Ok(None)
    }
}

/// Reads the page after `after` on SQLite, on a plain read-only connection on the calling
/// thread (a page is a couple of milliseconds). The connection's page cache is SQLite's default
/// 2 MB, so a walk stays small.
fn read_page_sqlite(connection: &rusqlite::Connection, org_id: &str, after: i64) -> rusqlite::Result<Option<(SqlitePage, i64)>> {
    let mut statement = connection.prepare_cached(crate::readers::sqlite_text!(VERIFY_PAGE_SQL))?;
    let mut rows = statement.query(rusqlite::params![org_id, after, VERIFY_PAGE])?;
    let mut page = SqlitePage { text: String::with_capacity(4 << 20), rows: Vec::with_capacity(VERIFY_PAGE as usize) };
    while let Some(row) = rows.next()? {
        let mut ends = [0; 11];
        for (end, column) in ends.iter_mut().zip(TEXT_COLUMNS) {
            page.text.push_str(row.get_ref(column)?.as_str()?);
            *end = page.text.len();
        }
        page.rows.push((row.get(2)?, ends));
    }
    Ok(page.rows.last().map(|(last_seq, _)| *last_seq).map(|last_seq| (page, last_seq)))
}

/// Reads the page after `after` on PostgreSQL, on the walk's own tokio-postgres connection:
/// its rows arrive in the binary format, and a text column is read in place from the row's
/// buffer (sqlx spent 3–4 µs of CPU an event decoding the same rows).
async fn read_page_postgres(
    client: &tokio_postgres::Client,
    statement: &tokio_postgres::Statement,
    org_id: &str,
    after: i64,
) -> StoreResult<Option<(Vec<tokio_postgres::Row>, i64)>> {
    let rows = client.query(statement, &[&org_id, &after, &VERIFY_PAGE]).await?;
    let last_seq = match rows.last() {
        Some(last) => last.try_get(2)?,
        None => return Ok(None),
    };
    Ok(Some((rows, last_seq)))
}

/// Checks a page of PostgreSQL rows, each column read in place from its row.
fn check_page_postgres(rows: &Vec<tokio_postgres::Row>, verifier: &mut chain::Verifier) -> StoreResult<Option<chain::ChainBreak>> {
    for row in rows {
        let event = chain::EventRow {
            id: row.try_get(0)?,
            org_id: row.try_get(1)?,
            seq: row.try_get(2)?,
            at: row.try_get(3)?,
            actor: row.try_get(4)?,
            action: row.try_get(5)?,
            record_type: row.try_get(6)?,
            record_id: row.try_get(7)?,
            changes: row.try_get(8)?,
            prev_hash: row.try_get(9)?,
            hash: row.try_get(10)?,
            canonical: row.try_get(11)?,
        };
        if let Err(broken) = verifier.check_row(&event) {
            return Ok(Some(broken));
        }
    }
    Ok(None)
}

/// The recorded head of an organisation's chain: `(seq, hash)`.
pub async fn head(db: &Db, org_id: &str) -> StoreResult<(i64, String)> {
    on_pool!(db, pool => {
        sqlx::query_as("SELECT log_seq, log_head FROM organizations WHERE id = $1").bind(org_id).fetch_optional(pool).await?
    })
    .ok_or(StoreError::NotFound)
}

/// Every event of one record, oldest first, as the separation-of-duties judgement reads it
/// (read in the deciding transaction, so no change slips in between).
pub async fn record_history(tx: &mut WriteTx, org_id: &str, record_id: &str) -> StoreResult<Vec<HistoryEvent>> {
    let rows: Vec<(i64, String, String, String)> = tx
        .query("SELECT seq, actor, action, changes FROM activity_log WHERE org_id = $1 AND record_id = $2 ORDER BY seq")
        .bind(org_id)
        .bind(record_id)
        .fetch_all()
        .await?;
    rows.into_iter().map(history_event).collect()
}

/// The content changes (`create`, `update`, `archive`) of every record of a kind after
/// `after_seq`, oldest first: who changed the SoA's entries since its last approval. Read
/// through `activity_log_by_type` (migration 8).
pub async fn kind_changes_since(tx: &mut WriteTx, org_id: &str, record_type: &str, after_seq: i64) -> StoreResult<Vec<HistoryEvent>> {
    let rows: Vec<(i64, String, String, String)> = tx
        .query(
            "SELECT seq, actor, action, changes FROM activity_log WHERE org_id = $1 AND record_type = $2 AND seq > $3 \
             AND action IN ('create', 'update', 'archive') ORDER BY seq",
        )
        .bind(org_id)
        .bind(record_type)
        .bind(after_seq)
        .fetch_all()
        .await?;
    rows.into_iter().map(history_event).collect()
}

/// Who wrote any event of one record between `from` (inclusive) and `until` (exclusive), both
/// stored timestamps or dates (stored timestamps are fixed-width UTC text, so text order is time
/// order): whether an auditor changed a record in the audited period.
pub async fn actors_between(tx: &mut WriteTx, org_id: &str, record_id: &str, from: &str, until: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = tx
        .query("SELECT DISTINCT actor FROM activity_log WHERE org_id = $1 AND record_id = $2 AND at >= $3 AND at < $4")
        .bind(org_id)
        .bind(record_id)
        .bind(from)
        .bind(until)
        .fetch_all()
        .await?;
    Ok(rows.into_iter().map(|(actor,)| actor).collect())
}

fn history_event((seq, actor, action, changes): (i64, String, String, String)) -> StoreResult<HistoryEvent> {
    let changes = serde_json::from_str(&changes).map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
    Ok(HistoryEvent { seq, actor, action, changes })
}

/// Events of an organisation's chain after `after`, up to `to_seq`, at most `limit`: a page of
/// a signed export. On SQLite it reads over the plain read-only connections, whose page cache
/// is SQLite's default 2 MB (the pool's connections keep 32 MB each, and a walk through the
/// whole log over them filled one cache after another); so an export, like a verification,
/// stays small however long the log.
pub async fn chain_page(db: &Db, org_id: &str, after: i64, to_seq: i64, limit: i64) -> StoreResult<Vec<ActivityEvent>> {
    const SQL: &str = "SELECT id, seq, at, actor, action, record_type, record_id, changes, prev_hash, hash FROM activity_log \
                       WHERE org_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4";
    let rows: Vec<EventRow> = match db {
        Db::Sqlite(_, readers, _) => {
            readers
                .run(|connection| {
                    let mut statement = connection.prepare_cached(crate::readers::sqlite_text!(SQL))?;
                    let rows = statement.query_map(rusqlite::params![org_id, after, to_seq, limit], |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get(5)?,
                            row.get(6)?,
                            row.get(7)?,
                            row.get(8)?,
                            row.get(9)?,
                        ))
                    })?;
                    rows.collect::<rusqlite::Result<Vec<EventRow>>>()
                })
                .await?
        }
        Db::Postgres(pool, _, _) => sqlx::query_as(SQL).bind(org_id).bind(after).bind(to_seq).bind(limit).fetch_all(pool).await?,
    };
    rows.into_iter().map(event_from_row).collect()
}
