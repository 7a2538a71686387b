//! Forms driven by a kind's field specs: every [`FieldType`] rendered as a sensible control
//! (labels are the specs' labels), and the posted form turned back into the JSON the record
//! services take. Used by the AI system, risk, impact assessment and risk criteria pages.
//!
//! Posted names: a field's name; repeatable rows as `field[i].sub`; lists (checkboxes, multi
//! selects) as repeated names; text lists comma-separated.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use aims_app::{App, AppError};
use aims_domain::kinds;
use aims_domain::validate::{FieldSpec, FieldType, KindSpec};
use aims_store::model::{Member, Record};
use serde_json::{Map, Value};

use crate::error::UiError;
use crate::forms::FormErrors;
use crate::picker::{self, Matches, SHOWN_WHOLE, Search};
pub(crate) use crate::posted::Posted;
use crate::text::humanize;
pub(crate) use crate::text::{esc, id_of, record_label};

/// What a form needs besides the values: who can own things, which records can be linked,
/// and fields shown as a select of labelled numbers (risk ratings under the criteria).
#[derive(Default)]
pub(crate) struct Options {
    pub members: Vec<(String, String)>,
    /// Records by kind, `(id, label)`.
    pub records: HashMap<&'static str, Vec<(String, String)>>,
    /// Integer fields offered as a select: field name → `(value, label)`.
    pub scales: HashMap<&'static str, Vec<(i64, String)>>,
    /// Labels of linked records that are not among `records`, by kind.
    pub linked: HashMap<&'static str, Vec<(String, String)>>,
    /// Kinds with more records than a form lists: their link fields are searchable pickers.
    pub large: HashSet<&'static str>,
    /// The organisation, for the pickers' typeahead address.
    pub org_slug: String,
    /// The picker search this page was asked for, with the form as typed and what it found.
    pub search: Option<Found>,
}

/// A picker search run for the page: the search (with the form as it was typed) and the
/// records it found, and whether there are more.
pub(crate) struct Found {
    pub search: Arc<Search>,
    pub records: Vec<(String, String)>,
    pub more: bool,
}

impl Found {
    /// Is this search one of a form made of `fields`? (A page may hold several forms.)
    fn of(&self, fields: &[FieldSpec]) -> bool {
        let base = self.search.field.rsplit('.').next().unwrap_or_default();
        fields.iter().any(|f| {
            f.name == self.search.field
                || f.name == base
                || matches!(f.ty, FieldType::Items { fields, .. } if fields.iter().any(|s| s.name == base))
        })
    }
}

impl Options {
    /// Loads the members and the linkable records the fields need.
    pub async fn load(app: &App, member: &Member, fields: &[FieldSpec]) -> Result<Self, UiError> {
        let members = app.members(member).await?.into_iter().map(|m| (m.user_id, format!("{} ({})", m.display_name, m.role))).collect();
        let mut records = HashMap::new();
        let mut large = HashSet::new();
        for (_, kind) in link_fields(fields) {
            if records.contains_key(kind) {
                continue;
            }
            if let Some(spec) = kinds::by_kind(kind) {
                // One more than a form lists tells whether the kind is listed whole or picked by
                // search: a larger kind's records are never all read, and its links are named
                // by `label_linked`.
                let page = app.list_records(member, spec, false, 0, SHOWN_WHOLE as u32 + 1).await?;
                if page.next_after.is_some() || page.items.len() > SHOWN_WHOLE {
                    large.insert(kind);
                    records.insert(kind, Vec::new());
                } else {
                    records.insert(kind, page.items.iter().map(|r| (r.id.clone(), record_label(r))).collect());
                }
            }
        }
        let mut options = Self {
            members,
            records,
            scales: HashMap::new(),
            linked: HashMap::new(),
            large,
            org_slug: member.org_slug.clone(),
            search: None,
        };
        options.search_for(app, member, fields).await?;
        Ok(options)
    }

