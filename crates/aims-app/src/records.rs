//! The generic record use cases: list, read, create, change (merge patch with If-Match),
//! archive and trace, for every kind described by a [`KindSpec`].

use aims_domain::kinds;
use aims_domain::policy::Action;
use aims_domain::validate::{FieldType, KindSpec, Revisions};
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Member, Page, Record, Revision};
use aims_store::page_json::{self, Filter, JsonPage, PageRequest, Sort};
use aims_store::records::{self, LinkTargets, LinkedRecord, NewRecord, RecordKey};

use crate::secrets::token_hash;
use aims_store::{StoreError, WriteTx, orgs};
use serde_json::{Map, Value, json};

use crate::access::{actor, require};
use crate::{App, AppError, AppResult};
use crate::{rules, transitions};

/// The most records a trace returns per group of links.
pub const TRACE_GROUP_LIMIT: i64 = 50;

fn key<'a>(spec: &KindSpec, segment: &'a str) -> RecordKey<'a> {
    if spec.addressed_by_ref { RecordKey::Ref(segment) } else { RecordKey::Id(segment) }
}

fn doc_key<'a>(spec: &KindSpec, segment: &'a str) -> page_json::Key<'a> {
    if spec.addressed_by_ref { page_json::Key::Ref(segment) } else { page_json::Key::Id(segment) }
}

pub(crate) fn not_found(spec: &KindSpec, segment: &str) -> AppError {
    AppError::NotFound(format!("{} {segment}", spec.label.to_lowercase()))
}

impl App {
    pub async fn list_records(
        &self,
        member: &Member,
        spec: &KindSpec,
        include_archived: bool,
        after_seq: i64,
        limit: u32,
    ) -> AppResult<Page<Record>> {
        require(member, Action::Read)?;
        Ok(records::list(&self.db, &member.org_id, spec.kind, include_archived, after_seq, limit).await?)
    }

    /// A page of records matching every filter (the lists of the web UI, with their search).
    pub async fn list_records_where(
        &self,
        member: &Member,
        spec: &KindSpec,
        include_archived: bool,
        filters: &[Filter],
        after_seq: i64,
        limit: u32,
    ) -> AppResult<Page<Record>> {
        require(member, Action::Read)?;
        let page = PageRequest { kind: spec.kind, include_archived, filters, after_seq, limit, prefix: "" };
        Ok(records::list_where(&self.db, &member.org_id, &page).await?)
    }

    /// [`list_records_where`](Self::list_records_where) in `sort`'s order; `after_seq` is the
    /// creation sequence of the previous page's last record.
    pub async fn list_records_sorted(
        &self,
        member: &Member,
        spec: &KindSpec,
        filters: &[Filter],
        sort: Sort,
        after_seq: i64,
        limit: u32,
    ) -> AppResult<Page<Record>> {
        require(member, Action::Read)?;
        let page = PageRequest { kind: spec.kind, include_archived: false, filters, after_seq, limit, prefix: "" };
        Ok(records::list_sorted(&self.db, &member.org_id, &page, sort).await?)
    }

    /// How many live records of `spec` match every filter.
    pub async fn count_records_where(&self, member: &Member, spec: &KindSpec, filters: &[Filter]) -> AppResult<i64> {
        require(member, Action::Read)?;
        Ok(records::count_where(&self.db, &member.org_id, spec.kind, filters).await?)
    }

