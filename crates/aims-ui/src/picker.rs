//! The searchable picker of link fields, for organisations too large to list every record a
//! field may link to.
//!
//! A link field whose kind has more records than a form lists ([`SHOWN_WHOLE`]) shows what it
//! links to (checked), a search box and the records found. Without scripts the search is the
//! form itself sent by GET to the page it is on (`pick_field=<field>&pick_q.<field>=<text>` and
//! every field as typed): [`remember_search`] keeps that query for the request, and
//! `recform::Options::load` and `recform::render` render the form from it, with the matches
//! to tick, so nothing typed is lost and no page handler needs to know. With htmx, typing asks
//! [`results`] (`/orgs/{org}/pick/{collection}`) for the matches only.

use std::fmt::Write;
use std::sync::Arc;

use aims_app::App;
use aims_domain::kinds;
use aims_domain::validate::KindSpec;
use aims_store::model::Member;
use aims_store::page_json::Filter;
use axum::extract::{Path, Query, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::UiState;
use crate::error::UiError;
use crate::layout::OrgCtx;
use crate::recform::{Posted, esc, record_label};

/// A kind with at most this many records is listed whole in a form; above, its link fields
/// become pickers.
pub(crate) const SHOWN_WHOLE: usize = 25;
/// Matches shown for one search.
const MATCHES: u32 = 20;
/// The longest search text taken (the lists' limit too).
const MAX_SEARCH: usize = 200;

tokio::task_local! {
    /// The picker search of the GET request being answered, if it is one.
    static SEARCH: Option<Arc<Search>>;
}

/// A picker search sent with its form: which field, the text, and the form as it was typed.
pub(crate) struct Search {
    pub field: String,
    pub q: String,
    pub form: Posted,
}

impl Search {
    /// The search a page's query carries: `pick_field` names the field; its text is
    /// `pick_q.<field>`, or the first non-blank `pick_q.*` (Enter in a search box submits the
    /// form with its first search button, which may be another field's).
    fn from_query(pairs: Vec<(String, String)>) -> Option<Self> {
        let named = pairs.iter().find(|(k, _)| k == "pick_field").map(|(_, v)| v.clone())?;
        let text_of = |field: &str| pairs.iter().find(|(k, _)| k.strip_prefix("pick_q.") == Some(field)).map(|(_, v)| v.trim().to_owned());
        let (field, q) = match text_of(&named) {
            Some(q) if !q.is_empty() => (named, q),
            _ => pairs
                .iter()
                .find_map(|(k, v)| Some((k.strip_prefix("pick_q.")?.to_owned(), v.trim().to_owned())).filter(|(_, v)| !v.is_empty()))
                .unwrap_or((named, String::new())),
        };
        Some(Self { field, q: q.chars().take(MAX_SEARCH).collect(), form: Posted(pairs) })
    }

    /// The search of the request being answered.
    pub fn current() -> Option<Arc<Self>> {
        SEARCH.try_with(Clone::clone).ok().flatten()
    }
}

/// Keeps a GET request's picker search for its handler (see the module's note).
pub(crate) async fn remember_search(request: Request, next: Next) -> Response {
    let search = (request.method() == Method::GET)
        .then(|| Query::<Vec<(String, String)>>::try_from_uri(request.uri()).ok())
        .flatten()
        .and_then(|Query(pairs)| Search::from_query(pairs))
        .map(Arc::new);
    SEARCH.scope(search, next.run(request)).await
}

/// Records of `spec` whose text contains `q`, labelled; and whether there are more.
pub(crate) async fn find(app: &App, member: &Member, spec: &KindSpec, q: &str) -> Result<(Vec<(String, String)>, bool), UiError> {
    if q.trim().is_empty() {
        return Ok((Vec::new(), false));
    }
    let page = app.list_records_where(member, spec, false, &[Filter::text(q)], 0, MATCHES).await?;
    Ok((page.items.iter().map(|r| (r.id.clone(), record_label(r))).collect(), page.next_after.is_some()))
}

/// What one picker field needs to render its matches.
pub(crate) struct Matches<'a> {
    /// The field's posted name and its element id.
    pub name: &'a str,
    pub id: &'a str,
    pub label: &'a str,
    /// One link (radio buttons) or many (checkboxes).
    pub single: bool,
    pub q: &'a str,
    pub found: &'a [(String, String)],
    pub more: bool,
    /// What the field links to now: shown above the matches, so left out of them.
    pub linked: &'a [String],
}

