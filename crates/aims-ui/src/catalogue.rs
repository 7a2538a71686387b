//! The organisation's ISO/IEC 42001 catalogue rows as the pages show them: gap-assessment
//! entries grouped by clause and SoA entries grouped by Annex A group, with their counts.
//! Shared by the dashboard, the gap assessment and the Statement of Applicability.

use std::collections::HashMap;

use aims_app::App;
use aims_domain::cursor::MAX_LIMIT;
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use serde_json::Value;

use crate::charts::Segment;
use crate::error::UiError;
use crate::text::humanize;

/// Every (non-archived) record of a kind, following pages until the end.
pub(crate) async fn all(app: &App, member: &Member, spec: &KindSpec) -> Result<Vec<Record>, UiError> {
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = app.list_records(member, spec, false, after, MAX_LIMIT).await?;
        records.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => return Ok(records),
        }
    }
}

/// A text field of a record's document ("" when absent or null).
pub(crate) fn field(record: &Record, name: &str) -> String {
    match record.data.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub(crate) fn reference(record: &Record) -> String {
    record.reference.clone().unwrap_or_else(|| record.id.clone())
}

fn owner_name(record: &Record, names: &HashMap<String, String>) -> String {
    let id = field(record, "owner_id");
    if id.is_empty() { String::new() } else { names.get(&id).cloned().unwrap_or_else(|| "former member".into()) }
}

// ---- gap assessment ----

pub(crate) const GAP_ORDER: [(&str, &str); 3] = [("in_place", "In place"), ("partial", "Partial"), ("missing", "Missing")];

pub(crate) struct RequirementRow {
    pub reference: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
    pub owner: String,
    pub href: String,
}

pub(crate) struct Clause {
    pub reference: String,
    pub title: String,
    pub rows: Vec<RequirementRow>,
}

impl Clause {
    pub fn segments(&self) -> Vec<Segment> {
        GAP_ORDER
            .iter()
            .map(|(status, label)| Segment { status, label, count: self.rows.iter().filter(|r| r.status == *status).count() })
            .collect()
    }

    pub fn in_place(&self) -> usize {
        self.rows.iter().filter(|r| r.status == "in_place").count()
    }

    pub fn progress_svg(&self) -> String {
        crate::charts::progress(&format!("Clause {}", self.reference), &self.segments())
    }
}

/// Requirements grouped under their clauses, in document order.
pub(crate) fn clauses(slug: &str, records: &[Record], names: &HashMap<String, String>) -> Vec<Clause> {
    let mut clauses: Vec<Clause> = Vec::new();
    for record in records {
        let clause_ref = field(record, "clause");
        let reference = reference(record);
        let status = field(record, "status");
        let row = RequirementRow {
            href: format!("/orgs/{slug}/requirements/{reference}"),
            reference,
            title: field(record, "title"),
            status_label: humanize(&status),
            status,
            owner: owner_name(record, names),
        };
        match clauses.last_mut() {
            Some(last) if last.reference == clause_ref => last.rows.push(row),
            _ => clauses.push(Clause { reference: clause_ref, title: field(record, "clause_title"), rows: vec![row] }),
        }
    }
    clauses
}

// ---- Statement of Applicability ----

pub(crate) const SOA_ORDER: [(&str, &str); 5] = [
    ("implemented", "Implemented"),
    ("partial", "Partial"),
    ("planned", "Planned"),
    ("not_started", "Not started"),
    ("excluded", "Excluded"),
];

pub(crate) struct ControlRow {
    pub reference: String,
    pub title: String,
    pub applicable: bool,
    pub status: String,
    pub status_label: String,
    pub owner: String,
    pub last_reviewed: String,
    pub href: String,
    /// The justification, shortened for a list (auditors look for it on excluded controls).
    pub justification: String,
    /// Evidence items that name this control (the SoA table fills it in; 0 elsewhere).
    pub evidence: usize,
}

impl ControlRow {
    /// The status that counts in charts: excluded controls are not implemented or not.
    pub fn chart_status(&self) -> &str {
        if self.applicable { &self.status } else { "excluded" }
    }
}

pub(crate) struct ControlGroup {
    pub reference: String,
    pub title: String,
    pub rows: Vec<ControlRow>,
}

impl ControlGroup {
    pub fn segments(&self) -> Vec<Segment> {
        soa_segments(self.rows.iter())
    }

    pub fn implemented(&self) -> usize {
        self.rows.iter().filter(|r| r.applicable && r.status == "implemented").count()
    }

    pub fn applicable(&self) -> usize {
        self.rows.iter().filter(|r| r.applicable).count()
    }

    pub fn progress_svg(&self) -> String {
        crate::charts::progress(&format!("{} {}", self.reference, self.title), &self.segments())
    }
}

pub(crate) fn soa_segments<'a>(rows: impl Iterator<Item = &'a ControlRow> + Clone) -> Vec<Segment> {
    SOA_ORDER
        .iter()
        .map(|(status, label)| Segment { status, label, count: rows.clone().filter(|r| r.chart_status() == *status).count() })
        .collect()
}

pub(crate) fn control_row(slug: &str, record: &Record, names: &HashMap<String, String>) -> ControlRow {
    let reference = reference(record);
    let status = field(record, "implementation_status");
    ControlRow {
        href: format!("/orgs/{slug}/controls/{reference}"),
        reference,
        title: field(record, "title"),
        applicable: record.data.get("applicable") != Some(&Value::Bool(false)),
        status_label: humanize(&status),
        status,
        owner: owner_name(record, names),
        last_reviewed: field(record, "last_reviewed_on"),
        justification: crate::text::truncate(&field(record, "justification"), 140),
        evidence: 0,
    }
}

pub(crate) fn is_annex_a(record: &Record) -> bool {
    record.data.get("source").and_then(Value::as_str) == Some("iso42001")
}

/// Annex A controls grouped A.2 … A.10 (in natural order, as listed), and the organisation's
/// own controls after them.
pub(crate) fn control_groups(slug: &str, records: &[Record], names: &HashMap<String, String>) -> (Vec<ControlGroup>, Vec<ControlRow>) {
    let mut groups: Vec<ControlGroup> = Vec::new();
    let mut own = Vec::new();
    for record in records {
        let row = control_row(slug, record, names);
        if !is_annex_a(record) {
            own.push(row);
            continue;
        }
        let group_ref = field(record, "group");
        match groups.last_mut() {
            Some(last) if last.reference == group_ref => last.rows.push(row),
            _ => groups.push(ControlGroup { reference: group_ref, title: field(record, "group_title"), rows: vec![row] }),
        }
    }
    (groups, own)
}