    /// Runs the picker search the page was asked for (see `picker`), if it is one of `fields`,
    /// and names the records the form as typed links to.
    async fn search_for(&mut self, app: &App, member: &Member, fields: &[FieldSpec]) -> Result<(), UiError> {
        let Some(search) = Search::current() else { return Ok(()) };
        let base = search.field.rsplit('.').next().unwrap_or_default().to_owned();
        let Some(kind) = link_fields(fields).find(|(name, _)| *name == base).map(|(_, kind)| kind) else { return Ok(()) };
        let Some(spec) = kinds::by_kind(kind) else { return Ok(()) };
        let (records, more) = picker::find(app, member, spec, &search.q).await?;
        let typed = search.form.to_json(fields, &[], true);
        self.label_linked(app, member, fields, &typed).await?;
        self.search = Some(Found { search, records, more });
        Ok(())
    }
}

/// The link fields among `fields` (and their rows' fields): name and linked kind.
fn link_fields(fields: &[FieldSpec]) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    fields
        .iter()
        .flat_map(|f| match f.ty {
            FieldType::Items { fields, .. } => fields.iter().collect::<Vec<_>>(),
            _ => vec![f],
        })
        .filter_map(|f| match f.ty {
            FieldType::Ids { kind } | FieldType::Link { kind } => Some((f.name, kind)),
            _ => None,
        })
}

/// Saves a posted edit form as a merge patch of only the fields whose posted value differs from
/// the record the form was rendered from (the record at the posted `version`; a record changed
/// since is refused as stale by the patch). A form cannot show every record a link field may
/// hold in a large organisation: sending only what the user changed means what the form did not
/// show is never removed.
pub(crate) async fn save_changed(
    app: &App,
    member: &Member,
    spec: &KindSpec,
    segment: &str,
    version: i64,
    posted: &Map<String, Value>,
) -> Result<Record, AppError> {
    let stored = app.get_record(member, spec, segment).await?;
    // Against another version nothing can be compared: the patch refuses it (after the role
    // check, so a reader hears that first).
    let patch = if stored.version == version { changed_fields(spec.fields, posted, &stored.data) } else { posted.clone() };
    app.patch_record(member, spec, segment, version, &Value::Object(patch)).await
}

