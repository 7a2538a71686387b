//! A small declarative schema for record documents: each record kind lists its fields with a
//! type and rules; [`KindSpec::validate_create`] and [`KindSpec::validate_patch`] check input
//! against it, collecting every problem with the field it concerns. The same specs drive the
//! OpenAPI schemas and the web forms, so the three can never disagree.

use serde_json::{Map, Value};

use crate::{ValidationErrors, clock};

/// The type of a record field and its rules.
#[derive(Debug, Clone, Copy)]
pub enum FieldType {
    /// Free text, trimmed, at most `max` characters.
    Text {
        max: usize,
    },
    /// One of the listed values.
    Choice(&'static [&'static str]),
    Bool,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// The UUID of a member of the organisation (checked against the store by the service).
    UserId,
    /// UUIDs of records of `kind` in the same organisation: a link, stored as a foreign key.
    Ids {
        kind: &'static str,
    },
    /// References of catalogue rows (`control_refs`, `requirement_refs`).
    Refs {
        kind: &'static str,
    },
    /// The UUID of one record of `kind` in the same organisation: a single link.
    Link {
        kind: &'static str,
    },
    /// A whole number within bounds.
    Integer {
        min: i64,
        max: i64,
    },
    /// A finite decimal number (measurements, targets).
    Number,
    /// A list of short texts (geographies, business units, …).
    TextList {
        max_items: usize,
        max: usize,
    },
    /// A list of distinct values, each one of the listed choices.
    ChoiceList(&'static [&'static str]),
    /// A list of objects, each checked against the nested fields; errors name `field[i].name`.
    Items {
        fields: &'static [FieldSpec],
        max_items: usize,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    /// Must be present and non-empty on create (and cannot be set to null).
    pub required: bool,
    /// The value a new record gets when the field is not given.
    pub default: Default,
}

/// A field only the system writes, with the shape its value takes when set: it is `null`
/// until then. The OpenAPI response schemas are generated from these.
#[derive(Debug, Clone, Copy)]
pub struct SystemField {
    pub name: &'static str,
    pub shape: Shape,
}

/// The JSON shape of a system-written field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    Integer,
    Number,
    Bool,
    /// An RFC 3339 UTC timestamp.
    Timestamp,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// The UUID of a user.
    UserId,
    /// UUIDs of users.
    UserIds,
    /// The UUID of a record (the parent of a nested record).
    RecordId,
    /// A list of short texts.
    TextList,
    /// A JSON object (a snapshot of another record).
    Object,
    /// A list of JSON objects (notes, acknowledgements).
    Objects,
}

pub const fn sys(name: &'static str, shape: Shape) -> SystemField {
    SystemField { name, shape }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    Null,
    Text(&'static str),
    Bool(bool),
    EmptyList,
}

impl FieldSpec {
    pub const fn new(name: &'static str, label: &'static str, ty: FieldType) -> Self {
        let default = match ty {
            FieldType::Ids { .. }
            | FieldType::Refs { .. }
            | FieldType::TextList { .. }
            | FieldType::ChoiceList(_)
            | FieldType::Items { .. } => Default::EmptyList,
            _ => Default::Null,
        };
        Self { name, label, ty, required: false, default }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn default_text(mut self, value: &'static str) -> Self {
        self.default = Default::Text(value);
        self
    }
    pub const fn default_bool(mut self, value: bool) -> Self {
        self.default = Default::Bool(value);
        self
    }

    /// Whether a stored record may hold `null` here: an optional field without a default.
    pub fn nullable(&self) -> bool {
        !self.required && self.default == Default::Null
    }

    fn default_value(&self) -> Value {
        match self.default {
            Default::Null => Value::Null,
            Default::Text(t) => Value::String(t.to_owned()),
            Default::Bool(b) => Value::Bool(b),
            Default::EmptyList => Value::Array(Vec::new()),
        }
    }
}

/// A cross-field rule of a kind, run on the whole document after field checks pass.
pub type Rule = fn(&Map<String, Value>, &mut ValidationErrors);

/// Everything the generic record machinery needs to know about one kind of record.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// Singular snake_case name, as `record_type` in the activity log.
    pub kind: &'static str,
    /// The API collection segment.
    pub collection: &'static str,
    pub label: &'static str,
    pub plural_label: &'static str,
    /// Fields a client may write.
    pub fields: &'static [FieldSpec],
    /// Fields that are part of the record but only the system writes (catalogue text, …).
    pub system_fields: &'static [SystemField],
    pub rules: &'static [Rule],
    /// When frozen revisions of a record are kept.
    pub revisions: Revisions,
    /// One record per organisation (`scope`, `risk-criteria`): GET and PATCH only.
    pub singleton: bool,
    /// Clients may create (and archive) records of this kind.
    pub creatable: bool,
    /// Records are addressed by their reference (`controls/A.6.2.4`) rather than their id.
    pub addressed_by_ref: bool,
    /// Records live under a parent record (`ai-systems/{id}/resources`).
    pub parent: Option<Parent>,
    /// The `state` a new record starts in; states change only by transitions.
    pub initial_state: Option<&'static str>,
    /// Records carry an uploaded file: created by a multipart upload, not a JSON body.
    pub uploads: bool,
    /// The kind's transitions (see [`crate::workflow`]); `None`: its records have no states.
    pub workflow: Option<&'static crate::workflow::Workflow>,
    /// What the policy must allow to create, change or archive a record of this kind: `Edit`
    /// for the records of the management system, `Audit` for audit records (so an auditor
    /// records audits and findings and still cannot change what they audit).
    pub write: crate::policy::Action,
}

/// When a kind keeps frozen revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revisions {
    None,
    /// Every change freezes the new edition (scope, context, criteria).
    EveryChange,
    /// A transition (sign-off, approval) freezes the edition it concerns.
    OnTransition,
}

