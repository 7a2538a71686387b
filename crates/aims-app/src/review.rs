//! Management review (9.3). Its inputs are assembled from the record itself ([`App::review_inputs`]):
//! the status of actions from previous reviews, what changed in the context and interested
//! parties since the previous review, nonconformities and their corrective actions, the
//! objectives' measurements, audit results, risk and impact status, supplier performance and
//! opportunities for improvement. While the review is open they are read live; closing it
//! freezes them into the record (`pack`) and a revision. A decision recorded at the review may
//! raise an action in the one `actions` tracker, in the same transaction.

use std::collections::HashMap;

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::kinds::{
    self, ACTION, CONTEXT_ISSUE, IMPACT_ASSESSMENT, IMPROVEMENT, INTERESTED_PARTY, MANAGEMENT_REVIEW, MEASUREMENT, NONCONFORMITY,
    OBJECTIVE, RISK, SUPPLIER,
};
use aims_domain::policy::Action;
use aims_domain::validate::{FieldType, KindSpec};
use aims_domain::workflow::TransitionSpec;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::page_json::Filter;
use aims_store::records::{self, GroupBy, LinkSide};
use serde_json::{Map, Value, json};

use crate::records::{check_members, insert_logged};
use crate::rules::{self, Draft};
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{App, AppError, AppResult};

/// The action source of actions a review raises.
pub const REVIEW_SOURCE: &str = "management_review";

/// The kinds another part of the product may add; the review counts them by name when they
/// exist, and says "none recorded" when nothing is.
const AUDIT_KIND: &str = "audit";
const FINDING_KIND: &str = "finding";
const SUPPLIER_REVIEW_KIND: &str = "supplier_review";

/// Filters for an action that is past due and not finished.
pub fn overdue_action_filters(today: &str) -> Vec<Filter> {
    vec![
        Filter::Before { field: "due_date", date: today.to_owned() },
        Filter::Not { field: "status", value: "done".into() },
        Filter::Not { field: "status", value: "cancelled".into() },
    ]
}

fn text_of<'a>(record: &'a Record, field: &str) -> &'a str {
    record.data.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn title_of(record: &Record) -> &str {
    let title = text_of(record, "title");
    if title.is_empty() { text_of(record, "name") } else { title }
}