impl Matches<'_> {
    /// The matches as the inside of the picker's live region.
    pub fn html(&self) -> String {
        let mut html = String::new();
        if self.q.is_empty() {
            return html;
        }
        let shown: Vec<&(String, String)> = self.found.iter().filter(|(id, _)| !self.linked.contains(id)).collect();
        let q = esc(self.q);
        if shown.is_empty() {
            let _ = write!(html, r#"<p class="hint">Nothing more to link contains “{q}”.</p>"#);
            return html;
        }
        let more = if self.more { format!(" The first {MATCHES}: type more of the name to narrow them.") } else { String::new() };
        let _ = write!(html, r#"<p class="hint">Found for “{q}”, tick to link:{more}</p><div class="check-grid">"#);
        let (kind, id, name) = (if self.single { "radio" } else { "checkbox" }, self.id, self.name);
        for (i, (rid, display)) in shown.iter().enumerate() {
            let _ = write!(
                html,
                r#"<label class="check" for="{id}-found-{i}"><input type="{kind}" id="{id}-found-{i}" name="{name}" value="{}"> {}</label>"#,
                esc(rid),
                esc(display)
            );
        }
        html.push_str("</div>");
        html
    }
}

/// The search box of a picker: sent without scripts by its button (the form by GET to the page
/// it is on), with htmx as the user types.
pub(crate) fn search_box(org_slug: &str, collection: &str, m: &Matches<'_>) -> String {
    let (id, name, label) = (m.id, m.name, esc(m.label));
    let single = if m.single { "&amp;single=1" } else { "" };
    let href = format!(
        "/orgs/{}/pick/{}?pick_field={}&amp;pick_id={id}{single}",
        esc(org_slug),
        esc(collection),
        esc(&crate::text::encode_query_value(name))
    );
    format!(
        r##"<div class="picker-search"><label for="{id}-q">Search {label}</label><div class="picker-row"><input type="search" id="{id}-q" name="pick_q.{name}" value="{q}" autocomplete="off" data-picker hx-get="{href}" hx-trigger="input changed delay:300ms, search" hx-target="#{id}-found" hx-include="closest fieldset" hx-sync="this:replace"><button type="submit" class="btn btn-secondary btn-sm" name="pick_field" value="{name}" formmethod="get" formaction="" formnovalidate>Search<span class="visually-hidden"> {label}</span></button></div></div><div class="picker-found" id="{id}-found" aria-live="polite">{found}</div>"##,
        q = esc(m.q),
        name = esc(name),
        found = m.html(),
    )
}

/// The query of the typeahead: the field, one link or many, the text (`q` or
/// `pick_q.<field>`) and what the field links to now (its own name, repeated). The ids of the
/// matches start with the picker's own id (`pick_id`), which carries its form's prefix.
fn params(pairs: &[(String, String)]) -> Option<(String, String, bool, String, Vec<String>)> {
    // A field's name as the forms write it (`name`, `rows[0].name`): nothing else is echoed.
    let field = pairs
        .iter()
        .find(|(k, _)| k == "pick_field")
        .map(|(_, v)| v.clone())
        .filter(|f| !f.is_empty() && f.len() <= 100 && f.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c)))?;
    let single = pairs.iter().any(|(k, v)| k == "single" && v == "1");
    let q = pairs
        .iter()
        .find(|(k, _)| k == "q" || k.strip_prefix("pick_q.") == Some(field.as_str()))
        .map(|(_, v)| v.trim().chars().take(MAX_SEARCH).collect())
        .unwrap_or_default();
    let linked = pairs.iter().filter(|(k, v)| *k == field && !v.is_empty()).map(|(_, v)| v.clone()).collect();
    let id = pairs
        .iter()
        .find(|(k, _)| k == "pick_id")
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty() && v.len() <= 120 && v.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)))
        .unwrap_or_else(|| crate::recform::id_of("", &field));
    Some((field, id, single, q, linked))
}

/// `GET /orgs/{org}/pick/{collection}`: the matches of a picker's search, as the fragment the
/// typeahead puts in the picker's live region.
pub(crate) async fn results(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, collection)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let spec = kinds::by_collection(&collection).ok_or(UiError::NotFound)?;
    let (field, id, single, q, linked) = params(&pairs).ok_or(UiError::NotFound)?;
    let (found, more) = find(&state.app, &ctx.member, spec, &q).await?;
    let matches = Matches { name: &field, id: &id, label: spec.plural_label, single, q: &q, found: &found, more, linked: &linked };
    Ok(Html(matches.html()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_search_names_its_field_or_the_box_typed_in() {
        let named = Search::from_query(pairs(&[("pick_field", "a"), ("pick_q.a", " x "), ("pick_q.b", "y")])).expect("search");
        assert_eq!((named.field.as_str(), named.q.as_str()), ("a", "x"));
        let typed = Search::from_query(pairs(&[("pick_field", "a"), ("pick_q.a", ""), ("pick_q.b", "y")])).expect("search");
        assert_eq!((typed.field.as_str(), typed.q.as_str()), ("b", "y"));
        assert!(Search::from_query(pairs(&[("q", "x")])).is_none(), "a list's search is no picker's");
    }

    #[test]
    fn matches_leave_out_what_is_linked_and_escape_labels() {
        let found = vec![("s1".to_owned(), "<One>".to_owned()), ("s2".to_owned(), "Two".to_owned())];
        let linked = vec!["s2".to_owned()];
        let m = Matches {
            name: "ai_system_ids",
            id: "ai_system_ids",
            label: "AI systems",
            single: false,
            q: "o",
            found: &found,
            more: false,
            linked: &linked,
        };
        let html = m.html();
        assert!(html.contains(r#"type="checkbox" id="ai_system_ids-found-0" name="ai_system_ids" value="s1""#));
        assert!(html.contains("&lt;One&gt;"));
        assert!(!html.contains("s2"));
        let typeahead =
            params(&pairs(&[("pick_field", "ai_system_id"), ("single", "1"), ("pick_q.ai_system_id", "sc"), ("ai_system_id", "s9")]));
        assert_eq!(typeahead, Some(("ai_system_id".to_owned(), "ai_system_id".to_owned(), true, "sc".to_owned(), vec!["s9".to_owned()])));
        let prefixed = params(&pairs(&[("pick_field", "owner_id"), ("pick_id", "risk-owner_id"), ("q", "a")]));
        assert_eq!(prefixed.map(|p| p.1), Some("risk-owner_id".to_owned()), "the picker's own id, prefix and all");
        let unsafe_id = params(&pairs(&[("pick_field", "owner_id"), ("pick_id", "\"><b>"), ("q", "a")]));
        assert_eq!(unsafe_id.map(|p| p.1), Some("owner_id".to_owned()), "no markup echoed as an id");
        assert_eq!(params(&pairs(&[("pick_field", "x\"><script>"), ("q", "a")])), None, "no markup echoed");
    }
}