/// The parent of a nested kind: the link field that holds it and the parent's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    pub field: &'static str,
    pub kind: &'static str,
    pub collection: &'static str,
}

/// The fields every record carries outside its document.
pub const ENVELOPE_FIELDS: &[&str] =
    &["id", "version", "created_at", "updated_at", "created_by", "updated_by", "archived", "state", "lifecycle_stage"];

impl KindSpec {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn system_field(&self, name: &str) -> Option<&SystemField> {
        self.system_fields.iter().find(|f| f.name == name)
    }

    /// Checks a create body and returns the full document with defaults filled in.
    /// `extra_allowed` names further keys the caller handles itself (such as `ref`).
    pub fn validate_create(&self, input: &Value, extra_allowed: &[&str]) -> Result<Map<String, Value>, ValidationErrors> {
        let object = as_object(input)?;
        let mut errors = ValidationErrors::default();
        self.refuse_unknown_keys(object, extra_allowed, &mut errors);
        let mut document = Map::new();
        for spec in self.fields {
            // `null` means "not given": the field gets its default, as a patch's `null` does.
            let value = object.get(spec.name).filter(|v| !v.is_null()).cloned().unwrap_or_else(|| spec.default_value());
            if let Some(normalised) = check_field(spec, &value, &mut errors) {
                document.insert(spec.name.to_owned(), normalised);
            }
        }
        errors.into_result()?;
        self.run_rules(&document)?;
        Ok(document)
    }

    /// Applies a JSON merge patch (RFC 7396) to `current` and checks the result. Read-only and
    /// unknown keys are refused.
    pub fn validate_patch(&self, current: &Map<String, Value>, patch: &Value) -> Result<Map<String, Value>, ValidationErrors> {
        let object = as_object(patch)?;
        let mut errors = ValidationErrors::default();
        self.refuse_unknown_keys(object, &[], &mut errors);
        let mut document = current.clone();
        for (key, value) in object {
            let Some(spec) = self.field(key) else {
                continue;
            };
            let merged = match (document.get(key), value) {
                (Some(Value::Object(old)), Value::Object(_)) => merge_patch(Value::Object(old.clone()), value),
                // Clearing a required field is refused (check_field reports it); clearing an
                // optional one resets it to its empty value.
                _ if value.is_null() && !spec.required => spec.default_value(),
                _ => value.clone(),
            };
            if let Some(normalised) = check_field(spec, &merged, &mut errors) {
                document.insert(key.clone(), normalised);
            }
        }
        errors.into_result()?;
        self.run_rules(&document)?;
        Ok(document)
    }

