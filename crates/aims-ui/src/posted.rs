//! A posted form read back as a kind's JSON: its own module so that the form renderer
//! (`recform`) and the picker, which both read posted forms, do not depend on each other.

use std::collections::BTreeMap;

use aims_domain::validate::{FieldSpec, FieldType};
use serde_json::{Map, Value};

/// A posted form: its values by name, repeated names in order.
pub(crate) struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn one(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty()).collect()
    }

    /// The JSON of the fields (except `skip`). `patch` writes blanks as null (clearing the
    /// field); a create leaves blanks out, so defaults apply.
    pub fn to_json(&self, fields: &[FieldSpec], skip: &[&str], patch: bool) -> Map<String, Value> {
        let mut out = Map::new();
        for field in fields.iter().filter(|f| !skip.contains(&f.name)) {
            if let Some(value) = self.value(field, field.name) {
                if value.is_null() && !patch {
                    continue;
                }
                out.insert(field.name.to_owned(), value);
            }
        }
        out
    }

    fn value(&self, field: &FieldSpec, name: &str) -> Option<Value> {
        let text = || self.one(name);
        let or_null = |t: String| if t.is_empty() { Value::Null } else { Value::String(t) };
        Some(match field.ty {
            FieldType::Text { .. } | FieldType::Choice(_) | FieldType::Date | FieldType::UserId | FieldType::Link { .. } => or_null(text()),
            FieldType::ChoiceList(_) | FieldType::Ids { .. } => Value::Array(self.all(name).into_iter().map(Value::String).collect()),
            FieldType::TextList { .. } | FieldType::Refs { .. } => {
                Value::Array(text().split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| Value::String(t.to_owned())).collect())
            }
            FieldType::Bool => Value::Bool(self.0.iter().any(|(k, v)| k == name && v == "true")),
            FieldType::Integer { .. } => {
                let t = text();
                if t.is_empty() {
                    Value::Null
                } else {
                    // Not a number: passed on as text, so the service names the field.
                    t.parse::<i64>().map_or(Value::String(t), Value::from)
                }
            }
            FieldType::Number => {
                let t = text();
                match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                    _ if t.is_empty() => Value::Null,
                    Some(n) => Value::Number(n),
                    // Not a number: passed on as text, so the service names the field.
                    None => Value::String(t),
                }
            }
            FieldType::Items { fields, .. } => {
                let prefix = format!("{name}[");
                let indices: BTreeMap<usize, ()> = self
                    .0
                    .iter()
                    .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split(']').next()?.parse::<usize>().ok())
                    .map(|i| (i, ()))
                    .collect();
                let mut rows = Vec::new();
                for i in indices.keys() {
                    let mut row = Map::new();
                    let mut any = false;
                    for sub in fields {
                        let sub_name = format!("{name}[{i}].{}", sub.name);
                        if let Some(v) = self.value(sub, &sub_name) {
                            any |= match &v {
                                Value::Null => false,
                                Value::Array(a) => !a.is_empty(),
                                Value::Bool(b) => *b,
                                _ => true,
                            };
                            if !v.is_null() {
                                row.insert(sub.name.to_owned(), v);
                            }
                        }
                    }
                    if any {
                        rows.push(Value::Object(row));
                    }
                }
                Value::Array(rows)
            }
        })
    }
}
