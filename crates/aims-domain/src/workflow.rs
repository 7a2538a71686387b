//! Transitions as data. Each kind with states declares a [`Workflow`] beside its `KindSpec`:
//! every transition's name and label, the states it leaves from and goes to, who may take it
//! (through the one policy), its separation-of-duties rule and the fields its body takes. The
//! API's routes, the OpenAPI document, the pages and the tests all read these declarations.
//!
//! Separation of duties is judged here, from the record and its history, the same way for every
//! transition that declares [`Sod::Independent`]: see [`Involved::from_history`] and [`judge`].

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::policy::{Action, Denied};

/// The transitions of one kind and what its separation-of-duties judgement reads.
#[derive(Debug)]
pub struct Workflow {
    pub transitions: &'static [TransitionSpec],
    /// The document field naming who asked for the decision (`requested_by`, `submitted_by`).
    pub requester_field: Option<&'static str>,
    /// The document field naming the record's owner (`owner_id`).
    pub owner_field: Option<&'static str>,
    /// Records whose changes are changes of this one: the SoA's entries are the controls.
    pub entries_kind: Option<&'static str>,
}

impl Workflow {
    pub fn get(&self, name: &str) -> Option<&'static TransitionSpec> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The activity-log actions that record an approval (the baseline of "changed since").
    pub fn approval_events(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.transitions.iter().filter(|t| t.approval).map(|t| t.event)
    }

    /// The activity-log actions that ask for a decision (a policy's submission).
    pub fn request_events(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.transitions.iter().filter(|t| t.request).map(|t| t.event)
    }
}

/// One transition of a kind: `POST …/{id}/{name}`.
#[derive(Debug)]
pub struct TransitionSpec {
    /// The path segment (`approve`, `sign-off`).
    pub name: &'static str,
    /// The button's label (`Approve`, `Sign off`).
    pub label: &'static str,
    /// What taking it means, in a sentence (OpenAPI and the page's hint).
    pub summary: &'static str,
    /// The states it leaves from.
    pub from: &'static [&'static str],
    /// The state it goes to; `None` keeps the state (an acknowledgement).
    pub to: Option<&'static str>,
    /// Who may take it, through the one policy.
    pub permission: Permission,
    pub sod: Sod,
    /// The keys its JSON body takes; no other key is accepted.
    pub fields: &'static [BodyField],
    /// The activity log's action for its event.
    pub event: &'static str,
    /// Its outcome approves the record: changes made before it no longer bar anyone.
    pub approval: bool,
    /// It asks for a decision: the owner at this moment is barred from deciding.
    pub request: bool,
}

impl TransitionSpec {
    pub fn leaves_from(&self, state: Option<&str>) -> bool {
        state.is_some_and(|s| self.from.contains(&s))
    }

    pub fn required_fields(&self) -> impl Iterator<Item = &'static BodyField> {
        self.fields.iter().filter(|f| f.required)
    }
}

/// A key of a transition's body (all are text).
#[derive(Debug, Clone, Copy)]
pub struct BodyField {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Said when it is missing (`say why the gate is rejected`).
    pub hint: &'static str,
}

impl BodyField {
    pub const fn optional(name: &'static str, label: &'static str) -> Self {
        Self { name, label, required: false, hint: "" }
    }

    pub const fn required(name: &'static str, label: &'static str, hint: &'static str) -> Self {
        Self { name, label, required: true, hint }
    }
}

/// Who may take a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Whoever the policy allows this action.
    Action(Action),
    /// The requester with `own`, anyone else with `other` (withdrawing a request).
    RequesterOr { own: Action, other: Action },
    /// A residual risk: `within` the acceptance threshold, `above` it.
    ResidualLevel { within: Action, above: Action },
}

impl Permission {
    /// The most any member could need: what the OpenAPI document names.
    pub fn strictest(self) -> Action {
        match self {
            Permission::Action(a) => a,
            Permission::RequesterOr { other, .. } => other,
            Permission::ResidualLevel { above, .. } => above,
        }
    }
}

/// A transition's separation-of-duties rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sod {
    /// Anyone with the permission may take it (submitting, withdrawing, acknowledging).
    None,
    /// An independent decision: never the requester or author, the owner at request time or
    /// since, nor anyone who changed the record (or, for the SoA, an entry) since its last
    /// approval.
    Independent,
    /// A check of others' work (a nonconformity's effectiveness): never the record's owner at
    /// request time or since, nor anyone who ever owned a record it links through `linked` (its
    /// corrective actions), so handing the work to someone else does not clear its doer.
    NotOwner { linked: &'static str, linked_label: &'static str },
}

