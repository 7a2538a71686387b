//! Form plumbing shared by the pages: field errors from the services shown next to their
//! fields, the outcome banner of a save, and select options.

use aims_app::AppError;
use aims_domain::{FieldError, ValidationErrors};
use aims_store::model::Member;

use axum::http::StatusCode;

use crate::error::UiError;

/// Field errors of a submitted form, by field name.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormErrors(Vec<FieldError>);

impl FormErrors {
    pub fn from_validation(errors: ValidationErrors) -> Self {
        Self(errors.0)
    }

    pub fn single(field: &str, message: &str) -> Self {
        Self(vec![FieldError::new(field, "invalid", message)])
    }

    /// The message for one field (the first, if the service found several), as a sentence.
    pub fn get(&self, field: &str) -> Option<String> {
        let prefix = format!("{field}[");
        let error = self.0.iter().find(|e| e.field == field || e.field.starts_with(&prefix))?;
        Some(sentence(&error.message))
    }

    /// The message for exactly this field (not its rows' fields).
    pub fn get_exact(&self, field: &str) -> Option<String> {
        self.0.iter().find(|e| e.field == field).map(|e| sentence(&e.message))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Errors about fields the form does not show (so they are not lost): `field: message`.
    pub fn others(&self, shown: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .filter(|e| !shown.iter().any(|s| e.field == *s || e.field.starts_with(&format!("{s}["))))
            .map(|e| if e.field.is_empty() { e.message.clone() } else { format!("{}: {}", e.field, e.message) })
            .collect()
    }
}

/// Service messages are lower-case fragments ("an excluded control needs a justification");
/// under a field they read better as a sentence.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A banner above a form: what happened to the last submission.
#[derive(Debug, Default)]
pub(crate) enum Notice {
    #[default]
    None,
    Saved,
    /// Something else went well; the text says what.
    Done(String),
    Invalid,
    Stale,
    Forbidden(String),
    Conflict(String),
}

impl Notice {
    pub fn is_some(&self) -> bool {
        !matches!(self, Notice::None)
    }

    /// `ok`, `error` or `warning`, the banner's style.
    pub fn tone(&self) -> &'static str {
        match self {
            Notice::None | Notice::Saved | Notice::Done(_) => "ok",
            Notice::Stale => "warning",
            _ => "error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Notice::None => String::new(),
            Notice::Saved => "Saved.".into(),
            Notice::Done(what) => what.clone(),
            Notice::Invalid => "Some fields need attention — see the messages below.".into(),
            Notice::Stale => "This record was changed by someone else since you opened it — reload to see the current version.".into(),
            Notice::Forbidden(rule) => forbidden_message(rule),
            Notice::Conflict(why) => why.clone(),
        }
    }

    pub fn is_stale(&self) -> bool {
        matches!(self, Notice::Stale)
    }
}

/// The policy's refusal ("rule separation-of-duties: …") as a sentence for people, still
/// naming the rule.
pub(crate) fn forbidden_message(rule: &str) -> String {
    match rule.strip_prefix("rule ").and_then(|r| r.split_once(": ")) {
        // Action codes in the reason (`accept_risk_above_threshold`) read as words.
        Some((name, why)) => format!("Not allowed (rule {name}): {}", why.replace('_', " ")),
        None => format!("Not allowed: {rule}"),
    }
}

/// How a failed save is presented: on the form (with a banner and field errors), or as an
/// error page when the form cannot help (record gone, internal failure).
pub(crate) fn rejected(e: AppError) -> Result<(Notice, FormErrors), UiError> {
    match e {
        AppError::Validation(errors) => Ok((Notice::Invalid, FormErrors::from_validation(errors))),
        AppError::Stale { .. } => Ok((Notice::Stale, FormErrors::default())),
        AppError::Forbidden(denied) => Ok((Notice::Forbidden(denied.to_string()), FormErrors::default())),
        AppError::Conflict(why) => Ok((Notice::Conflict(why), FormErrors::default())),
        other => Err(other.into()),
    }
}

/// One `<option>` of a select.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options for a choice field, labelled for people, with `current` selected.
pub(crate) fn choices(values: &[&str], current: &str) -> Vec<Choice> {
    values.iter().map(|v| Choice { value: (*v).to_owned(), label: crate::text::humanize(v), selected: *v == current }).collect()
}

/// Options for an owner select: "Unassigned", then every member by name.
pub(crate) fn owner_choices(members: &[Member], current: &str) -> Vec<Choice> {
    let mut options = vec![Choice { value: String::new(), label: "— Unassigned —".into(), selected: current.is_empty() }];
    options.extend(members.iter().map(|m| Choice {
        value: m.user_id.clone(),
        label: format!("{} ({})", m.display_name, m.role),
        selected: m.user_id == current,
    }));
    options
}

/// A form text value as the JSON a patch carries: blank is `null` (clears the field).
pub(crate) fn text_or_null(value: &str) -> serde_json::Value {
    let trimmed = value.trim();
    if trimmed.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(trimmed.to_owned()) }
}

/// The HTTP status of a page that shows the outcome of a submission.
pub(crate) fn status_for(notice: &Notice) -> StatusCode {
    match notice {
        Notice::None | Notice::Saved | Notice::Done(_) => StatusCode::OK,
        Notice::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Notice::Stale | Notice::Conflict(_) => StatusCode::CONFLICT,
        Notice::Forbidden(_) => StatusCode::FORBIDDEN,
    }
}

/// The status of a re-shown form: 422 while fields have errors, else as the notice says.
pub(crate) fn form_status(notice: &Notice, errors: &FormErrors) -> StatusCode {
    if errors.is_empty() { status_for(notice) } else { StatusCode::UNPROCESSABLE_ENTITY }
}