    fn refuse_unknown_keys(&self, object: &Map<String, Value>, extra_allowed: &[&str], errors: &mut ValidationErrors) {
        for key in object.keys() {
            if self.field(key).is_some() || extra_allowed.contains(&key.as_str()) {
                continue;
            }
            if ENVELOPE_FIELDS.contains(&key.as_str()) || self.system_field(key).is_some() || key == "ref" {
                errors.push(key.clone(), "read_only", "this field is read-only");
            } else {
                errors.push(key.clone(), "unknown_field", format!("{} has no field {key}", self.label));
            }
        }
    }

    fn run_rules(&self, document: &Map<String, Value>) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for rule in self.rules {
            rule(document, &mut errors);
        }
        errors.into_result()
    }

    /// The link fields (`…_ids`) of this kind with their target kinds.
    pub fn link_fields(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.fields.iter().filter_map(|f| match f.ty {
            FieldType::Ids { kind } | FieldType::Link { kind } => Some((f.name, kind)),
            _ => None,
        })
    }
}

fn as_object(value: &Value) -> Result<&Map<String, Value>, ValidationErrors> {
    value.as_object().ok_or_else(|| ValidationErrors::single("", "invalid_type", "the body must be a JSON object"))
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: Value, patch: &Value) -> Value {
    let Value::Object(patch_map) = patch else {
        return patch.clone();
    };
    let mut target_map = match target {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            let old = target_map.remove(key).unwrap_or(Value::Null);
            target_map.insert(key.clone(), merge_patch(old, value));
        }
    }
    Value::Object(target_map)
}

/// Checks one value against its spec; returns the normalised value, or records errors.
fn check_field(spec: &FieldSpec, value: &Value, errors: &mut ValidationErrors) -> Option<Value> {
    check_field_at(spec.name, spec, value, errors)
}

/// [`check_field`] for a field at `field` (a path such as `impacts[2].severity`).
fn check_field_at(field: &str, spec: &FieldSpec, value: &Value, errors: &mut ValidationErrors) -> Option<Value> {
    let empty_list = value.as_array().is_some_and(Vec::is_empty);
    // A blank text empties a text field (forms send one); for a date, id, choice, number, flag
    // or list it is the wrong value, as the OpenAPI schema says.
    let blank = matches!(spec.ty, FieldType::Text { .. }) && value.as_str().is_some_and(|s| s.trim().is_empty());
    if value.is_null() || blank || (empty_list && spec.required) {
        if spec.required {
            errors.push(field, "required", format!("{} is required", spec.label));
            return None;
        }
        return Some(spec.default_value());
    }
    match spec.ty {
        FieldType::Text { max } => match value.as_str() {
            Some(text) if text.trim().chars().count() > max => {
                errors.push(field, "too_long", format!("at most {max} characters"));
                None
            }
            Some(text) if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
                errors.push(field, "invalid_format", "control characters are not allowed");
                None
            }
            Some(text) => Some(Value::String(text.trim().to_owned())),
            None => type_error(errors, field, "a string"),
        },
        FieldType::Choice(choices) => match value.as_str() {
            Some(text) if choices.contains(&text) => Some(value.clone()),
            Some(_) => {
                errors.push(field, "invalid_choice", format!("one of: {}", choices.join(", ")));
                None
            }
            None => type_error(errors, field, "a string"),
        },
        FieldType::Bool => match value {
            Value::Bool(_) => Some(value.clone()),
            _ => type_error(errors, field, "true or false"),
        },
        FieldType::Date => match value.as_str().map(|t| clock::parse_date(t.trim())) {
            Some(Some(date)) => Some(Value::String(clock::format_date(date))),
            Some(None) => {
                errors.push(field, "invalid_format", "a date as YYYY-MM-DD");
                None
            }
            None => type_error(errors, field, "a date string"),
        },
        FieldType::UserId | FieldType::Link { .. } => match value.as_str().map(uuid::Uuid::parse_str) {
            Some(Ok(id)) => Some(Value::String(id.to_string())),
            Some(Err(_)) => {
                errors.push(field, "invalid_format", "a UUID");
                None
            }
            None => type_error(errors, field, "a UUID string"),
        },
        FieldType::Ids { .. } => check_list(field, value, errors, |i, item| {
            item.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()).map(|u| Value::String(u.to_string())).ok_or(format!("{field}[{i}]"))
        }),
        FieldType::Refs { .. } => check_list(field, value, errors, |i, item| {
            item.as_str()
                .filter(|s| !s.trim().is_empty() && s.len() <= 64)
                .map(|s| Value::String(s.trim().to_owned()))
                .ok_or(format!("{field}[{i}]"))
        }),
        FieldType::Integer { min, max } => match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(Value::from(n)),
            Some(_) => {
                errors.push(field, "out_of_range", format!("a whole number from {min} to {max}"));
                None
            }
            None => type_error(errors, field, "a whole number"),
        },
        FieldType::Number => match value.as_f64() {
            Some(n) if n.is_finite() => Some(value.clone()),
            _ => type_error(errors, field, "a number"),
        },
        FieldType::TextList { max_items, max } => {
            if value.as_array().is_some_and(|a| a.len() > max_items) {
                errors.push(field, "too_many", format!("at most {max_items} items"));
                return None;
            }
            check_list(field, value, errors, |i, item| {
                item.as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && s.chars().count() <= max)
                    .map(|s| Value::String(s.to_owned()))
                    .ok_or(format!("{field}[{i}]"))
            })
        }
        FieldType::ChoiceList(choices) => {
            let before = errors.0.len();
            let result = check_list(field, value, errors, |i, item| {
                item.as_str().filter(|s| choices.contains(s)).map(|s| Value::String(s.to_owned())).ok_or(format!("{field}[{i}]"))
            });
            for error in &mut errors.0[before..] {
                error.code = "invalid_choice".into();
                error.message = format!("one of: {}", choices.join(", "));
            }
            result
        }
        FieldType::Items { fields, max_items } => check_items(field, fields, max_items, value, errors),
    }
}