impl Sod {
    pub fn as_str(self) -> &'static str {
        match self {
            Sod::None => "none",
            Sod::Independent => "independent",
            Sod::NotOwner { .. } => "not-owner",
        }
    }

    /// The link field whose records' owners the judgement reads, if any.
    pub fn linked(self) -> Option<&'static str> {
        match self {
            Sod::NotOwner { linked, .. } => Some(linked),
            _ => None,
        }
    }

    /// The parts of the rule this judgement checks, in the order a refusal names them.
    fn parts(self) -> &'static [SodBreach] {
        use SodBreach::*;
        match self {
            Sod::None => &[],
            Sod::Independent => &[Requester, Author, Owner, ChangedSinceApproval, ChangedEntries],
            Sod::NotOwner { .. } => &[Owner, LinkedOwner],
        }
    }
}

/// One event of a record's history, as the judgement needs it.
#[derive(Debug, Clone)]
pub struct HistoryEvent {
    pub seq: i64,
    /// The activity log's actor (a member's e-mail address, or `system:…`).
    pub actor: String,
    pub action: String,
    pub changes: Value,
}

/// The activity-log actions that change a record's content (not its state or what the system
/// derives from other records).
pub const CHANGE_EVENTS: &[&str] = &["create", "update", "archive"];

/// Everyone involved in what is to be decided, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Involved {
    /// User ids and e-mail addresses (the log names actors by address; records by id).
    pub requesters: BTreeSet<String>,
    pub authors: BTreeSet<String>,
    pub owners: BTreeSet<String>,
    /// Who changed the record since its last approval.
    pub changers: BTreeSet<String>,
    /// Who changed one of its entries since its last approval (the SoA's controls).
    pub entry_changers: BTreeSet<String>,
    /// Everyone who ever owned a record it links (a nonconformity's corrective actions).
    pub linked_owners: BTreeSet<String>,
}

/// The sequence number after which changes count: the record's last approval (0 if never).
pub fn last_approval(workflow: &Workflow, history: &[HistoryEvent]) -> i64 {
    let approvals: Vec<&str> = workflow.approval_events().collect();
    history.iter().filter(|e| approvals.contains(&e.action.as_str())).map(|e| e.seq).max().unwrap_or(0)
}

impl Involved {
    /// Who is involved in a record, from its document, its creator and its history (oldest
    /// first), and the history of its entries since `last_approval` (`entries`).
    pub fn from_history(
        workflow: &Workflow,
        document: &Map<String, Value>,
        created_by: Option<&str>,
        history: &[HistoryEvent],
        entries: &[HistoryEvent],
    ) -> Self {
        let mut involved = Involved::default();
        let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        involved.authors.extend(created_by.map(str::to_owned));
        involved.authors.extend(history.iter().filter(|e| e.action == "create").map(|e| e.actor.clone()));
        let approved = last_approval(workflow, history);
        let requests: Vec<&str> = workflow.request_events().collect();
        // The request this decision answers: the last one since the approval; without one,
        // the approval (or the creation) stands in for it.
        let requested = history.iter().filter(|e| e.seq > approved && requests.contains(&e.action.as_str())).map(|e| e.seq).max();
        if let Some(field) = workflow.requester_field {
            involved.requesters.extend(text(document.get(field)));
        }
        involved.requesters.extend(history.iter().filter(|e| Some(e.seq) == requested).map(|e| e.actor.clone()));
        if let Some(field) = workflow.owner_field {
            involved.owners.extend(text(document.get(field)));
            let since = requested.unwrap_or(approved);
            // The owner at request time is the `from` of the first change after it (or the
            // current owner, when it never changed); every owner since is a `to`.
            for change in history.iter().filter(|e| e.seq > since).filter_map(|e| e.changes.get(field)) {
                involved.owners.extend(text(change.get("from")));
                involved.owners.extend(text(change.get("to")));
            }
        }
        let changed = |e: &&HistoryEvent| e.seq > approved && CHANGE_EVENTS.contains(&e.action.as_str());
        involved.changers.extend(history.iter().filter(changed).map(|e| e.actor.clone()));
        involved.entry_changers.extend(entries.iter().filter(changed).map(|e| e.actor.clone()));
        involved.changers.retain(|a| !a.starts_with("system:"));
        involved.entry_changers.retain(|a| !a.starts_with("system:"));
        involved
    }