fn ids_in(record: &Record, field: &str) -> Vec<String> {
    record.data.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn action_open(action: &Record) -> bool {
    !matches!(text_of(action, "status"), "done" | "cancelled")
}

fn action_overdue(action: &Record, today: &str) -> bool {
    let due = text_of(action, "due_date");
    action_open(action) && !due.is_empty() && due < today
}

/// The `YYYY-MM-DD` part of a timestamp.
fn day(timestamp: &str) -> &str {
    timestamp.get(..10).unwrap_or(timestamp)
}

fn counts(groups: Vec<(Option<String>, i64)>) -> Value {
    let mut groups: Vec<(String, i64)> = groups.into_iter().map(|(v, n)| (v.unwrap_or_else(|| "not_set".into()), n)).collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Value::Array(groups.into_iter().map(|(value, count)| json!({"value": value, "count": count})).collect())
}

impl App {
    /// Every live record of `kind` matching `filters`, read a page at a time (the small kinds a
    /// review lists: reviews, context issues, objectives, open nonconformities).
    async fn every_record(&self, member: &Member, kind: &str, filters: &[Filter]) -> AppResult<Vec<Record>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let request =
                aims_store::page_json::PageRequest { kind, include_archived: false, filters, after_seq: after, limit: 200, prefix: "" };
            let page = records::list_where(&self.db, &member.org_id, &request).await?;
            all.extend(page.items);
            match page.next_after {
                Some(seq) => after = seq,
                None => return Ok(all),
            }
        }
    }

    /// For each record of `ids` (a page of a list), how many records of `kind` linked through
    /// `side` match `filters`: counted by the database for that page only.
    pub async fn count_linked_where(
        &self,
        member: &Member,
        ids: &[String],
        side: LinkSide,
        kind: &KindSpec,
        filters: &[Filter],
    ) -> AppResult<HashMap<String, i64>> {
        crate::access::require(member, Action::Read)?;
        Ok(records::count_linked_where(&self.db, &member.org_id, ids, side, kind.kind, filters).await?.into_iter().collect())
    }

    /// The inputs of a management review as they stand now (see the module's description); a
    /// closed review's are those frozen when it closed, in its `pack`.
    pub async fn review_inputs(&self, member: &Member, review: &Record) -> AppResult<Value> {
        crate::access::require(member, Action::Read)?;
        if review.state.as_deref() == Some("closed")
            && let Some(pack) = review.data.get("pack").filter(|p| p.is_object())
        {
            return Ok(pack.clone());
        }
        self.assemble_inputs(member, review).await
    }

    async fn assemble_inputs(&self, member: &Member, review: &Record) -> AppResult<Value> {
        let today = clock::format_date(clock::today());
        let previous = self.previous_review(member, review).await?;
        let since = previous.as_ref().map(|p| {
            let held = text_of(p, "held_at");
            if held.is_empty() { text_of(p, "planned_on").to_owned() } else { day(held).to_owned() }
        });
        Ok(json!({
            "assembled_at": clock::now_text(),
            "since": since,
            "previous_review": previous.as_ref().map(|p| json!({"id": p.id, "title": title_of(p)})),
            "previous_actions": self.previous_actions(member, review, &today).await?,
            "context": self.context_changes(member, since.as_deref()).await?,
            "nonconformities": self.nonconformity_status(member, since.as_deref(), &today).await?,
            "objectives": self.objective_results(member).await?,
            "audits": self.audit_results(member).await?,
            "risks": self.risk_status(member).await?,
            "suppliers": self.supplier_performance(member).await?,
            "improvements": self.improvement_status(member).await?,
        }))
    }

    /// The latest closed review planned before this one.
    async fn previous_review(&self, member: &Member, review: &Record) -> AppResult<Option<Record>> {
        let planned = text_of(review, "planned_on").to_owned();
        let closed = self.every_record(member, MANAGEMENT_REVIEW.kind, &[Filter::State("closed".into())]).await?;
        Ok(closed
            .into_iter()
            .filter(|r| r.id != review.id && text_of(r, "planned_on") <= planned.as_str())
            .max_by(|a, b| text_of(a, "planned_on").cmp(text_of(b, "planned_on")).then(a.seq.cmp(&b.seq))))
    }

    /// Actions raised by reviews other than this one, with where each stands.
    async fn previous_actions(&self, member: &Member, review: &Record, today: &str) -> AppResult<Value> {
        let own = ids_in(review, "action_ids");
        let source = [Filter::Field { field: "source", value: REVIEW_SOURCE.into() }];
        let actions: Vec<Record> =
            self.every_record(member, ACTION.kind, &source).await?.into_iter().filter(|a| !own.contains(&a.id)).collect();
        let items: Vec<Value> = actions
            .iter()
            .map(|a| {
                json!({"id": a.id, "title": title_of(a), "status": text_of(a, "status"), "due_date": text_of(a, "due_date"),
                       "overdue": action_overdue(a, today)})
            })
            .collect();
        Ok(json!({
            "open": actions.iter().filter(|a| action_open(a)).count(),
            "overdue": actions.iter().filter(|a| action_overdue(a, today)).count(),
            "done": actions.iter().filter(|a| text_of(a, "status") == "done").count(),
            "items": items,
        }))
    }

    /// Context issues and interested parties added or changed since the previous review (all
    /// of them, counted, at a first review).
    async fn context_changes(&self, member: &Member, since: Option<&str>) -> AppResult<Value> {
        let mut out = Map::new();
        for (key, spec) in [("issues", &CONTEXT_ISSUE), ("parties", &INTERESTED_PARTY)] {
            let all = self.every_record(member, spec.kind, &[]).await?;
            let changed: Vec<Value> = all
                .iter()
                .filter(|r| since.is_none_or(|s| day(&r.updated_at) >= s))
                .map(|r| {
                    json!({"id": r.id, "title": title_of(r), "updated_on": day(&r.updated_at),
                           "new": since.is_none_or(|s| day(&r.created_at) >= s)})
                })
                .collect();
            out.insert(key.into(), json!({"total": all.len(), "changed": changed}));
        }
        Ok(Value::Object(out))
    }

    /// Open nonconformities with their overdue corrective actions, and those closed since the
    /// previous review.
    async fn nonconformity_status(&self, member: &Member, since: Option<&str>, today: &str) -> AppResult<Value> {
        let all = self.every_record(member, NONCONFORMITY.kind, &[]).await?;
        let (closed, open): (Vec<&Record>, Vec<&Record>) = all.iter().partition(|r| r.state.as_deref() == Some("closed"));
        let ids: Vec<String> = open.iter().map(|r| r.id.clone()).collect();
        let overdue = records::count_linked_where(
            &self.db,
            &member.org_id,
            &ids,
            LinkSide::Outgoing("corrective_action_ids"),
            ACTION.kind,
            &overdue_action_filters(today),
        )
        .await?
        .into_iter()
        .collect::<HashMap<String, i64>>();
        let items: Vec<Value> = open
            .iter()
            .map(|r| {
                json!({"id": r.id, "title": title_of(r), "state": r.state, "detected_on": text_of(r, "detected_on"),
                       "actions": ids_in(r, "corrective_action_ids").len(), "overdue_actions": overdue.get(&r.id).copied().unwrap_or(0)})
            })
            .collect();
        let closed_since: Vec<Value> = closed
            .iter()
            .filter(|r| since.is_none_or(|s| day(&r.updated_at) >= s))
            .map(|r| json!({"id": r.id, "title": title_of(r), "closed_on": day(&r.updated_at)}))
            .collect();
        Ok(json!({
            "open": items,
            "overdue_actions": overdue.values().sum::<i64>(),
            "closed_since": closed_since,
        }))
    }

    /// Every objective with where it stands and its measurements (for the trend charts).
    async fn objective_results(&self, member: &Member) -> AppResult<Value> {
        let objectives = self.every_record(member, OBJECTIVE.kind, &[]).await?;
        let mut items = Vec::with_capacity(objectives.len());
        for o in &objectives {
            let mut points = Vec::new();
            let mut after = 0;
            loop {
                let page = records::list_linked(&self.db, &member.org_id, MEASUREMENT.kind, "objective_id", &o.id, after, 200).await?;
                points.extend(page.items.iter().map(|m| json!({"date": text_of(m, "measured_on"), "value": m.data.get("value")})));
                match page.next_after {
                    Some(seq) => after = seq,
                    None => break,
                }
            }
            let status = match o.data.get("on_track") {
                Some(Value::Bool(true)) => "on_track",
                Some(Value::Bool(false)) => "off_track",
                _ => "no_data",
            };
            items.push(json!({
                "id": o.id, "title": title_of(o), "metric": text_of(o, "metric"), "status": status,
                "target": o.data.get("target"), "direction": text_of(o, "direction"), "unit": text_of(o, "unit"),
                "baseline": o.data.get("baseline"), "latest_value": o.data.get("latest_value"), "points": points,
            }));
        }
        Ok(json!({ "items": items }))
    }

    /// Audits and findings, counted by state, whatever kinds of them the product holds.
    async fn audit_results(&self, member: &Member) -> AppResult<Value> {
        let org = &member.org_id;
        Ok(json!({
            "audits": records::count(&self.db, org, AUDIT_KIND).await?,
            "audits_by_state": counts(records::count_grouped(&self.db, org, AUDIT_KIND, GroupBy::State).await?),
            "findings": records::count(&self.db, org, FINDING_KIND).await?,
            "findings_by_state": counts(records::count_grouped(&self.db, org, FINDING_KIND, GroupBy::State).await?),
        }))
    }

    /// Risks by residual level and status, and impact assessments by state.
    async fn risk_status(&self, member: &Member) -> AppResult<Value> {
        let org = &member.org_id;
        let above = [Filter::Flag { field: "residual_above_threshold", value: true }];
        let due = [Filter::Flag { field: "reassessment_due", value: true }];
        Ok(json!({
            "total": records::count(&self.db, org, RISK.kind).await?,
            "by_level": counts(records::count_grouped(&self.db, org, RISK.kind, GroupBy::Field("residual_level")).await?),
            "by_status": counts(records::count_grouped(&self.db, org, RISK.kind, GroupBy::Field("status")).await?),
            "above_threshold": records::count_where(&self.db, org, RISK.kind, &above).await?,
            "impact_assessments": records::count(&self.db, org, IMPACT_ASSESSMENT.kind).await?,
            "impacts_by_state": counts(records::count_grouped(&self.db, org, IMPACT_ASSESSMENT.kind, GroupBy::State).await?),
            "reassessment_due": records::count_where(&self.db, org, IMPACT_ASSESSMENT.kind, &due).await?,
        }))
    }

    /// Suppliers and, where supplier reviews exist, their ratings.
    async fn supplier_performance(&self, member: &Member) -> AppResult<Value> {
        let org = &member.org_id;
        let reviews = kinds::by_kind(SUPPLIER_REVIEW_KIND);
        let rating = reviews.and_then(|k| k.fields.iter().find(|f| f.name.contains("rating") && matches!(f.ty, FieldType::Choice(_))));
        let ratings = match (reviews, rating) {
            (Some(k), Some(f)) => counts(records::count_grouped(&self.db, org, k.kind, GroupBy::Field(f.name)).await?),
            _ => Value::Array(Vec::new()),
        };
        Ok(json!({
            "suppliers": records::count(&self.db, org, SUPPLIER.kind).await?,
            "reviews": match reviews { Some(k) => json!(records::count(&self.db, org, k.kind).await?), None => Value::Null },
            "ratings": ratings,
        }))
    }

    /// Improvements by state, with the open opportunities listed.
    async fn improvement_status(&self, member: &Member) -> AppResult<Value> {
        let org = &member.org_id;
        let mut open = Vec::new();
        for state in ["proposed", "accepted"] {
            open.extend(self.every_record(member, IMPROVEMENT.kind, &[Filter::State(state.into())]).await?);
        }
        let items: Vec<Value> = open.iter().map(|r| json!({"id": r.id, "title": title_of(r), "state": r.state})).collect();
        Ok(json!({
            "by_state": counts(records::count_grouped(&self.db, org, IMPROVEMENT.kind, GroupBy::State).await?),
            "open": items,
        }))
    }
}

