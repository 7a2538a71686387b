//! What a list of a kind may be filtered and ordered by, read from the kind's declaration: the
//! one reading of `?state=`, `?q=`, field filters and `?sort=` that the API and the pages share.

use aims_domain::ValidationErrors;
use aims_domain::validate::{FieldType, KindSpec, Shape};
use aims_store::page_json::{Filter, Sort, SortKey};

/// The longest text a list search (`?q=`) takes.
pub const MAX_SEARCH: usize = 200;

/// The order named `updated`: by the time of the last change.
pub const UPDATED: &str = "updated";

/// The query parameters that filter a list of `spec`: `archived`, `state`, the search `q`
/// (name, title or reference containing the text), its link, choice and member fields, and its
/// system fields other than the reference.
pub fn filter_names(spec: &'static KindSpec) -> Vec<&'static str> {
    let mut names = vec!["archived", "state", "q"];
    names.extend(
        spec.fields
            .iter()
            .filter(|f| matches!(f.ty, FieldType::Ids { .. } | FieldType::Link { .. } | FieldType::Choice(_) | FieldType::UserId))
            .map(|f| f.name),
    );
    names.extend(spec.system_fields.iter().map(|f| f.name).filter(|f| *f != "ref"));
    names
}

/// Turns filter parameters (named as [`filter_names`] says; `archived` is the caller's) into
/// store filters, checking values: a bad UUID or choice, or a search too long, is an error
/// naming the parameter.
pub fn filters<'a>(spec: &'static KindSpec, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Vec<Filter>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut filters = Vec::new();
    for (name, value) in pairs {
        match (name, spec.field(name).map(|f| (f.name, f.ty))) {
            ("state", _) => filters.push(Filter::State(value.to_owned())),
            // The search: blank searches nothing; a long text is refused rather than scanned.
            ("q", _) if value.trim().is_empty() => {}
            ("q", _) if value.chars().count() > MAX_SEARCH => errors.push("q", "too_long", format!("at most {MAX_SEARCH} characters")),
            ("q", _) => filters.push(Filter::text(value)),
            (_, Some((field, FieldType::Ids { .. } | FieldType::Link { .. }))) => match uuid::Uuid::parse_str(value) {
                Ok(id) => filters.push(Filter::Link { field, id: id.to_string() }),
                Err(_) => errors.push(name, "invalid_format", "a record id (UUID)"),
            },
            (_, Some((field, FieldType::UserId))) => match uuid::Uuid::parse_str(value) {
                Ok(id) => filters.push(Filter::Field { field, value: id.to_string() }),
                Err(_) => errors.push(name, "invalid_format", "a user id (UUID)"),
            },
            (_, Some((field, FieldType::Choice(choices)))) if choices.contains(&value) => {
                filters.push(Filter::Field { field, value: value.to_owned() })
            }
            (_, Some((_, FieldType::Choice(choices)))) => errors.push(name, "invalid_choice", format!("one of: {}", choices.join(", "))),
            (_, None) => {
                if let Some(field) = spec.system_field(name) {
                    filters.push(Filter::Field { field: field.name, value: value.to_owned() });
                }
            }
            _ => {}
        }
    }
    errors.into_result()?;
    Ok(filters)
}

/// The states a record of `spec` can be in, in the order its workflow first names them: its
/// initial state, then each transition's. Empty for kinds without states.
pub fn states(spec: &KindSpec) -> Vec<&'static str> {
    let mut states: Vec<&'static str> = spec.initial_state.into_iter().collect();
    for transition in spec.workflow.map_or(&[][..], |w| w.transitions) {
        for state in transition.from.iter().copied().chain(transition.to) {
            if !states.contains(&state) {
                states.push(state);
            }
        }
    }
    states
}

/// Whether a list of `spec` can be ordered by `name`: `updated`, or a field holding one short
/// value (text, choice or date, or a system field of those shapes, such as an AI system's
/// lifecycle stage), whose text order is its order.
pub fn sort_key(spec: &KindSpec, name: &str) -> Option<SortKey> {
    if name == UPDATED {
        return Some(SortKey::Updated);
    }
    if let Some(field) = spec.field(name) {
        return matches!(field.ty, FieldType::Text { .. } | FieldType::Choice(_) | FieldType::Date).then_some(SortKey::Field(field.name));
    }
    let field = spec.system_field(name)?;
    matches!(field.shape, Shape::Text | Shape::Date | Shape::Timestamp).then_some(SortKey::Field(field.name))
}

/// Reads `?sort=`: a sortable name ([`sort_key`]), descending when it starts with `-`. `None`
/// for anything else, and for the default order (blank).
pub fn sort(spec: &KindSpec, text: &str) -> Option<Sort> {
    let (name, descending) = match text.strip_prefix('-') {
        Some(name) => (name, true),
        None => (text, false),
    };
    Some(Sort { key: sort_key(spec, name)?, descending })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_domain::kinds::{AI_SYSTEM, RISK};

    #[test]
    fn sorts_by_short_fields_and_the_last_change_only() {
        assert_eq!(sort(&AI_SYSTEM, "name"), Some(Sort { key: SortKey::Field("name"), descending: false }));
        assert_eq!(sort(&AI_SYSTEM, "-updated"), Some(Sort { key: SortKey::Updated, descending: true }));
        assert_eq!(sort(&AI_SYSTEM, "lifecycle_stage"), Some(Sort { key: SortKey::Field("lifecycle_stage"), descending: false }));
        assert_eq!(sort(&AI_SYSTEM, "owner_id"), None);
        assert_eq!(sort(&AI_SYSTEM, "no_such_field"), None);
        assert_eq!(sort(&AI_SYSTEM, ""), None);
    }

    #[test]
    fn bad_filter_values_name_their_parameter() {
        let errors = filters(&RISK, [("owner_id", "nobody"), ("q", "  ")]).unwrap_err();
        assert!(format!("{errors:?}").contains("owner_id"));
        assert_eq!(filters(&RISK, [("state", "accepted")]).unwrap(), vec![Filter::State("accepted".into())]);
    }

    #[test]
    fn states_come_from_the_workflow() {
        let of_risks = states(&RISK);
        assert!(of_risks.len() > 1 && of_risks.contains(&"accepted"), "{of_risks:?}");
    }
}