    /// Adds everyone who ever owned a linked record: its current owner and every owner its
    /// history (oldest first) names.
    pub fn add_linked_owners(&mut self, owner_field: &str, document: &Map<String, Value>, history: &[HistoryEvent]) {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        self.linked_owners.extend(text(document.get(owner_field)));
        // A creation logs the value itself; a change logs `{from, to}`.
        for change in history.iter().filter_map(|e| e.changes.get(owner_field)) {
            self.linked_owners.extend(text(Some(change)));
            self.linked_owners.extend(text(change.get("from")));
            self.linked_owners.extend(text(change.get("to")));
        }
    }
}

/// Which part of the separation-of-duties rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SodBreach {
    Requester,
    Author,
    Owner,
    ChangedSinceApproval,
    ChangedEntries,
    LinkedOwner,
}

impl SodBreach {
    /// The rule's name in a refusal.
    pub fn code(self) -> &'static str {
        match self {
            SodBreach::Requester => "requester",
            SodBreach::Author => "author",
            SodBreach::Owner => "owner",
            SodBreach::ChangedSinceApproval => "changed-since-approval",
            SodBreach::ChangedEntries => "changed-entries",
            SodBreach::LinkedOwner => "linked-owner",
        }
    }

    fn explain(self, label: &str, sod: Sod) -> String {
        let label = label.to_lowercase();
        match self {
            SodBreach::Requester => format!("you asked for this decision on the {label}; someone else must take it"),
            SodBreach::Author => format!("you wrote this {label}; someone else must decide on it"),
            SodBreach::Owner => format!("you own or owned this {label} since the decision was asked for; someone else must decide on it"),
            SodBreach::ChangedSinceApproval => {
                format!("you changed this {label} since its last approval; someone who did not must decide on it")
            }
            SodBreach::ChangedEntries => {
                format!("you changed entries of the {label} since its last approval; someone who did not must approve it")
            }
            SodBreach::LinkedOwner => {
                let linked = match sod {
                    Sod::NotOwner { linked_label, .. } => linked_label,
                    _ => "linked records",
                };
                format!("you own or owned one of the {linked} of this {label}; someone who did not do the work must check it")
            }
        }
    }
}