/// The posted fields whose value differs from the stored one, compared as the form shows them:
/// blank text, no value and an empty list are the same; link and choice lists are sets.
pub(crate) fn changed_fields(fields: &[FieldSpec], posted: &Map<String, Value>, stored: &Map<String, Value>) -> Map<String, Value> {
    posted
        .iter()
        .filter(|(name, value)| {
            let ty = fields.iter().find(|f| f.name == name.as_str()).map(|f| f.ty);
            normalized(ty, value) != normalized(ty, stored.get(name.as_str()).unwrap_or(&Value::Null))
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A value in the form a form round trip gives it, for comparing a posted value with a stored one.
fn normalized(ty: Option<FieldType>, value: &Value) -> Value {
    match value {
        Value::String(s) if s.trim().is_empty() => Value::Null,
        Value::String(s) => Value::String(s.trim().to_owned()),
        Value::Array(items) if items.is_empty() => Value::Null,
        Value::Array(items) => {
            let sub = |i: &Value| match ty {
                Some(FieldType::Items { fields, .. }) => match i {
                    Value::Object(row) => Value::Object(
                        row.iter()
                            .map(|(k, v)| (k.clone(), normalized(fields.iter().find(|f| f.name == k.as_str()).map(|f| f.ty), v)))
                            .filter(|(_, v)| !v.is_null())
                            .collect(),
                    ),
                    other => normalized(None, other),
                },
                _ => normalized(None, i),
            };
            let mut items: Vec<Value> = items.iter().map(sub).collect();
            if matches!(ty, Some(FieldType::Ids { .. } | FieldType::ChoiceList(_))) {
                items.sort_by_key(Value::to_string);
                items.dedup();
            }
            Value::Array(items)
        }
        Value::Number(n) => n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number),
        Value::Bool(false) if matches!(ty, Some(FieldType::Bool)) => Value::Null,
        other => other.clone(),
    }
}

impl Options {
    /// A linked record's label: from the records listed or looked up for the form's values,
    /// else its id.
    pub fn label(&self, kind: &str, id: &str) -> String {
        self.records
            .get(kind)
            .into_iter()
            .chain(self.linked.get(kind))
            .flat_map(|r| r.iter())
            .find(|(i, _)| i == id)
            .map_or_else(|| id.to_owned(), |(_, l)| l.clone())
    }

    /// [`Self::label_linked`] for every record of a list, so its rows name what they link to.
    pub async fn label_all(&mut self, app: &App, member: &Member, fields: &[FieldSpec], records: &[Record]) -> Result<(), UiError> {
        for record in records {
            self.label_linked(app, member, fields, &record.data).await?;
        }
        Ok(())
    }

    /// Looks up the labels of the records `values` links to that are not among the records
    /// listed, so the form names every link it shows.
    pub async fn label_linked(
        &mut self,
        app: &App,
        member: &Member,
        fields: &[FieldSpec],
        values: &Map<String, Value>,
    ) -> Result<(), UiError> {
        for field in fields {
            let (FieldType::Ids { kind } | FieldType::Link { kind }) = field.ty else { continue };
            let Some(spec) = kinds::by_kind(kind) else { continue };
            for id in list_of(values.get(field.name)) {
                let known = self.records.get(kind).into_iter().chain(self.linked.get(kind)).flatten().any(|(i, _)| *i == id);
                if known {
                    continue;
                }
                // A link to a record that is gone or not addressable by id keeps its id as label.
                if let Ok(record) = app.get_record(member, spec, &id).await {
                    self.linked.entry(kind).or_default().push((id, record_label(&record)));
                }
            }
        }
        Ok(())
    }
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| text_of(Some(i))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

fn list_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().map(|i| text_of(Some(i))).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn long_text(max: usize) -> bool {
    max > 300
}

fn error_attrs(errors: &FormErrors, name: &str, id: &str, rows: bool) -> (String, String) {
    // A row field's own error only; its rows' errors are shown next to their fields.
    let message = if rows { errors.get_exact(name) } else { errors.get(name) };
    match message {
        Some(message) => (
            format!(r#" aria-invalid="true" aria-describedby="{id}-error""#),
            format!(r#"<p class="field-error" id="{id}-error">{}</p>"#, esc(&message)),
        ),
        None => (String::new(), String::new()),
    }
}

/// Renders the fields (except `skip`) with `values`, errors next to their fields.
pub(crate) fn render(fields: &[FieldSpec], skip: &[&str], values: &Map<String, Value>, errors: &FormErrors, options: &Options) -> String {
    render_in("", fields, skip, values, errors, options)
}

/// [`render`] for one of several forms on a page: every id starts with `prefix`, so two forms
/// with an `owner_id` field do not share an id and each label points at its own input.
pub(crate) fn render_in(
    prefix: &str,
    fields: &[FieldSpec],
    skip: &[&str],
    values: &Map<String, Value>,
    errors: &FormErrors,
    options: &Options,
) -> String {
    // A picker search sent by this form brings the form as it was typed: shown instead.
    let typed;
    let values = match &options.search {
        Some(found) if found.of(fields) => {
            let mut merged = values.clone();
            merged.extend(found.search.form.to_json(fields, skip, true));
            typed = merged;
            &typed
        }
        _ => values,
    };
    let mut html = String::new();
    for field in fields.iter().filter(|f| !skip.contains(&f.name)) {
        render_field(&mut html, prefix, field, field.name, values.get(field.name), errors, options);
    }
    html
}

fn render_field(
    html: &mut String,
    prefix: &str,
    field: &FieldSpec,
    name: &str,
    value: Option<&Value>,
    errors: &FormErrors,
    options: &Options,
) {
    let id = id_of(prefix, name);
    let (attrs, error) = error_attrs(errors, name, &id, matches!(field.ty, FieldType::Items { .. }));
    let label = esc(field.label);
    // Inside a row (`field[i].sub`) the browser must not insist: an emptied row is removed,
    // and the service names a half-filled row's missing field.
    let required = if field.required && !name.contains('[') { " required" } else { "" };
    // The mark sits outside the label, so the label (the field's accessible name) stays exact.
    let star = if field.required { r#"<span class="req" aria-hidden="true" title="required">*</span>"# } else { "" };
    match field.ty {
        FieldType::Text { max } if long_text(max) => {
            // Inside a row (`field[i].sub`) a text is a smaller box beside the row's choices.
            let (rows, class) = if name.contains('[') { (2, " field-wide") } else { (3, "") };
            let _ = write!(
                html,
                r#"<div class="field{class}"><span class="label-row"><label for="{id}">{label}</label>{star}</span><textarea id="{id}" name="{name}" rows="{rows}" maxlength="{max}"{required}{attrs}>{}</textarea>{error}</div>"#,
                esc(&text_of(value))
            );
        }
        FieldType::Text { max } => {
            // Names and titles take the whole width of a two-column form.
            let class = if max >= 200 && matches!(name, "name" | "title") { " field-full" } else { "" };
            let _ = write!(
                html,
                r#"<div class="field{class}"><span class="label-row"><label for="{id}">{label}</label>{star}</span><input id="{id}" name="{name}" maxlength="{max}" value="{}"{required}{attrs}>{error}</div>"#,
                esc(&text_of(value))
            );
        }
        FieldType::Choice(values) => {
            let current = text_of(value);
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><select id="{id}" name="{name}"{attrs}>"#
            );
            let _ = write!(html, r#"<option value="">{}</option>"#, if field.required { "— Choose —" } else { "— Not set —" });
            for v in values {
                let selected = if *v == current { " selected" } else { "" };
                let _ = write!(html, r#"<option value="{}"{selected}>{}</option>"#, esc(v), esc(&choice_label(v)));
            }
            let _ = write!(html, "</select>{error}</div>");
        }
        FieldType::ChoiceList(values) => {
            let current = list_of(value);
            let _ = write!(html, r#"<fieldset class="field checks"{attrs}><legend>{label}</legend><div class="check-grid">"#);
            for (i, v) in values.iter().enumerate() {
                let checked = if current.iter().any(|c| c == v) { " checked" } else { "" };
                let _ = write!(
                    html,
                    r#"<label class="check" for="{id}-{i}"><input type="checkbox" id="{id}-{i}" name="{name}" value="{}"{checked}> {}</label>"#,
                    esc(v),
                    esc(&choice_label(v))
                );
            }
            let _ = write!(html, "</div>{error}</fieldset>");
        }
        FieldType::TextList { .. } | FieldType::Refs { .. } => {
            let hint = if matches!(field.ty, FieldType::Refs { .. }) {
                "References separated by commas, e.g. A.6.2.4, A.7.4"
            } else {
                "Separate entries with commas."
            };
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><input id="{id}" name="{name}" value="{}" aria-describedby="{id}-hint"{attrs}><p class="hint" id="{id}-hint">{hint}</p>{error}</div>"#,
                esc(&text_of(value))
            );
        }
        FieldType::UserId => {
            let current = text_of(value);
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><select id="{id}" name="{name}"{attrs}><option value="">— Unassigned —</option>"#
            );
            for (user_id, display) in &options.members {
                let selected = if *user_id == current { " selected" } else { "" };
                let _ = write!(html, r#"<option value="{}"{selected}>{}</option>"#, esc(user_id), esc(display));
            }
            let _ = write!(html, "</select>{error}</div>");
        }
        FieldType::Link { kind } if options.large.contains(kind) => {
            let current = list_of(value);
            render_picker(html, prefix, field, name, &current, (kind, true), (&attrs, &error), options);
        }
        FieldType::Ids { kind } if options.large.contains(kind) => {
            let current = list_of(value);
            render_picker(html, prefix, field, name, &current, (kind, false), (&attrs, &error), options);
        }
        FieldType::Link { kind } => {
            let current = text_of(value);
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><select id="{id}" name="{name}"{attrs}><option value="">— Choose —</option>"#
            );
            let available = options.records.get(kind).map(Vec::as_slice).unwrap_or_default();
            // The linked record is offered even when it is not among the records listed, so an
            // unchanged form keeps the link.
            if !current.is_empty() && !available.iter().any(|(rid, _)| *rid == current) {
                let _ = write!(html, r#"<option value="{}" selected>{}</option>"#, esc(&current), esc(&options.label(kind, &current)));
            }
            for (rid, display) in available {
                let selected = if *rid == current { " selected" } else { "" };
                let _ = write!(html, r#"<option value="{}"{selected}>{}</option>"#, esc(rid), esc(display));
            }
            let _ = write!(html, "</select>{error}</div>");
        }
        FieldType::Ids { kind } => {
            let current = list_of(value);
            let listed = options.records.get(kind).map(Vec::as_slice).unwrap_or_default();
            // Every linked record is shown (checked) first, whether or not it is among the
            // records listed, so an unchanged form keeps every link.
            let mut available: Vec<(String, String)> =
                current.iter().filter(|c| !listed.iter().any(|(rid, _)| rid == *c)).map(|c| (c.clone(), options.label(kind, c))).collect();
            available.extend(listed.iter().cloned());
            let _ = write!(html, r#"<fieldset class="field checks"{attrs}><legend>{label}</legend>"#);
            if available.is_empty() {
                let _ = write!(html, r#"<p class="hint">None recorded yet.</p>"#);
            } else {
                let _ = write!(html, r#"<div class="check-grid">"#);
                for (i, (rid, display)) in available.iter().enumerate() {
                    let checked = if current.iter().any(|c| c == rid) { " checked" } else { "" };
                    let _ = write!(
                        html,
                        r#"<label class="check" for="{id}-{i}"><input type="checkbox" id="{id}-{i}" name="{name}" value="{}"{checked}> {}</label>"#,
                        esc(rid),
                        esc(display)
                    );
                }
                html.push_str("</div>");
            }
            let _ = write!(html, "{error}</fieldset>");
        }
        FieldType::Bool => {
            let checked = if value == Some(&Value::Bool(true)) { " checked" } else { "" };
            let _ = write!(
                html,
                r#"<div class="field"><label class="check" for="{id}"><input type="checkbox" id="{id}" name="{name}" value="true"{checked}{attrs}> {label}</label>{error}</div>"#
            );
        }
        FieldType::Date => {
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><input id="{id}" name="{name}" type="text" inputmode="numeric" pattern="\d{{4}}-\d{{2}}-\d{{2}}" placeholder="YYYY-MM-DD" autocomplete="off" value="{}"{attrs}>{error}</div>"#,
                esc(&text_of(value))
            );
        }
        FieldType::Integer { min, max } => {
            let current = value.and_then(Value::as_i64);
            if let Some(scale) = options.scales.get(field.name) {
                let _ = write!(
                    html,
                    r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><select id="{id}" name="{name}"{attrs}><option value="">— Not rated —</option>"#
                );
                for (n, display) in scale {
                    let selected = if current == Some(*n) { " selected" } else { "" };
                    let _ = write!(html, r#"<option value="{n}"{selected}>{n} · {}</option>"#, esc(display));
                }
                let _ = write!(html, "</select>{error}</div>");
            } else {
                let _ = write!(
                    html,
                    r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><input id="{id}" name="{name}" type="number" min="{min}" max="{max}" value="{}"{required}{attrs}>{error}</div>"#,
                    current.map(|n| n.to_string()).unwrap_or_default()
                );
            }
        }
        FieldType::Number => {
            let _ = write!(
                html,
                r#"<div class="field"><span class="label-row"><label for="{id}">{label}</label>{star}</span><input id="{id}" name="{name}" type="number" step="any" value="{}"{required}{attrs}>{error}</div>"#,
                value.filter(|v| v.is_number()).map(Value::to_string).unwrap_or_default()
            );
        }
        FieldType::Items { fields, max_items } => {
            let rows: Vec<Map<String, Value>> = match value {
                Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_object().cloned()).collect(),
                _ => Vec::new(),
            };
            let _ = write!(html, r#"<fieldset class="field rows"{attrs}><legend>{label}</legend>"#);
            let shown = (rows.len() + 1).min(max_items);
            for i in 0..shown {
                let row = rows.get(i);
                let extra = row.is_none() && !rows.is_empty();
                if extra {
                    let _ = write!(
                        html,
                        r#"<details class="add-row"><summary class="btn btn-secondary btn-sm">+ Add a row<span class="visually-hidden"> to {label}</span></summary>"#
                    );
                }
                let _ = write!(
                    html,
                    r#"<div class="item-row" role="group" aria-label="{label} {}{}">"#,
                    i + 1,
                    if row.is_none() { " (new)" } else { "" }
                );
                for sub in fields {
                    let sub_name = format!("{name}[{i}].{}", sub.name);
                    render_field(html, prefix, sub, &sub_name, row.and_then(|r| r.get(sub.name)), errors, options);
                }
                html.push_str("</div>");
                if extra {
                    html.push_str("</details>");
                }
            }
            let _ = write!(html, r#"<p class="hint">Empty a row's fields to remove it.</p>{error}</fieldset>"#);
        }
    }
}

/// A link field whose kind has more records than a form lists: what it links to (checked; one
/// link as radio buttons, with "None" unless required), then a search whose matches are added
/// to tick (see `picker`).
fn render_picker(
    html: &mut String,
    prefix: &str,
    field: &FieldSpec,
    name: &str,
    current: &[String],
    (kind, single): (&str, bool),
    (attrs, error): (&str, &str),
    options: &Options,
) {
    let id = id_of(prefix, name);
    let input = if single { "radio" } else { "checkbox" };
    let _ = write!(html, r#"<fieldset class="field checks picker"{attrs}><legend>{}</legend><div class="check-grid">"#, esc(field.label));
    if single && !field.required {
        let checked = if current.is_empty() { " checked" } else { "" };
        let _ = write!(
            html,
            r#"<label class="check" for="{id}-none"><input type="radio" id="{id}-none" name="{}" value=""{checked}> None</label>"#,
            esc(name)
        );
    } else if current.is_empty() {
        html.push_str(r#"<p class="hint">Nothing linked yet.</p>"#);
    }
    for (i, linked) in current.iter().enumerate() {
        let _ = write!(
            html,
            r#"<label class="check" for="{id}-{i}"><input type="{input}" id="{id}-{i}" name="{}" value="{}" checked> {}</label>"#,
            esc(name),
            esc(linked),
            esc(&options.label(kind, linked))
        );
    }
    html.push_str("</div>");
    let (q, found, more) = match &options.search {
        Some(f) if f.search.field == name => (f.search.q.as_str(), f.records.as_slice(), f.more),
        _ => ("", &[][..], false),
    };
    let collection = kinds::by_kind(kind).map_or(kind, |spec| spec.collection);
    let matches = Matches { name, id: &id, label: field.label, single, q, found, more, linked: current };
    html.push_str(&picker::search_box(&options.org_slug, collection, &matches));
    let _ = write!(html, "{error}</fieldset>");
}

/// A stored value for people: member ids become names, linked ids become record labels, codes
/// of choices become words.
pub(crate) fn show(field: &FieldSpec, value: Option<&Value>, options: &Options) -> String {
    let member = |id: &str| options.members.iter().find(|(u, _)| u == id).map_or_else(|| id.to_owned(), |(_, n)| n.clone());
    let record = |kind: &str, id: &str| options.label(kind, id);
    match (field.ty, value) {
        (_, None | Some(Value::Null)) => String::new(),
        (FieldType::Bool, Some(v)) => if v == &Value::Bool(true) { "Yes" } else { "No" }.into(),
        (FieldType::Choice(_), Some(v)) => choice_label(&text_of(Some(v))),
        (FieldType::ChoiceList(_), Some(v)) => list_of(Some(v)).iter().map(|c| choice_label(c)).collect::<Vec<_>>().join(", "),
        (FieldType::UserId, Some(v)) => member(&text_of(Some(v))),
        (FieldType::Link { kind }, Some(v)) => record(kind, &text_of(Some(v))),
        (FieldType::Ids { kind }, Some(v)) => list_of(Some(v)).iter().map(|i| record(kind, i)).collect::<Vec<_>>().join(", "),
        (FieldType::Items { .. }, Some(Value::Array(items))) => {
            format!("{} entr{}", items.len(), if items.len() == 1 { "y" } else { "ies" })
        }
        (_, Some(v)) => text_of(Some(v)),
    }
}

/// A choice code for people; OWASP ids stay as they are.
fn choice_label(code: &str) -> String {
    if code.chars().any(|c| c.is_ascii_uppercase()) {
        return code.to_owned();
    }
    let label = humanize(code);
    match label.strip_prefix("Ai ") {
        Some(rest) => format!("AI {rest}"),
        None => label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_domain::kinds::{AI_SYSTEM, IMPACT_ASSESSMENT};

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn posted_forms_become_json() {
        let form = posted(&[
            ("name", " Scorer "),
            ("ai_roles", "ai_provider"),
            ("ai_roles", "ai_customer"),
            ("geographies", "EU, UK,"),
            ("eu_ai_act_role", ""),
        ]);
        let json = form.to_json(AI_SYSTEM.fields, &[], false);
        assert_eq!(json["name"], "Scorer");
        assert_eq!(json["ai_roles"], serde_json::json!(["ai_provider", "ai_customer"]));
        assert_eq!(json["geographies"], serde_json::json!(["EU", "UK"]));
        assert!(!json.contains_key("eu_ai_act_role"));
        let patch = form.to_json(AI_SYSTEM.fields, &[], true);
        assert_eq!(patch["eu_ai_act_role"], Value::Null);
    }

    #[test]
    fn rows_skip_empty_ones() {
        let form = posted(&[
            ("impacts[0].area", "privacy"),
            ("impacts[0].description", "Leaks"),
            ("impacts[1].area", ""),
            ("impacts[1].description", ""),
            ("affected_parties[0].party", "individuals"),
        ]);
        let json = form.to_json(IMPACT_ASSESSMENT.fields, &["ai_system_id"], true);
        assert_eq!(json["impacts"], serde_json::json!([{"area": "privacy", "description": "Leaks"}]));
        assert_eq!(json["affected_parties"], serde_json::json!([{"party": "individuals"}]));
    }

    #[test]
    fn fields_render_with_labels_and_escaping() {
        let mut values = Map::new();
        values.insert("name".into(), Value::String("<b>x</b>".into()));
        let html = render(AI_SYSTEM.fields, &[], &values, &FormErrors::default(), &Options::default());
        assert!(html.contains(">Intended use</label>"));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains(r#"type="checkbox" id="ai_roles-0" name="ai_roles""#));
        let rows = render(IMPACT_ASSESSMENT.fields, &["ai_system_id"], &Map::new(), &FormErrors::default(), &Options::default());
        assert!(rows.contains(r#"name="impacts[0].severity""#));
    }
}