/// Holding a review records when; a decision is appended (raising its action); closing
/// freezes the inputs assembled just before the closing transaction.
pub(crate) struct ReviewEffects;

impl Effects for ReviewEffects {
    fn prepare<'a>(&'a self, app: &'a App, member: &'a Member, t: &'static TransitionSpec, segment: &'a str) -> Fut<'a, Option<Value>> {
        Box::pin(async move {
            if t.name != "close" {
                return Ok(None);
            }
            let review = app.get_record_by_id(member, &MANAGEMENT_REVIEW, segment).await?;
            if review.state.as_deref() == Some("closed") {
                return Ok(None);
            }
            Ok(Some(app.assemble_inputs(member, &review).await?))
        })
    }

    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            match c.transition.name {
                "hold" => {
                    c.document.insert("held_at".into(), json!(clock::now_text()));
                    Ok(Applied::default())
                }
                "decide" => {
                    decide(tx, c).await?;
                    Ok(Applied::default())
                }
                "close" => {
                    let pack = c.prepared.ok_or_else(|| AppError::Internal("the review's inputs were not assembled".into()))?;
                    c.document.insert("pack".into(), pack);
                    c.document.insert("closed_at".into(), json!(clock::now_text()));
                    c.document.insert("closed_by".into(), json!(c.member.user_id));
                    Ok(Applied { freeze: true, frozen: None })
                }
                _ => Ok(Applied::default()),
            }
        })
    }
}