    /// How many live records of `spec` hold each combination of the whole numbers in
    /// `fields`, over the whole organisation: `(values, count)`.
    pub async fn count_combinations(
        &self,
        member: &Member,
        spec: &KindSpec,
        fields: &[&'static str],
    ) -> AppResult<Vec<(Vec<Option<i64>>, i64)>> {
        require(member, Action::Read)?;
        Ok(records::count_combinations(&self.db, &member.org_id, spec.kind, fields).await?)
    }

    /// A page of stored record documents after `prefix` (the API's list route).
    pub async fn list_records_json(
        &self,
        member: &Member,
        spec: &KindSpec,
        include_archived: bool,
        filters: &[Filter],
        after_seq: i64,
        limit: u32,
        prefix: &'static str,
    ) -> AppResult<JsonPage> {
        require(member, Action::Read)?;
        let page = PageRequest { kind: spec.kind, include_archived, filters, after_seq, limit, prefix };
        Ok(page_json::list(&self.db, &member.org_id, &page).await?)
    }

    /// Authenticates an API token and lists a page — the API's hottest path: on SQLite one
    /// blocking call on a read connection does both. Same outcomes as [`App::authenticate_token`] then [`App::list_records_json`].
    pub async fn list_records_json_by_token(
        &self,
        secret: &str,
        org_slug: &str,
        spec: &KindSpec,
        include_archived: bool,
        filters: &[Filter],
        after_seq: i64,
        limit: u32,
        prefix: &'static str,
    ) -> AppResult<(Member, JsonPage)> {
        let (hash, now, now_text) = token_read(secret)?;
        let page = PageRequest { kind: spec.kind, include_archived, filters, after_seq, limit, prefix };
        if let Some(remembered) = self.remembered_check(&hash, &now_text, org_slug) {
            let (generation, org_id) = (remembered.checked.generation, &remembered.member.org_id);
            match page_json::list_if_generation(&self.db, generation, org_id, &page).await? {
                Some(page) => return self.admit_token_read(Some((remembered, page)), org_slug, now, &now_text),
                None => self.token_checks.forget(&hash),
            }
        }
        let found = page_json::list_with_token(&self.db, &hash, &now_text, org_slug, &page).await?;
        self.remember_check(&hash, &found);
        self.admit_token_read(found, org_slug, now, &now_text)
    }

    /// One record's version and stored JSON (the API's read route).
    pub async fn get_record_json(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<(i64, String)> {
        require(member, Action::Read)?;
        page_json::get_doc(&self.db, &member.org_id, spec.kind, doc_key(spec, segment)).await?.ok_or_else(|| not_found(spec, segment))
    }

    /// Authenticates an API token and reads one record — on SQLite in one blocking call. Same
    /// outcomes as [`App::authenticate_token`] then [`App::get_record_json`].
    pub async fn get_record_json_by_token(&self, secret: &str, org_slug: &str, spec: &KindSpec, segment: &str) -> AppResult<(i64, String)> {
        let (hash, now, now_text) = token_read(secret)?;
        let key = doc_key(spec, segment);
        if let Some(remembered) = self.remembered_check(&hash, &now_text, org_slug) {
            let (generation, org_id) = (remembered.checked.generation, &remembered.member.org_id);
            match page_json::get_doc_if_generation(&self.db, generation, org_id, spec.kind, key).await? {
                Some(doc) => {
                    let (_, doc) = self.admit_token_read(Some((remembered, doc)), org_slug, now, &now_text)?;
                    return doc.ok_or_else(|| not_found(spec, segment));
                }
                None => self.token_checks.forget(&hash),
            }
        }
        let found = page_json::get_doc_with_token(&self.db, &hash, &now_text, org_slug, spec.kind, key).await?;
        self.remember_check(&hash, &found);
        let (_, doc) = self.admit_token_read(found, org_slug, now, &now_text)?;
        doc.ok_or_else(|| not_found(spec, segment))
    }

    pub async fn get_record(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<Record> {
        require(member, Action::Read)?;
        records::get(&self.db, &member.org_id, spec.kind, &key(spec, segment)).await?.ok_or_else(|| not_found(spec, segment))
    }

    /// A record by its id, whatever the kind is addressed by in paths (references, singletons):
    /// the activity log names records by id.
    pub async fn get_record_by_id(&self, member: &Member, spec: &KindSpec, id: &str) -> AppResult<Record> {
        require(member, Action::Read)?;
        records::get(&self.db, &member.org_id, spec.kind, &RecordKey::Id(id)).await?.ok_or_else(|| not_found(spec, id))
    }

    pub async fn create_record(&self, member: &Member, spec: &KindSpec, input: &Value) -> AppResult<Record> {
        self.create_record_in(member, spec, input, None).await
    }

    /// Creates a record under a parent (`ai-systems/{id}/resources`): the parent link comes
    /// from the path.
    pub async fn create_child_record(&self, member: &Member, spec: &KindSpec, parent_segment: &str, input: &Value) -> AppResult<Record> {
        let parent = self.parent_of(member, spec, parent_segment).await?;
        self.create_record_in(member, spec, input, Some(parent)).await
    }

    async fn create_record_in(&self, member: &Member, spec: &KindSpec, input: &Value, parent: Option<Record>) -> AppResult<Record> {
        require(member, spec.write)?;
        if !spec.creatable || spec.singleton {
            return Err(AppError::Conflict(format!("{} cannot be created through the API", spec.plural_label.to_lowercase())));
        }
        if spec.uploads {
            return Err(ValidationErrors::single("file", "required", "upload a file with its metadata (multipart/form-data)").into());
        }
        let extra = rules::create_extras(spec);
        let mut errors = ValidationErrors::default();
        if let Err(e) = rules::check_create_extras(spec, input) {
            errors.0.extend(e.0);
        }
        let mut document = match spec.validate_create(input, extra) {
            Ok(document) => document,
            Err(e) => {
                errors.0.extend(e.0);
                Map::new()
            }
        };
        errors.into_result()?;
        if let (Some(parent_spec), Some(parent)) = (spec.parent, &parent) {
            document.insert(parent_spec.field.into(), json!(parent.id));
        }
        let mut tx = self.db.begin_write().await?;
        let mut draft = rules::Draft { reference: None, state: spec.initial_state.map(str::to_owned), document };
        rules::before_create(&mut tx, member, spec, input, &mut draft).await?;
        check_members(&mut tx, &member.org_id, Some(&member.user_id), spec, &draft.document).await?;
        let record = insert_logged(&mut tx, &member.org_id, &actor(member), spec, &draft).await?;
        rules::after_write(&mut tx, member, spec, None, &record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Applies a JSON merge patch to a record whose current version is `if_match`. A stale
    /// version is refused and nothing is written; a patch that changes nothing writes nothing.
    pub async fn patch_record(&self, member: &Member, spec: &KindSpec, segment: &str, if_match: i64, patch: &Value) -> AppResult<Record> {
        require(member, spec.write)?;
        let mut tx = self.db.begin_write().await?;
        let current = current_version(&mut tx, member, spec, segment, if_match).await?;
        rules::refuse_fixed_fields(spec, &current, patch)?;
        let document = spec.validate_patch(&current.data, patch)?;
        if diff(&current.data, &document).is_empty() {
            return Ok(current);
        }
        let mut draft = rules::Draft { reference: current.reference.clone(), state: current.state.clone(), document };
        rules::before_update(&mut tx, member, spec, &current, &mut draft).await?;
        check_references(&mut tx, &member.org_id, Some(&member.user_id), spec, &draft.document).await?;
        let updated = update_logged(&mut tx, &member.org_id, &actor(member), spec, &current, &draft, current.archived, "update").await?;
        rules::after_write(&mut tx, member, spec, Some(&current), &updated).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Archives a record (records are never erased through the API).
    pub async fn archive_record(&self, member: &Member, spec: &KindSpec, segment: &str, if_match: i64) -> AppResult<Record> {
        require(member, spec.write)?;
        let mut tx = self.db.begin_write().await?;
        let current = current_version(&mut tx, member, spec, segment, if_match).await?;
        if !spec.creatable || spec.singleton || current.data.get("source").and_then(Value::as_str) == Some("iso42001") {
            return Err(AppError::Conflict("catalogue rows cannot be archived; mark a control excluded instead".into()));
        }
        if current.archived {
            return Err(AppError::Conflict(format!("{} {segment} is already archived", spec.label.to_lowercase())));
        }
        let draft = rules::Draft { reference: current.reference.clone(), state: current.state.clone(), document: current.data.clone() };
        let updated = update_logged(&mut tx, &member.org_id, &actor(member), spec, &current, &draft, true, "archive").await?;
        rules::after_write(&mut tx, member, spec, Some(&current), &updated).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The one record of a singleton kind (`scope`, `risk-criteria`).
    pub async fn get_singleton(&self, member: &Member, spec: &KindSpec) -> AppResult<Record> {
        require(member, Action::Read)?;
        let page = records::list(&self.db, &member.org_id, spec.kind, true, 0, 1).await?;
        page.items.into_iter().next().ok_or_else(|| not_found(spec, "of this organisation"))
    }

    pub async fn patch_singleton(&self, member: &Member, spec: &KindSpec, if_match: i64, patch: &Value) -> AppResult<Record> {
        let record = self.get_singleton(member, spec).await?;
        self.patch_record(member, spec, &record.id, if_match, patch).await
    }

    /// Records of a kind under one parent record, in creation order.
    pub async fn list_children(
        &self,
        member: &Member,
        spec: &KindSpec,
        parent_segment: &str,
        after_seq: i64,
        limit: u32,
    ) -> AppResult<Page<Record>> {
        let parent = self.parent_of(member, spec, parent_segment).await?;
        let field = spec.parent.map_or("", |p| p.field);
        Ok(records::list_linked(&self.db, &member.org_id, spec.kind, field, &parent.id, after_seq, limit).await?)
    }

    /// A child record, checked to belong to the parent in the path.
    pub async fn get_child(&self, member: &Member, spec: &KindSpec, parent_segment: &str, segment: &str) -> AppResult<Record> {
        let parent = self.parent_of(member, spec, parent_segment).await?;
        let record = self.get_record(member, spec, segment).await?;
        let field = spec.parent.map_or("", |p| p.field);
        if record.data.get(field).and_then(Value::as_str) != Some(parent.id.as_str()) {
            return Err(not_found(spec, segment));
        }
        Ok(record)
    }

    async fn parent_of(&self, member: &Member, spec: &KindSpec, parent_segment: &str) -> AppResult<Record> {
        let parent_spec = spec.parent.and_then(|p| kinds::by_kind(p.kind)).ok_or_else(|| not_found(spec, parent_segment))?;
        self.get_record(member, parent_spec, parent_segment).await
    }

    /// The frozen revisions of a record, oldest first.
    pub async fn revisions(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<Vec<Revision>> {
        let record = self.get_record(member, spec, segment).await?;
        Ok(records::revisions(&self.db, &member.org_id, &record.id).await?)
    }

    pub async fn revision(&self, member: &Member, spec: &KindSpec, segment: &str, n: i64) -> AppResult<Revision> {
        let record = self.get_record(member, spec, segment).await?;
        records::revision(&self.db, &member.org_id, &record.id, n).await?.ok_or_else(|| AppError::NotFound(format!("revision {n}")))
    }

    /// Runs a named transition (`approve`, `sign-off`, …) on a record at version `if_match`.
    pub async fn transition(
        &self,
        member: &Member,
        spec: &KindSpec,
        segment: &str,
        name: &str,
        if_match: i64,
        body: &Value,
    ) -> AppResult<Record> {
        let prepared = transitions::prepare(self, member, spec, name, segment).await?;
        let mut tx = self.db.begin_write().await?;
        let current = current_version(&mut tx, member, spec, segment, if_match).await?;
        let outcome = transitions::run(&mut tx, member, spec, name, &current, body, prepared).await?;
        let updated =
            update_logged(&mut tx, &member.org_id, &actor(member), spec, &current, &outcome.draft, current.archived, outcome.action)
                .await?;
        if spec.revisions == Revisions::OnTransition && outcome.freeze {
            let mut frozen = updated.clone();
            if let Some(data) = outcome.frozen {
                frozen.data = data;
            }
            records::add_revision(&mut tx, &frozen, Some(&member.user_id), &clock::now_text()).await?;
        }
        transitions::after(&mut tx, member, spec, name, &updated).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// [`App::trace`] as stored JSON (the API's trace route): the record's version and
    /// document, and its linked records' documents.
    pub async fn trace_json(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<page_json::TraceDocs> {
        require(member, Action::Read)?;
        let key = doc_key(spec, segment);
        let (id, version, doc) =
            page_json::get_id_and_doc(&self.db, &member.org_id, spec.kind, key).await?.ok_or_else(|| not_found(spec, segment))?;
        let linked = page_json::linked_docs(&self.db, &member.org_id, &id, TRACE_GROUP_LIMIT).await?;
        Ok((version, doc, linked))
    }

    /// Authenticates an API token and reads a trace — on SQLite in one blocking call, on
    /// PostgreSQL in one statement. Same outcomes as [`App::authenticate_token`] then
    /// [`App::trace_json`].
    pub async fn trace_json_by_token(
        &self,
        secret: &str,
        org_slug: &str,
        spec: &KindSpec,
        segment: &str,
    ) -> AppResult<page_json::TraceDocs> {
        let (hash, now, now_text) = token_read(secret)?;
        let key = doc_key(spec, segment);
        let found = page_json::trace_with_token(&self.db, &hash, &now_text, org_slug, spec.kind, key, TRACE_GROUP_LIMIT).await?;
        let (_, trace) = self.admit_token_read(found, org_slug, now, &now_text)?;
        trace.ok_or_else(|| not_found(spec, segment))
    }

    /// A remembered check of the token for a read in `org_slug`. One of another organisation is
    /// not used: the full check tells 404 from 401 (a revoked token is 401 wherever it is sent).
    fn remembered_check(&self, token_hash: &str, now_text: &str, org_slug: &str) -> Option<aims_store::tokens::TokenAuth> {
        self.token_checks.get(token_hash, now_text).filter(|auth| auth.member.org_slug == org_slug)
    }

    /// Remembers what a full token check found (nothing when the token was not valid).
    fn remember_check<T>(&self, token_hash: &str, found: &Option<(aims_store::tokens::TokenAuth, T)>) {
        if let Some((auth, _)) = found {
            self.token_checks.remember(token_hash, auth);
        }
    }

    /// The checks every token-checked read shares once the store has resolved the token with
    /// the read: an invalid token is 401, one of another organisation 404 (as if the
    /// organisation did not exist); the member must be allowed to read; the token's use is noted.
    fn admit_token_read<T>(
        &self,
        found: Option<(aims_store::tokens::TokenAuth, T)>,
        org_slug: &str,
        now: time::OffsetDateTime,
        now_text: &str,
    ) -> AppResult<(Member, T)> {
        let (auth, read) = found.ok_or(AppError::Unauthorized)?;
        if auth.member.org_slug != org_slug {
            return Err(AppError::NotFound(format!("organisation {org_slug}")));
        }
        require(&auth.member, Action::Read)?;
        self.note_token_use(&auth, now, now_text);
        Ok((auth.member, read))
    }

    /// The records linked to and from a record, at most [`TRACE_GROUP_LIMIT`] per group
    /// (direction, field, kind); each carries its group's total, and the list filters
    /// (`risks?control_refs=…`, `evidence?ai_system_ids=…`) page through the rest.
    pub async fn trace(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<(Record, Vec<LinkedRecord>)> {
        let record = self.get_record(member, spec, segment).await?;
        let linked = records::linked(&self.db, &member.org_id, &record.id, TRACE_GROUP_LIMIT).await?;
        Ok((record, linked))
    }
}

/// A token-checked read's start: the token's hash (an implausible token is refused without a
/// look-up) and the time it is checked at, also in its stored form.
fn token_read(secret: &str) -> AppResult<(String, time::OffsetDateTime, String)> {
    if !crate::tokens::plausible_token(secret) {
        return Err(AppError::Unauthorized);
    }
    let now = clock::now();
    Ok((token_hash(secret), now, clock::format(now)))
}

/// The version of `If-Match: *`: whichever version is current (RFC 9110 §13.1.1). Versions
/// start at 1, so no record has it.
pub const ANY_VERSION: i64 = 0;

/// Reads a record for change inside `tx` and checks the version the client based it on.
pub(crate) async fn current_version(tx: &mut WriteTx, member: &Member, spec: &KindSpec, segment: &str, if_match: i64) -> AppResult<Record> {
    let current =
        records::get_for_update(tx, &member.org_id, spec.kind, &key(spec, segment)).await?.ok_or_else(|| not_found(spec, segment))?;
    if if_match != ANY_VERSION && current.version != if_match {
        return Err(AppError::Stale { expected: if_match, current: current.version });
    }
    Ok(current)
}

/// Inserts a record with its links and its `create` event.
pub(crate) async fn insert_logged(
    tx: &mut WriteTx,
    org_id: &str,
    actor: &Actor,
    spec: &KindSpec,
    draft: &rules::Draft,
) -> AppResult<Record> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = clock::now_text();
    let changed = changed_links(spec, &draft.document, None);
    let inserted = records::insert_with_links(
        tx,
        &NewRecord {
            org_id,
            id: &id,
            kind: spec.kind,
            reference: draft.reference.as_deref(),
            state: draft.state.as_deref(),
            data: &draft.document,
            actor_id: actor.user_id(),
            now: &now,
        },
        &link_targets(&changed),
    )
    .await?;
    let (record, head) = (inserted.record, inserted.head);
    confirm_links(tx, actor, spec, &record, &changed, &inserted.links).await?;
    let mut changes = draft.document.clone();
    if let Some(reference) = &draft.reference {
        changes.insert("ref".into(), json!(reference));
    }
    if let Some(state) = &draft.state {
        changes.insert("state".into(), json!(state));
    }
    let event = NewEvent { action: "create", record_type: spec.kind, record_id: &id, changes: Value::Object(changes) };
    match head {
        Some(head) => activity::append_to_locked(tx, org_id, actor, event, head).await?,
        None => activity::append(tx, org_id, actor, event).await?,
    };
    if spec.revisions == Revisions::EveryChange {
        records::add_revision(tx, &record, actor.user_id(), &now).await?;
    }
    Ok(record)
}

/// Writes a new edition of a record (compare-and-set on its version) with its links, its
/// event (`action`, field-by-field changes) and, for revisioned kinds, a frozen revision.
pub(crate) async fn update_logged(
    tx: &mut WriteTx,
    org_id: &str,
    actor: &Actor,
    spec: &KindSpec,
    current: &Record,
    draft: &rules::Draft,
    archived: bool,
    action: &str,
) -> AppResult<Record> {
    let now = clock::now_text();
    let updated = records::update(tx, current, current.version, &draft.document, draft.state.as_deref(), archived, actor.user_id(), &now)
        .await
        .map_err(|e| stale(e, current.version))?;
    sync_links(tx, actor, spec, &updated, Some(current)).await?;
    let mut changes = diff(&current.data, &draft.document);
    if current.state != draft.state {
        changes.insert("state".into(), json!({"from": current.state, "to": draft.state}));
    }
    if current.archived != archived {
        changes.insert("archived".into(), json!({"from": current.archived, "to": archived}));
    }
    activity::append(
        tx,
        org_id,
        actor,
        NewEvent { action, record_type: spec.kind, record_id: &updated.id, changes: Value::Object(changes) },
    )
    .await?;
    if spec.revisions == Revisions::EveryChange {
        records::add_revision(tx, &updated, actor.user_id(), &now).await?;
    }
    Ok(updated)
}

fn stale(e: StoreError, expected: i64) -> AppError {
    match e {
        StoreError::Stale { current } => AppError::Stale { expected, current },
        other => other.into(),
    }
}

/// Field-by-field changes as `{field: {from, to}}`: only fields whose meaning changed, so the
/// log never lists a field the user did not touch. A field removed from the document counts
/// as changed to null.
pub(crate) fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut changes = Map::new();
    for (key, value) in new {
        let before = old.get(key).unwrap_or(&Value::Null);
        if !same(before, value) {
            changes.insert(key.clone(), json!({"from": before, "to": value}));
        }
    }
    for (key, before) in old {
        if !new.contains_key(key) && !same(before, &Value::Null) {
            changes.insert(key.clone(), json!({"from": before, "to": Value::Null}));
        }
    }
    changes
}

/// Whether two stored values mean the same: absent, null, "" and an empty list or object are
/// all "nothing" (a form posts "" where the API stored nothing), and numbers compare by value
/// (`3` and `3.0`). Lists keep their order: for some fields the order is the content.
fn same(a: &Value, b: &Value) -> bool {
    let nothing = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    };
    match (a, b) {
        _ if nothing(a) && nothing(b) => true,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.keys().chain(y.keys()).all(|k| same(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null)))
        }
        _ => a == b,
    }
}

/// Every owner must be a member, every link a record of the right kind in the same
/// organisation, every catalogue reference a row that exists. Refusals name the field (422).
pub(crate) async fn check_references(
    tx: &mut WriteTx,
    org_id: &str,
    actor_id: Option<&str>,
    spec: &KindSpec,
    document: &Map<String, Value>,
) -> AppResult<()> {
    let mut errors = member_errors(tx, org_id, actor_id, spec, document).await?;
    for field in spec.fields {
        let Some(value) = document.get(field.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let (FieldType::Ids { kind } | FieldType::Refs { kind } | FieldType::Link { kind }) = field.ty else {
            continue;
        };
        let wanted = link_values(Some(value));
        let found: Vec<String> = match field.ty {
            FieldType::Refs { .. } => records::refs_to_ids(tx, org_id, kind, &wanted).await?.into_iter().map(|(r, _)| r).collect(),
            _ => records::existing_ids(tx, org_id, kind, &wanted).await?,
        };
        for (i, item) in wanted.iter().enumerate().filter(|(_, item)| !found.contains(item)) {
            let path = if value.is_string() { field.name.to_owned() } else { format!("{}[{i}]", field.name) };
            errors.push(path, "unknown_reference", format!("no {kind} {item} in this organisation"));
        }
    }
    Ok(errors.into_result()?)
}

/// The member references of [`check_references`] alone, for writes whose links are checked as
/// they are written ([`sync_links`]); when one is bad, every bad reference is reported at once.
pub(crate) async fn check_members(
    tx: &mut WriteTx,
    org_id: &str,
    actor_id: Option<&str>,
    spec: &KindSpec,
    document: &Map<String, Value>,
) -> AppResult<()> {
    if member_errors(tx, org_id, actor_id, spec, document).await?.0.is_empty() {
        return Ok(());
    }
    check_references(tx, org_id, actor_id, spec, document).await
}

async fn member_errors(
    tx: &mut WriteTx,
    org_id: &str,
    actor_id: Option<&str>,
    spec: &KindSpec,
    document: &Map<String, Value>,
) -> AppResult<ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for field in spec.fields.iter().filter(|f| matches!(f.ty, FieldType::UserId)) {
        let Some(user_id) = document.get(field.name).and_then(Value::as_str) else {
            continue;
        };
        // The acting member is known to belong; only someone else needs looking up.
        if actor_id != Some(user_id) && !orgs::is_member(tx, org_id, user_id).await? {
            errors.push(field.name, "unknown_reference", "not a member of this organisation");
        }
    }
    Ok(errors)
}

/// The ids or references a link field holds (one, or a list).
fn link_values(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        _ => value.and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
    }
}

/// Mirrors the record's link fields (`…_ids`, and the catalogue `…_refs` resolved to the rows'
/// ids) into `record_links`, where foreign keys hold them and traces read them both ways. Only
/// fields that changed are rewritten, all in one statement, which writes only targets of the
/// right kind: when fewer links are written than targets given, the references are checked
/// one by one and the bad ones reported (422), and the transaction goes no further.
pub(crate) async fn sync_links(
    tx: &mut WriteTx,
    actor: &Actor,
    spec: &KindSpec,
    record: &Record,
    previous: Option<&Record>,
) -> AppResult<()> {
    let changed = changed_links(spec, &record.data, previous);
    let source = records::LinkSource { org_id: &record.org_id, id: &record.id, kind: &record.kind };
    let written = records::replace_links(tx, source, &link_targets(&changed), previous.is_none()).await?;
    confirm_links(tx, actor, spec, record, &changed, &written).await
}

/// A link field whose value changed (all of them for a new record): field, target kind, whether
/// by reference, and the values.
type ChangedLinks<'s> = Vec<(&'s str, &'s str, bool, Vec<String>)>;

fn changed_links<'s>(spec: &'s KindSpec, data: &Map<String, Value>, previous: Option<&Record>) -> ChangedLinks<'s> {
    let parent = spec.parent.map(|p| (p.field, p.kind, false));
    let fields = spec.fields.iter().filter_map(|f| match f.ty {
        FieldType::Ids { kind } | FieldType::Link { kind } => Some((f.name, kind, false)),
        FieldType::Refs { kind } => Some((f.name, kind, true)),
        _ => None,
    });
    let mut changed = Vec::new();
    for (field, kind, by_ref) in fields.chain(parent) {
        let now = data.get(field);
        if previous.is_some_and(|p| p.data.get(field) == now) {
            continue;
        }
        changed.push((field, kind, by_ref, link_values(now)));
    }
    changed
}

fn link_targets<'c>(changed: &'c ChangedLinks<'_>) -> Vec<(&'c str, LinkTargets<'c>)> {
    changed
        .iter()
        .map(|(field, kind, by_ref, values)| {
            let targets = if *by_ref { LinkTargets::Refs { kind, refs: values } } else { LinkTargets::Records { kind, ids: values } };
            (*field, targets)
        })
        .collect()
}

/// Every changed link was written, or the 422 that names the target that is not there (or a
/// 409 when a target went away while the record was saved).
async fn confirm_links(
    tx: &mut WriteTx,
    actor: &Actor,
    spec: &KindSpec,
    record: &Record,
    changed: &ChangedLinks<'_>,
    written: &[String],
) -> AppResult<()> {
    let all_written = changed.iter().all(|(field, _, _, values)| {
        let distinct: std::collections::HashSet<&String> = values.iter().collect();
        written.iter().filter(|w| w == field).count() == distinct.len()
    });
    if all_written {
        return Ok(());
    }
    check_references(tx, &record.org_id, actor.user_id(), spec, &record.data).await?;
    Err(AppError::Conflict("a linked record changed while this one was saved; try again".into()))
}
