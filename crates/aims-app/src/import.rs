//! CSV import of the AI system inventory. Every row is validated before anything is written;
//! errors name the row and column; nothing is imported unless every row is good; rows are
//! matched to existing systems by name, so importing the same file twice changes nothing.

use std::collections::HashMap;

use aims_domain::ValidationErrors;
use aims_domain::kinds::AI_SYSTEM;
use aims_domain::kinds::inventory::LIFECYCLE_STAGES;
use aims_domain::policy::Action;
use aims_domain::validate::FieldType;
use aims_store::model::{Actor, Member};
use aims_store::records;
use serde_json::{Map, Value, json};

use crate::access::{actor, require};
use crate::records::{check_references, diff, insert_logged, update_logged};
use crate::rules::Draft;
use crate::{App, AppError, AppResult};

/// At most this many rows per file.
pub const MAX_ROWS: usize = 10_000;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A validated row: the system's fields and its starting stage.
#[derive(Debug)]
struct Row {
    document: Map<String, Value>,
    stage: Option<String>,
}

impl App {
    /// Imports AI systems from CSV text (header row with field names; lists separated by `;`;
    /// owners by e-mail in `owner_email`).
    pub async fn import_ai_systems(&self, member: &Member, text: &str) -> AppResult<ImportReport> {
        require(member, Action::Edit)?;
        self.import_ai_systems_as(&member.org_id, &actor(member), text).await
    }

    /// The import itself, for the API (as a member) and the CLI (as the system).
    pub async fn import_ai_systems_as(&self, org_id: &str, actor: &Actor, text: &str) -> AppResult<ImportReport> {
        let members: HashMap<String, String> =
            aims_store::orgs::members(&self.db, org_id).await?.into_iter().map(|m| (m.email, m.user_id)).collect();
        let rows = parse_rows(text, &members)?;
        let mut tx = self.db.begin_write().await?;
        let mut report = ImportReport::default();
        for (i, row) in rows.into_iter().enumerate() {
            if let Err(AppError::Validation(e)) = check_references(&mut tx, org_id, None, &AI_SYSTEM, &row.document).await {
                let errors =
                    e.0.into_iter().map(|f| aims_domain::FieldError { field: format!("rows[{}].{}", i + 1, f.field), ..f }).collect();
                return Err(AppError::Validation(ValidationErrors(errors)));
            }
            // Looked up row by row in the name index: memory follows the file, not the inventory.
            let name = row.document.get("name").and_then(Value::as_str).unwrap_or_default();
            match records::by_name_for_update(&mut tx, org_id, AI_SYSTEM.kind, name).await?.as_ref() {
                Some(current) => {
                    let mut document = current.data.clone();
                    for (key, value) in &row.document {
                        document.insert(key.clone(), value.clone());
                    }
                    if diff(&current.data, &document).is_empty() {
                        report.unchanged += 1;
                        continue;
                    }
                    let draft = Draft { reference: None, state: current.state.clone(), document };
                    update_logged(&mut tx, org_id, actor, &AI_SYSTEM, current, &draft, current.archived, "import").await?;
                    report.updated += 1;
                }
                None => {
                    let mut document = row.document;
                    document.insert("lifecycle_stage".into(), json!(row.stage.as_deref().unwrap_or("idea")));
                    let draft = Draft { reference: None, state: None, document };
                    insert_logged(&mut tx, org_id, actor, &AI_SYSTEM, &draft).await?;
                    report.created += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// Reads and validates every row; all errors of all rows are reported together.
fn parse_rows(text: &str, members: &HashMap<String, String>) -> Result<Vec<Row>, ValidationErrors> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ValidationErrors::single("file", "invalid_csv", format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut errors = ValidationErrors::default();
    for header in &headers {
        let known = AI_SYSTEM.field(header).is_some() || matches!(header.as_str(), "owner_email" | "lifecycle_stage");
        if !known || header == "owner_id" || header.ends_with("_ids") {
            errors.push(format!("columns.{header}"), "unknown_column", "not a column of the AI system import");
        }
    }
    if !headers.iter().any(|h| h == "name") {
        errors.push("columns.name", "required", "the file needs a name column");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row_number = i + 1;
        if row_number > MAX_ROWS {
            return Err(ValidationErrors::single("file", "too_many_rows", format!("at most {MAX_ROWS} rows per file")));
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                errors.push(format!("rows[{row_number}]"), "invalid_csv", e.to_string());
                continue;
            }
        };
        match parse_row(&headers, &record, members) {
            Ok(row) => rows.push(row),
            Err(e) => {
                let prefixed = e.0.into_iter().map(|f| aims_domain::FieldError { field: format!("rows[{row_number}].{}", f.field), ..f });
                errors.0.extend(prefixed);
            }
        }
    }
    errors.into_result()?;
    if rows.is_empty() {
        return Err(ValidationErrors::single("file", "empty", "the file has no rows"));
    }
    Ok(rows)
}

fn parse_row(headers: &[String], record: &csv::StringRecord, members: &HashMap<String, String>) -> Result<Row, ValidationErrors> {
    let mut input = Map::new();
    let mut errors = ValidationErrors::default();
    let mut stage = None;
    for (header, cell) in headers.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        match header.as_str() {
            "owner_email" => match members.get(&cell.to_lowercase()) {
                Some(user_id) => {
                    input.insert("owner_id".into(), json!(user_id));
                }
                None => errors.push("owner_email", "unknown_reference", "not a member of this organisation"),
            },
            "lifecycle_stage" if LIFECYCLE_STAGES.contains(&cell) => stage = Some(cell.to_owned()),
            "lifecycle_stage" => errors.push("lifecycle_stage", "invalid_choice", format!("one of: {}", LIFECYCLE_STAGES.join(", "))),
            field => {
                let value = match AI_SYSTEM.field(field).map(|f| f.ty) {
                    Some(FieldType::ChoiceList(_) | FieldType::TextList { .. }) => {
                        Value::Array(cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(|s| json!(s)).collect())
                    }
                    _ => json!(cell),
                };
                input.insert(field.to_owned(), value);
            }
        }
    }
    let document = AI_SYSTEM.validate_create(&Value::Object(input), &[]).map_err(|e| {
        let mut all = errors.clone();
        all.0.extend(e.0);
        all
    })?;
    errors.into_result()?;
    Ok(Row { document, stage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn members() -> HashMap<String, String> {
        HashMap::from([("owner@x.example".to_owned(), "0190c000-0000-7000-8000-000000000001".to_owned())])
    }

    #[test]
    fn rows_are_validated_with_row_and_column() {
        let text = "name,eu_ai_act_role,ai_roles,owner_email\nScoring,provider,ai_provider;ai_producer,owner@x.example\n,deployer,,\nBot,shipper,ai_customer,nobody@x.example\n";
        let errors = parse_rows(text, &members()).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["rows[2].name", "rows[3].owner_email", "rows[3].eu_ai_act_role"]);
        let good = parse_rows("name,ai_roles\nScoring,ai_provider; ai_producer\n", &members()).unwrap();
        assert_eq!(good[0].document["ai_roles"], json!(["ai_provider", "ai_producer"]));
    }

    #[test]
    fn unknown_columns_are_named() {
        let errors = parse_rows("name,colour\nA,red\n", &members()).unwrap_err();
        assert_eq!(errors.0[0].field, "columns.colour");
    }

    proptest! {
        /// Whatever bytes arrive, parsing returns rows or errors, never panics.
        #[test]
        fn never_panics(text in ".{0,300}") {
            let _ = parse_rows(&text, &members());
        }
    }
}