/// The action fields of a decision's body, as the action's own fields.
const ACTION_FIELDS: &[(&str, &str)] = &[("action_title", "title"), ("action_owner_id", "owner_id"), ("action_due_date", "due_date")];

/// Records the decision and, when it names an action, raises it in the tracker (source
/// `management_review`) and links it from the review: all in the transition's transaction.
async fn decide(tx: &mut WriteTx, c: Change<'_>) -> AppResult<()> {
    let decision = text(c.body, "decision").unwrap_or_default();
    let wants_action = ACTION_FIELDS.iter().any(|(name, _)| text(c.body, name).is_some());
    let action_id = if wants_action { Some(raise_action(tx, c.member, c.body, &decision).await?.id) } else { None };
    let mut decisions = c.document.get("decisions").and_then(Value::as_array).cloned().unwrap_or_default();
    decisions.push(json!({
        "text": decision,
        "action_id": action_id,
        "recorded_by": c.member.user_id,
        "recorded_at": clock::now_text(),
    }));
    c.document.insert("decisions".into(), Value::Array(decisions));
    if let Some(id) = action_id {
        let mut ids = c.document.get("action_ids").and_then(Value::as_array).cloned().unwrap_or_default();
        ids.push(json!(id));
        c.document.insert("action_ids".into(), Value::Array(ids));
    }
    Ok(())
}

/// Writes the decision's action; a refusal names the decision's field (`action_title`).
async fn raise_action(tx: &mut WriteTx, member: &Member, body: &Value, decision: &str) -> AppResult<Record> {
    if text(body, "action_title").is_none() {
        return Err(ValidationErrors::single("action_title", "required", "name the action to raise").into());
    }
    let mut input = Map::new();
    for (from, to) in ACTION_FIELDS {
        if let Some(value) = text(body, from) {
            input.insert((*to).into(), json!(value));
        }
    }
    input.insert("source".into(), json!(REVIEW_SOURCE));
    input.insert("description".into(), json!(format!("Decided at a management review: {decision}")));
    let renamed = |e: AppError| match e {
        AppError::Validation(errors) => AppError::Validation(ValidationErrors(
            errors
                .0
                .into_iter()
                .map(|mut f| {
                    if let Some((from, _)) = ACTION_FIELDS.iter().find(|(_, to)| *to == f.field) {
                        f.field = (*from).into();
                    }
                    f
                })
                .collect(),
        )),
        other => other,
    };
    let input = Value::Object(input);
    let document = ACTION.validate_create(&input, &[]).map_err(|e| renamed(e.into()))?;
    let mut draft = Draft { reference: None, state: ACTION.initial_state.map(str::to_owned), document };
    rules::before_create(tx, member, &ACTION, &input, &mut draft).await?;
    check_members(tx, &member.org_id, Some(&member.user_id), &ACTION, &draft.document).await.map_err(renamed)?;
    let actor = crate::access::actor(member);
    let action = insert_logged(tx, &member.org_id, &actor, &ACTION, &draft).await?;
    rules::after_write(tx, member, &ACTION, None, &action).await?;
    Ok(action)
}