/// A list of objects: each item's fields are checked like a record's, with paths
/// `field[i].name`; unknown keys inside an item are refused.
fn check_items(field: &str, fields: &'static [FieldSpec], max_items: usize, value: &Value, errors: &mut ValidationErrors) -> Option<Value> {
    let Some(items) = value.as_array() else { return type_error(errors, field, "a list of objects") };
    if items.len() > max_items {
        errors.push(field, "too_many", format!("at most {max_items} items"));
        return None;
    }
    let before = errors.0.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(object) = item.as_object() else {
            errors.push(format!("{field}[{i}]"), "invalid_type", "expected an object");
            continue;
        };
        for key in object.keys().filter(|k| !fields.iter().any(|f| f.name == k.as_str())) {
            errors.push(format!("{field}[{i}].{key}"), "unknown_field", format!("unknown field {key}"));
        }
        let mut normalised = Map::new();
        for spec in fields {
            let path = format!("{field}[{i}].{}", spec.name);
            // `null` means "not given": the field gets its default, as a patch's `null` does.
            let value = object.get(spec.name).filter(|v| !v.is_null()).cloned().unwrap_or_else(|| spec.default_value());
            if let Some(v) = check_field_at(&path, spec, &value, errors) {
                normalised.insert(spec.name.to_owned(), v);
            }
        }
        out.push(Value::Object(normalised));
    }
    (errors.0.len() == before).then_some(Value::Array(out))
}

fn check_list(
    field: &str,
    value: &Value,
    errors: &mut ValidationErrors,
    item_check: impl Fn(usize, &Value) -> Result<Value, String>,
) -> Option<Value> {
    let Some(items) = value.as_array() else {
        return type_error(errors, field, "a list");
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match item_check(i, item) {
            Ok(v) if !out.contains(&v) => out.push(v),
            Ok(_) => {}
            Err(path) => {
                errors.push(path, "invalid_format", "not a valid reference");
                ok = false;
            }
        }
    }
    ok.then_some(Value::Array(out))
}

fn type_error(errors: &mut ValidationErrors, field: &str, expected: &str) -> Option<Value> {
    errors.push(field, "invalid_type", format!("expected {expected}"));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}})),
            (json!(["a"]), json!({"a":"c"}), json!({"a":"c"})),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(merge_patch(target, &patch), expected);
        }
    }

    proptest! {
        #[test]
        fn merge_patch_is_idempotent(a in "[a-c]{1,3}", b in "[a-c]{0,3}") {
            let target = json!({"x": a, "y": {"z": 1}});
            let patch = json!({"x": b, "y": null});
            let once = merge_patch(target, &patch);
            prop_assert_eq!(merge_patch(once.clone(), &patch), once);
        }
    }
}
