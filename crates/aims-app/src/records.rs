//! The generic record use cases: list, read, create, change (merge patch with If-Match),
//! archive and trace, for every kind described by a [`KindSpec`].

use aims_domain::kinds::{self, CATALOGUE_CONTROL_FIXED, CONTROL, REQUIREMENT};
use aims_domain::policy::Action;
use aims_domain::validate::{FieldType, KindSpec};
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Member, Page, Record};
use aims_store::page_json::{self, JsonPage};
use aims_store::records::{self, LinkedRecord, NewRecord, RecordKey};

use crate::secrets::token_hash;
use aims_store::{StoreError, WriteTx, orgs};
use serde_json::{Map, Value, json};

use crate::access::{actor, require};
use crate::{App, AppError, AppResult};

/// Kinds whose records are addressed by their reference (`controls/A.6.2.4`) rather than id.
pub fn addressed_by_ref(spec: &KindSpec) -> bool {
    spec.kind == CONTROL.kind || spec.kind == REQUIREMENT.kind
}

/// Kinds a client may create and archive (catalogue rows are instantiated, never created).
pub fn creatable(spec: &KindSpec) -> bool {
    spec.kind != REQUIREMENT.kind
}

fn key<'a>(spec: &KindSpec, segment: &'a str) -> RecordKey<'a> {
    if addressed_by_ref(spec) { RecordKey::Ref(segment) } else { RecordKey::Id(segment) }
}

