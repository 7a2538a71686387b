//! What the transitions of nonconformities, improvements and planned changes record besides
//! their state, and what each step of a nonconformity needs first. A nonconformity's
//! corrective actions live in the one `actions` tracker, raised as corrective actions.

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::kinds::{ACTION, NONCONFORMITY};
use aims_domain::policy::Action;
use aims_domain::workflow::TransitionSpec;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::records::{self, RecordKey};
use serde_json::{Map, Value, json};

use crate::records::{check_members, current_version, insert_logged, update_logged};
use crate::rules::{self, Draft, KindRules};
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{App, AppError, AppResult};

/// The field linking a nonconformity to its corrective actions.
const ACTIONS: &str = "corrective_action_ids";

fn filled(document: &Map<String, Value>, field: &str) -> bool {
    document.get(field).and_then(Value::as_str).is_some_and(|t| !t.trim().is_empty())
}

/// The nonconformity's corrective actions (archived ones left out), in the order it lists them.
pub(crate) async fn corrective_actions(tx: &mut WriteTx, member: &Member, document: &Map<String, Value>) -> AppResult<Vec<Record>> {
    let ids = ids_of(document);
    let mut actions = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(action) = records::get_for_update(tx, &member.org_id, ACTION.kind, &RecordKey::Id(id)).await?
            && !action.archived
        {
            actions.push(action);
        }
    }
    Ok(actions)
}

fn title(record: &Record) -> String {
    record.data.get("title").and_then(Value::as_str).unwrap_or(&record.id).to_owned()
}

fn status(record: &Record) -> &str {
    record.data.get("status").and_then(Value::as_str).unwrap_or_default()
}

pub(crate) struct NonconformityEffects;

impl Effects for NonconformityEffects {
    fn prerequisites<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, t: &'static TransitionSpec, nc: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            let missing = |what: &str| Err(AppError::Conflict(format!("{what} first")));
            match t.name {
                "correct" if !filled(&nc.data, "correction") => missing("record the correction taken"),
                "analyse" if !filled(&nc.data, "root_cause") => missing("record the root cause"),
                "analyse" if !filled(&nc.data, "similar_elsewhere") => missing("say whether similar nonconformities exist elsewhere"),
                "plan" if corrective_actions(tx, member, &nc.data).await?.is_empty() => {
                    missing("link at least one corrective action from the actions tracker")
                }
                "request-verification" => {
                    let actions = corrective_actions(tx, member, &nc.data).await?;
                    let open: Vec<String> = actions.iter().filter(|a| !["done", "cancelled"].contains(&status(a))).map(title).collect();
                    if !open.is_empty() {
                        return Err(AppError::Conflict(format!("these corrective actions are not finished yet: {}", open.join(", "))));
                    }
                    if !actions.iter().any(|a| status(a) == "done") {
                        return missing("complete at least one corrective action");
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if matches!(c.transition.name, "verify" | "not-effective") {
                c.document.insert("effective".into(), json!(c.transition.name == "verify"));
                c.document.insert("verified_by".into(), json!(c.member.user_id));
                c.document.insert("verified_at".into(), json!(clock::now_text()));
                c.document.insert("verification_comment".into(), text(c.body, "comment").map_or(Value::Null, Value::String));
            }
            Ok(Applied::default())
        })
    }
}

/// An improvement's decision names who took it, when and why; implementing it needs its outcome.
pub(crate) struct ImprovementEffects;

impl Effects for ImprovementEffects {
    fn prerequisites<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, t: &'static TransitionSpec, record: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            if t.name == "implement" && !filled(&record.data, "outcome") {
                return Err(AppError::Conflict("record the outcome first".into()));
            }
            Ok(())
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if matches!(c.transition.name, "accept" | "reject") {
                c.document.insert("decision".into(), json!(c.transition.to));
                c.document.insert("decided_by".into(), json!(c.member.user_id));
                c.document.insert("decided_at".into(), json!(clock::now_text()));
                c.document.insert("decision_rationale".into(), text(c.body, "rationale").map_or(Value::Null, Value::String));
            }
            Ok(Applied::default())
        })
    }
}