/// The separation-of-duties judgement of one transition: `actor` is the deciding member's user
/// id and e-mail address. The refusal names the rule and which part of it refused.
pub fn judge(sod: Sod, actor: (&str, &str), involved: &Involved, label: &str) -> Result<(), (SodBreach, Denied)> {
    let (id, email) = actor;
    let hit = |set: &BTreeSet<String>| set.contains(id) || set.contains(email);
    let set_of = |part: SodBreach| match part {
        SodBreach::Requester => &involved.requesters,
        SodBreach::Author => &involved.authors,
        SodBreach::Owner => &involved.owners,
        SodBreach::ChangedSinceApproval => &involved.changers,
        SodBreach::ChangedEntries => &involved.entry_changers,
        SodBreach::LinkedOwner => &involved.linked_owners,
    };
    match sod.parts().iter().copied().find(|part| hit(set_of(*part))) {
        None => Ok(()),
        Some(breach) => Err((breach, Denied::SeparationOfDuties(format!("({}) {}", breach.code(), breach.explain(label, sod))))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T: &[TransitionSpec] = &[
        TransitionSpec {
            name: "submit",
            label: "Submit",
            summary: "",
            from: &["draft"],
            to: Some("in_review"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "submit",
            approval: false,
            request: true,
        },
        TransitionSpec {
            name: "approve",
            label: "Approve",
            summary: "",
            from: &["in_review"],
            to: Some("approved"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::Independent,
            fields: &[],
            event: "approve",
            approval: true,
            request: false,
        },
    ];
    const W: Workflow = Workflow { transitions: T, requester_field: None, owner_field: Some("owner_id"), entries_kind: None };

    fn event(seq: i64, actor: &str, action: &str, changes: Value) -> HistoryEvent {
        HistoryEvent { seq, actor: actor.into(), action: action.into(), changes }
    }

    #[test]
    fn owners_since_the_request_and_changers_since_the_approval_are_barred() {
        let history = [
            event(1, "a@x", "create", json!({"owner_id": "u-old"})),
            event(2, "b@x", "update", json!({})),
            event(3, "c@x", "approve", json!({})),
            event(4, "d@x", "update", json!({})),
            event(5, "d@x", "submit", json!({})),
            event(6, "e@x", "update", json!({"owner_id": {"from": "u-was", "to": "u-now"}})),
        ];
        let doc = json!({"owner_id": "u-now"}).as_object().cloned().unwrap_or_default();
        let involved = Involved::from_history(&W, &doc, Some("u-a"), &history, &[]);
        assert!(involved.owners.contains("u-was") && involved.owners.contains("u-now"));
        assert!(!involved.owners.contains("u-old"), "an owner before the request is not involved");
        assert_eq!(involved.changers, ["d@x".to_owned(), "e@x".to_owned()].into());
        assert_eq!(involved.requesters, ["d@x".to_owned()].into());
        let (breach, denied) = judge(Sod::Independent, ("u-was", "z@x"), &involved, "Policy").unwrap_err();
        assert_eq!(breach, SodBreach::Owner);
        assert!(denied.to_string().starts_with("rule separation-of-duties: (owner)"));
        assert_eq!(judge(Sod::Independent, ("u-b", "b@x"), &involved, "Policy").map_err(|e| e.0), Ok(()));
        assert_eq!(judge(Sod::Independent, ("u-a", "a@x"), &involved, "Policy").map_err(|e| e.0), Err(SodBreach::Author));
        assert!(judge(Sod::None, ("u-a", "a@x"), &involved, "Policy").is_ok());
    }

    #[test]
    fn owners_of_the_linked_work_may_not_check_it() {
        const SOD: Sod = Sod::NotOwner { linked: "corrective_action_ids", linked_label: "corrective actions" };
        let action = [
            event(1, "a@x", "create", json!({"owner_id": "u-did"})),
            event(2, "u-did@x", "update", json!({"owner_id": {"from": "u-did", "to": "u-next"}})),
        ];
        let doc = json!({"owner_id": "u-nc"}).as_object().cloned().unwrap_or_default();
        let mut involved = Involved::from_history(&W, &doc, Some("u-author"), &[], &[]);
        let action_doc = json!({"owner_id": "u-next"}).as_object().cloned().unwrap_or_default();
        involved.add_linked_owners("owner_id", &action_doc, &action);
        assert_eq!(involved.linked_owners, ["u-did".to_owned(), "u-next".to_owned()].into());
        let refused = |who: &str| judge(SOD, (who, "z@x"), &involved, "Nonconformity").map_err(|e| e.0);
        assert_eq!(refused("u-did"), Err(SodBreach::LinkedOwner), "a former owner of the action");
        assert_eq!(refused("u-nc"), Err(SodBreach::Owner));
        // Writing the record is not doing the work: its author may check it.
        assert_eq!(refused("u-author"), Ok(()));
        let denied = judge(SOD, ("u-next", "z@x"), &involved, "Nonconformity").unwrap_err().1;
        assert!(denied.to_string().starts_with("rule separation-of-duties: (linked-owner)"), "{denied}");
        // The independent rule is unchanged by linked owners it does not read.
        assert_eq!(judge(Sod::Independent, ("u-did", "z@x"), &involved, "Policy").map_err(|e| e.0), Ok(()));
    }

    #[test]
    fn entry_changes_since_the_approval_bar_their_authors() {
        let entries =
            [event(2, "b@x", "update", json!({})), event(7, "c@x", "update", json!({})), event(8, "system:import", "update", json!({}))];
        let history = [event(1, "system:setup", "create", json!({})), event(5, "a@x", "approve", json!({}))];
        let since: Vec<HistoryEvent> = entries.iter().filter(|e| e.seq > last_approval(&W, &history)).cloned().collect();
        let involved = Involved::from_history(&W, &Map::new(), None, &history, &since);
        assert_eq!(involved.entry_changers, ["c@x".to_owned()].into());
        assert_eq!(judge(Sod::Independent, ("u-c", "c@x"), &involved, "SoA").map_err(|e| e.0), Err(SodBreach::ChangedEntries));
    }
}