fn not_found(spec: &KindSpec, segment: &str) -> AppError {
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

    /// A page rendered as JSON by the database (the API's list route).
    pub async fn list_records_json(
        &self,
        member: &Member,
        spec: &KindSpec,
        include_archived: bool,
        after_seq: i64,
        limit: u32,
    ) -> AppResult<JsonPage> {
        require(member, Action::Read)?;
        Ok(page_json::list(&self.db, &member.org_id, spec.kind, include_archived, after_seq, limit).await?)
    }

    /// Authenticates an API token and lists a page in one database round trip — the API's
    /// hottest path. Same outcomes as [`App::authenticate_token`] then [`App::list_records_json`].
    pub async fn list_records_json_by_token(
        &self,
        secret: &str,
        org_slug: &str,
        spec: &KindSpec,
        include_archived: bool,
        after_seq: i64,
        limit: u32,
    ) -> AppResult<(Member, JsonPage)> {
        if !crate::tokens::plausible_token(secret) {
            return Err(AppError::Unauthorized);
        }
        let now = clock::now();
        let found = page_json::list_with_token(
            &self.db,
            &token_hash(secret),
            &clock::format(now),
            org_slug,
            spec.kind,
            include_archived,
            after_seq,
            limit,
        )
        .await?;
        let (auth, page) = found.ok_or(AppError::Unauthorized)?;
        if auth.member.org_slug != org_slug {
            return Err(AppError::NotFound(format!("organisation {org_slug}")));
        }
        require(&auth.member, Action::Read)?;
        self.note_token_use(&auth, now);
        Ok((auth.member, page))
    }

    pub async fn get_record(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<Record> {
        require(member, Action::Read)?;
        records::get(&self.db, &member.org_id, spec.kind, &key(spec, segment)).await?.ok_or_else(|| not_found(spec, segment))
    }

    pub async fn create_record(&self, member: &Member, spec: &KindSpec, input: &Value) -> AppResult<Record> {
        require(member, Action::Edit)?;
        if !creatable(spec) {
            return Err(AppError::Conflict(format!(
                "{} are part of the catalogue and cannot be created",
                spec.plural_label.to_lowercase()
            )));
        }
        let is_control = spec.kind == CONTROL.kind;
        let extra: &[&str] = if is_control { &["ref"] } else { &[] };
        let mut errors = ValidationErrors::default();
        let reference = if is_control {
            let given = input.get("ref").and_then(Value::as_str).unwrap_or_default();
            kinds::parse_own_control_ref("ref", given).map_err(|e| errors.0.extend(e.0)).ok()
        } else {
            None
        };
        let mut document = match spec.validate_create(input, extra) {
            Ok(document) => document,
            Err(e) => {
                errors.0.extend(e.0);
                return Err(AppError::Validation(errors));
            }
        };
        errors.into_result()?;
        if is_control {
            document.insert("source".into(), json!("own"));
        }
        let mut tx = self.db.begin_write().await?;
        check_references(&mut tx, &member.org_id, spec, &document).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = clock::now_text();
        let record = records::insert(
            &mut tx,
            &NewRecord {
                org_id: &member.org_id,
                id: &id,
                kind: spec.kind,
                reference: reference.as_deref(),
                state: None,
                data: &document,
                actor_id: Some(&member.user_id),
                now: &now,
            },
        )
        .await?;
        sync_links(&mut tx, spec, &record, None).await?;
        let mut changes = document.clone();
        if let Some(reference) = &reference {
            changes.insert("ref".into(), json!(reference));
        }
        activity::append(
            &mut tx,
            &member.org_id,
            &actor(member),
            NewEvent { action: "create", record_type: spec.kind, record_id: &id, changes: Value::Object(changes) },
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Applies a JSON merge patch to a record whose current version is `if_match`. A stale
    /// version is refused and nothing is written; a patch that changes nothing writes nothing.
    pub async fn patch_record(&self, member: &Member, spec: &KindSpec, segment: &str, if_match: i64, patch: &Value) -> AppResult<Record> {
        require(member, Action::Edit)?;
        let mut tx = self.db.begin_write().await?;
        let current = records::get_for_update(&mut tx, &member.org_id, spec.kind, &key(spec, segment))
            .await?
            .ok_or_else(|| not_found(spec, segment))?;
        if current.version != if_match {
            return Err(AppError::Stale { expected: if_match, current: current.version });
        }
        refuse_catalogue_text(spec, &current, patch)?;
        let document = spec.validate_patch(&current.data, patch)?;
        let changes = diff(&current.data, &document);
        if changes.is_empty() {
            return Ok(current);
        }
        check_references(&mut tx, &member.org_id, spec, &document).await?;
        let now = clock::now_text();
        let updated = records::update(
            &mut tx,
            &current,
            if_match,
            &document,
            current.state.as_deref(),
            current.archived,
            Some(&member.user_id),
            &now,
        )
        .await
        .map_err(|e| stale(e, if_match))?;
        sync_links(&mut tx, spec, &updated, Some(&current)).await?;
        activity::append(
            &mut tx,
            &member.org_id,
            &actor(member),
            NewEvent { action: "update", record_type: spec.kind, record_id: &updated.id, changes: Value::Object(changes) },
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Archives a record (records are never erased through the API).
    pub async fn archive_record(&self, member: &Member, spec: &KindSpec, segment: &str, if_match: i64) -> AppResult<Record> {
        require(member, Action::Edit)?;
        let mut tx = self.db.begin_write().await?;
        let current = records::get_for_update(&mut tx, &member.org_id, spec.kind, &key(spec, segment))
            .await?
            .ok_or_else(|| not_found(spec, segment))?;
        if current.version != if_match {
            return Err(AppError::Stale { expected: if_match, current: current.version });
        }
        if !creatable(spec) || current.data.get("source").and_then(Value::as_str) == Some("iso42001") {
            return Err(AppError::Conflict("catalogue rows cannot be archived; mark a control excluded instead".into()));
        }
        if current.archived {
            return Err(AppError::Conflict(format!("{} {segment} is already archived", spec.label.to_lowercase())));
        }
        let now = clock::now_text();
        let updated =
            records::update(&mut tx, &current, if_match, &current.data, current.state.as_deref(), true, Some(&member.user_id), &now)
                .await
                .map_err(|e| stale(e, if_match))?;
        activity::append(
            &mut tx,
            &member.org_id,
            &actor(member),
            NewEvent {
                action: "archive",
                record_type: spec.kind,
                record_id: &updated.id,
                changes: json!({"archived": {"from": false, "to": true}}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The records linked to and from a record.
    pub async fn trace(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<(Record, Vec<LinkedRecord>)> {
        let record = self.get_record(member, spec, segment).await?;
        let linked = records::linked(&self.db, &member.org_id, &record.id).await?;
        Ok((record, linked))
    }
}

fn stale(e: StoreError, expected: i64) -> AppError {
    match e {
        StoreError::Stale { current } => AppError::Stale { expected, current },
        other => other.into(),
    }
}

/// The title and description of an Annex A control come from the catalogue.
fn refuse_catalogue_text(spec: &KindSpec, current: &Record, patch: &Value) -> AppResult<()> {
    if spec.kind != CONTROL.kind || current.data.get("source").and_then(Value::as_str) != Some("iso42001") {
        return Ok(());
    }
    let mut errors = ValidationErrors::default();
    for field in CATALOGUE_CONTROL_FIXED {
        if patch.get(field).is_some() {
            errors.push(*field, "read_only", "the title and description of an Annex A control come from the catalogue");
        }
    }
    Ok(errors.into_result()?)
}

/// Field-by-field changes as `{field: {from, to}}`.
fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut changes = Map::new();
    for (key, value) in new {
        let before = old.get(key).unwrap_or(&Value::Null);
        if before != value {
            changes.insert(key.clone(), json!({"from": before, "to": value}));
        }
    }
    changes
}

/// Every owner must be a member, every link a record of the right kind in the same
/// organisation, every catalogue reference a row that exists. Refusals name the field (422).
async fn check_references(tx: &mut WriteTx, org_id: &str, spec: &KindSpec, document: &Map<String, Value>) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    for field in spec.fields {
        let Some(value) = document.get(field.name).filter(|v| !v.is_null()) else {
            continue;
        };
        match field.ty {
            FieldType::UserId => {
                let user_id = value.as_str().unwrap_or_default();
                if !orgs::is_member(tx, org_id, user_id).await? {
                    errors.push(field.name, "unknown_reference", "not a member of this organisation");
                }
            }
            FieldType::Ids { kind } | FieldType::Refs { kind } => {
                let wanted: Vec<String> = value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                for (i, item) in wanted.iter().enumerate() {
                    let found = match field.ty {
                        FieldType::Refs { .. } => records::get_for_update(tx, org_id, kind, &RecordKey::Ref(item)).await?.is_some(),
                        _ => !records::existing_ids(tx, org_id, kind, std::slice::from_ref(item)).await?.is_empty(),
                    };
                    if !found {
                        errors.push(format!("{}[{i}]", field.name), "unknown_reference", format!("no {kind} {item} in this organisation"));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(errors.into_result()?)
}

/// Mirrors the record's `…_ids` fields into `record_links`, where foreign keys hold them.
async fn sync_links(tx: &mut WriteTx, spec: &KindSpec, record: &Record, previous: Option<&Record>) -> AppResult<()> {
    for (field, _) in spec.link_fields() {
        let now = record.data.get(field);
        if previous.is_some_and(|p| p.data.get(field) == now) {
            continue;
        }
        let targets: Vec<String> =
            now.and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        records::set_links(tx, &record.org_id, &record.id, field, &targets).await?;
    }
    Ok(())
}
