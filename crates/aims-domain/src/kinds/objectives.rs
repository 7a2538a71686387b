//! AI objectives (6.2) and their measurements (9.1).

use serde_json::{Map, Value};

use super::BASE;
use crate::ValidationErrors;
use crate::validate::{FieldSpec, FieldType, KindSpec, Parent, Shape, sys};

pub const DIRECTIONS: &[&str] = &["at_least", "at_most"];

/// A measurable AI objective (6.2) with the figures that track it (9.1).
pub const OBJECTIVE: KindSpec = KindSpec {
    kind: "objective",
    collection: "objectives",
    label: "Objective",
    plural_label: "Objectives",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 10_000 }),
        FieldSpec::new("metric", "Metric", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("unit", "Unit", FieldType::Text { max: 40 }),
        FieldSpec::new("direction", "Target is", FieldType::Choice(DIRECTIONS)).required().default_text("at_least"),
        FieldSpec::new("target", "Target", FieldType::Number).required(),
        FieldSpec::new("baseline", "Baseline", FieldType::Number),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("due_date", "Due", FieldType::Date),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("policy_ids", "Policies", FieldType::Ids { kind: "policy" }),
    ],
    system_fields: &[
        sys("latest_value", Shape::Number),
        sys("latest_measured_on", Shape::Date),
        sys("on_track", Shape::Bool),
        sys("measurement_count", Shape::Integer),
    ],
    rules: &[target_differs_from_baseline],
    ..BASE
};

/// One measurement of an objective (`objectives/{id}/measurements`).
pub const MEASUREMENT: KindSpec = KindSpec {
    kind: "measurement",
    collection: "measurements",
    label: "Measurement",
    plural_label: "Measurements",
    fields: &[
        FieldSpec::new("value", "Value", FieldType::Number).required(),
        FieldSpec::new("measured_on", "Measured on", FieldType::Date).required(),
        FieldSpec::new("notes", "Notes", FieldType::Text { max: 5_000 }),
    ],
    system_fields: &[sys("objective_id", Shape::RecordId)],
    parent: Some(Parent { field: "objective_id", kind: "objective", collection: "objectives" }),
    ..BASE
};

/// Is `value` on the right side of `target`?
pub fn meets_target(direction: &str, value: f64, target: f64) -> bool {
    if direction == "at_most" { value <= target } else { value >= target }
}

/// The objective-wide fields a measurement series gives: the latest figure (by date, then by
/// entry order) and whether it meets the target.
pub fn objective_status(objective: &Map<String, Value>, measurements: &[(String, f64)]) -> Map<String, Value> {
    let mut status = Map::new();
    let latest = measurements.iter().enumerate().max_by(|(i, a), (j, b)| a.0.cmp(&b.0).then(i.cmp(j))).map(|(_, m)| m);
    let target = objective.get("target").and_then(Value::as_f64);
    let direction = objective.get("direction").and_then(Value::as_str).unwrap_or("at_least");
    status.insert("latest_value".into(), latest.map_or(Value::Null, |(_, v)| Value::from(*v)));
    status.insert("latest_measured_on".into(), latest.map_or(Value::Null, |(d, _)| Value::from(d.clone())));
    let on_track = match (latest, target) {
        (Some((_, v)), Some(t)) => Value::Bool(meets_target(direction, *v, t)),
        _ => Value::Null,
    };
    status.insert("on_track".into(), on_track);
    status.insert("measurement_count".into(), Value::from(measurements.len()));
    status
}

/// An objective's baseline and target must differ, or there is nothing to achieve.
pub fn target_differs_from_baseline(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    let (Some(target), Some(baseline)) = (document.get("target").and_then(Value::as_f64), document.get("baseline").and_then(Value::as_f64))
    else {
        return;
    };
    if (target - baseline).abs() < f64::EPSILON {
        errors.push("target", "unchanged", "the target equals the baseline; state what should change");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latest_measurement_sets_the_status() {
        let objective = json!({"target": 95.0, "direction": "at_least"});
        let objective = objective.as_object().unwrap();
        let status = objective_status(objective, &[("2026-03-01".into(), 97.0), ("2026-01-01".into(), 90.0)]);
        assert_eq!(status["latest_value"], json!(97.0));
        assert_eq!(status["on_track"], json!(true));
        let status = objective_status(objective, &[]);
        assert!(status["on_track"].is_null());
        assert!(meets_target("at_most", 2.0, 3.0));
        assert!(!meets_target("at_most", 4.0, 3.0));
    }

    #[test]
    fn numbers_are_checked() {
        let errors = OBJECTIVE.validate_create(&json!({"title": "T", "metric": "m", "target": "high"}), &[]).unwrap_err();
        assert_eq!(errors.0[0].field, "target");
        assert!(OBJECTIVE.validate_create(&json!({"title": "T", "metric": "m", "target": 0.5}), &[]).is_ok());
    }
}