/// A planned change that ends keeps its note (why it was cancelled, what was done) and, when
/// done, when.
pub(crate) struct ChangeEffects;

impl Effects for ChangeEffects {
    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if matches!(c.transition.name, "complete" | "cancel") {
                c.document.insert("closing_note".into(), text(c.body, "note").map_or(Value::Null, Value::String));
            }
            if c.transition.name == "complete" {
                c.document.insert("completed_at".into(), json!(clock::now_text()));
            }
            Ok(Applied::default())
        })
    }
}

/// A nonconformity's corrective actions are actions raised as corrective actions, so the one
/// tracker tells them apart from gap actions and risk treatments.
pub(crate) struct NonconformityRules;

impl KindRules for NonconformityRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(check_sources(tx, member, &draft.document, &[]))
    }

    /// Only the actions a change links anew are checked: one linked earlier whose source has
    /// since changed does not block every later edit.
    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            let before = ids_of(&current.data);
            check_sources(tx, member, &draft.document, &before).await
        })
    }
}

fn ids_of(document: &Map<String, Value>) -> Vec<String> {
    document.get(ACTIONS).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

async fn check_sources(tx: &mut WriteTx, member: &Member, document: &Map<String, Value>, linked_before: &[String]) -> AppResult<()> {
    let ids = ids_of(document);
    let mut errors = ValidationErrors::default();
    for (i, id) in ids.iter().enumerate().filter(|(_, id)| !linked_before.contains(id)) {
        let action = records::get_for_update(tx, &member.org_id, ACTION.kind, &RecordKey::Id(id)).await?;
        if let Some(action) = action.filter(|a| a.data.get("source").and_then(Value::as_str) != Some("corrective_action")) {
            errors.push(
                format!("{ACTIONS}[{i}]"),
                "not_corrective",
                format!("“{}” was not raised as a corrective action (its source is not corrective_action)", title(&action)),
            );
        }
    }
    Ok(errors.into_result()?)
}

impl App {
    /// Raises a corrective action for the nonconformity `nc_id` (at version `if_match`): the
    /// action, with source `corrective_action`, and its link from the nonconformity are written
    /// in one transaction, each with its event. Returns the action.
    pub async fn raise_corrective_action(&self, member: &Member, nc_id: &str, if_match: i64, input: &Value) -> AppResult<Record> {
        crate::access::require(member, Action::Edit)?;
        let mut input = input.as_object().cloned().ok_or_else(|| ValidationErrors::single("", "invalid_type", "a JSON object"))?;
        input.insert("source".into(), json!("corrective_action"));
        let document = ACTION.validate_create(&Value::Object(input.clone()), &[])?;
        let mut tx = self.db.begin_write().await?;
        let nc = current_version(&mut tx, member, &NONCONFORMITY, nc_id, if_match).await?;
        if nc.archived || nc.state.as_deref() == Some("closed") {
            return Err(AppError::Conflict("the nonconformity is closed; raise a new one".into()));
        }
        let mut draft = Draft { reference: None, state: ACTION.initial_state.map(str::to_owned), document };
        rules::before_create(&mut tx, member, &ACTION, &Value::Object(input), &mut draft).await?;
        check_members(&mut tx, &member.org_id, Some(&member.user_id), &ACTION, &draft.document).await?;
        let actor = crate::access::actor(member);
        let action = insert_logged(&mut tx, &member.org_id, &actor, &ACTION, &draft).await?;
        rules::after_write(&mut tx, member, &ACTION, None, &action).await?;
        let mut document = nc.data.clone();
        let mut ids = ids_of(&document);
        ids.push(action.id.clone());
        document.insert(ACTIONS.into(), json!(ids));
        let draft = Draft { reference: nc.reference.clone(), state: nc.state.clone(), document };
        let updated = update_logged(&mut tx, &member.org_id, &actor, &NONCONFORMITY, &nc, &draft, nc.archived, "update").await?;
        rules::after_write(&mut tx, member, &NONCONFORMITY, Some(&nc), &updated).await?;
        tx.commit().await?;
        Ok(action)
    }
}
