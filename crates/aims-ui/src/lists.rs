//! What every list page shares: the search (`?q=`), paging by cursor (`?cursor=`, a
//! `rel="next"` link) and the CSV download of every matching row, streamed page by page.

use std::collections::BTreeMap;

use aims_app::App;
use aims_app::list_query;
use aims_domain::cursor;
use aims_domain::kinds;
use aims_domain::validate::{FieldType, KindSpec};
use aims_store::model::{Member, Page, Record};
use aims_store::page_json::{Filter, Sort};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::UiError;

use crate::text::{encode_query_value, humanize, record_label};

/// Rows on one list page.
pub(crate) const PAGE_SIZE: u32 = 50;
/// The longest search text taken (the API's limit too).
const MAX_SEARCH: usize = list_query::MAX_SEARCH;

/// A list page's query: the search, the order (`?sort=title`, `?sort=-updated`), where the
/// page starts, `format=csv` for the download, and the kind's filters among the rest.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub sort: String,
    /// Every other parameter; those the kind filters by are read by [`ListParams::active`].
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

/// What the template shows around a list: the search box, the filters, the sortable column
/// headers, the next page and the download.
pub(crate) struct Listing {
    pub q: String,
    pub next_href: Option<String>,
    /// The first page of the same search, when this is a later page.
    pub first_href: Option<String>,
    pub csv_href: String,
    /// The list's path.
    pub base: String,
    /// The active order's name (`title`, `-title`), empty for the default.
    pub sort: String,
    /// The filters in force, as `(parameter, value)`.
    pub active: Vec<(String, String)>,
    /// The fields the list can be ordered by (and `updated`).
    pub sortable: Vec<&'static str>,
    /// The filter bar (empty unless the page asks for one with [`filter_bar`]).
    pub controls: Vec<FilterControl>,
    /// Link filters in force, each naming the linked record, with a link that removes it.
    pub chips: Vec<Chip>,
    /// The orders offered as a select beside the filters, `(value, label, selected)`: a phone
    /// shows rows as cards, without the sortable headers.
    pub orders: Vec<(String, String, bool)>,
    /// The next page's cursor, when there is one.
    next_cursor: Option<String>,
    /// Whether this is a later page than the first.
    later: bool,
}

/// A select of the filter bar.
pub(crate) struct FilterControl {
    pub name: &'static str,
    pub label: String,
    /// `(value, label, selected)`; the first option ("Any") has the empty value.
    pub options: Vec<(String, String, bool)>,
}

/// An active link filter: "AI system: Scorer ✕".
pub(crate) struct Chip {
    pub label: String,
    pub remove_href: String,
}

impl ListParams {
    pub fn wants_csv(&self) -> bool {
        self.format == "csv"
    }

    /// The search as a store filter (none when blank); the text is cut at the longest taken.
    pub fn filters(&self) -> Vec<Filter> {
        let q: String = self.q.trim().chars().take(MAX_SEARCH).collect();
        if q.is_empty() { Vec::new() } else { vec![Filter::text(&q)] }
    }

    /// The kind's filters the query sets, as `(parameter, value)`, read by the declaration the
    /// API reads too; a value it refuses (a bad id or choice) is left out, so a page never
    /// fails on one.
    fn active(&self, spec: &'static KindSpec) -> Vec<(String, String)> {
        let names = list_query::filter_names(spec);
        self.rest
            .iter()
            .filter(|(name, value)| {
                !value.is_empty()
                    && names.contains(&name.as_str())
                    && !matches!(name.as_str(), "q" | "archived")
                    && list_query::filters(spec, [(name.as_str(), value.as_str())]).is_ok()
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// The search and the kind's filters, as store filters.
    fn all_filters(&self, spec: &'static KindSpec) -> Vec<Filter> {
        let active = self.active(spec);
        let mut filters = self.filters();
        filters.extend(list_query::filters(spec, active.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap_or_default());
        filters
    }

    /// The order asked for, when the kind can be ordered so.
    fn order(&self, spec: &KindSpec) -> Option<Sort> {
        list_query::sort(spec, self.sort.trim())
    }

    /// Where the page starts; a cursor this site did not make, or made for another order, is
    /// no page at all.
    fn after(&self, spec: &KindSpec) -> Result<i64, UiError> {
        if self.cursor.is_empty() {
            return Ok(0);
        }
        match self.order(spec) {
            None => cursor::decode(&self.cursor).ok_or(UiError::NotFound),
            Some(_) => match cursor::decode_sorted(&self.cursor) {
                Some((sort, after)) if sort == self.sort.trim() => Ok(after),
                _ => Err(UiError::NotFound),
            },
        }
    }
}

impl Listing {
    /// The list's link with the search, the filters and the order in force, and `more`.
    fn href(&self, sort: &str, more: &str) -> String {
        let mut pairs: Vec<String> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(format!("q={}", encode_query_value(&self.q)));
        }
        pairs.extend(self.active.iter().map(|(n, v)| format!("{n}={}", encode_query_value(v))));
        if !sort.is_empty() {
            pairs.push(format!("sort={}", encode_query_value(sort)));
        }
        if !more.is_empty() {
            pairs.push(more.to_owned());
        }
        if pairs.is_empty() { self.base.clone() } else { format!("{}?{}", self.base, pairs.join("&")) }
    }

    /// Sets the links to the next and first pages and the download.
    fn link(&mut self) {
        self.next_href = self.next_cursor.as_ref().map(|c| self.href(&self.sort, &format!("cursor={c}")));
        self.first_href = self.later.then(|| self.href(&self.sort, ""));
        self.csv_href = self.href(&self.sort, "format=csv");
    }

    /// Keeps a page's own filter parameter (one the kind's declaration does not name, such as
    /// evidence's "overdue") in every link of the list.
    pub fn keep(&mut self, name: &str, value: &str) {
        self.active.push((name.to_owned(), value.to_owned()));
        self.link();
    }

    /// Offers the sortable ones of `columns` (`(name, label)`) in the filter form's order
    /// select, each either way, after the default order.
    pub fn offer_orders(&mut self, columns: &[(&str, &str)]) {
        let mut orders = vec![(String::new(), "Oldest first".to_owned(), self.sort.is_empty())];
        for (name, label) in columns.iter().filter(|(name, _)| self.can_sort(name)) {
            for (value, way) in [(name.to_string(), "ascending"), (format!("-{name}"), "descending")] {
                let selected = self.sort == value;
                orders.push((value, format!("{label} ({way})"), selected));
            }
        }
        self.orders = orders;
    }

    /// Whether the column `name` can be sorted by.
    pub fn can_sort(&self, name: &str) -> bool {
        self.sortable.contains(&name)
    }

    /// The header link of column `name`: ascending, or descending when already ascending.
    pub fn sort_href(&self, name: &str) -> String {
        let next = if self.sort == name { format!("-{name}") } else { name.to_owned() };
        self.href(&next, "")
    }

    /// `aria-sort` of column `name`: "ascending", "descending", or empty when not sorted by it.
    pub fn aria_sort(&self, name: &str) -> &'static str {
        match self.sort.strip_prefix('-') {
            Some(n) if n == name => "descending",
            None if self.sort == name => "ascending",
            _ => "",
        }
    }

    /// The arrow shown beside the active header.
    pub fn sort_mark(&self, name: &str) -> &'static str {
        match self.aria_sort(name) {
            "ascending" => "▲",
            "descending" => "▼",
            _ => "",
        }
    }

    /// What the search form carries besides the search: the filters and the order.
    pub fn kept_for_search(&self) -> Vec<(String, String)> {
        let mut kept = self.active.clone();
        if !self.sort.is_empty() {
            kept.push(("sort".into(), self.sort.clone()));
        }
        kept
    }

    /// What the filter form carries besides its selects: the search, the order and the link
    /// filters (shown as chips, not selects).
    pub fn kept_for_filters(&self) -> Vec<(String, String)> {
        let selects: Vec<&str> = self.controls.iter().map(|c| c.name).collect();
        let mut kept: Vec<(String, String)> = self.active.iter().filter(|(n, _)| !selects.contains(&n.as_str())).cloned().collect();
        if !self.q.is_empty() {
            kept.push(("q".into(), self.q.clone()));
        }
        if !self.sort.is_empty() && self.orders.is_empty() {
            kept.push(("sort".into(), self.sort.clone()));
        }
        kept
    }

    /// Whether any filter or search is in force (an empty list then says so).
    pub fn narrowed(&self) -> bool {
        !self.q.is_empty() || !self.active.is_empty()
    }

    /// The link that clears the search and the filters, keeping the order.
    pub fn clear_href(&self) -> String {
        if self.sort.is_empty() { self.base.clone() } else { format!("{}?sort={}", self.base, encode_query_value(&self.sort)) }
    }
}

/// One page of `spec`'s records, or of the default order's page when `sort` is `None`.
async fn read(
    app: &App,
    member: &Member,
    spec: &KindSpec,
    filters: &[Filter],
    sort: Option<Sort>,
    after: i64,
    limit: u32,
) -> Result<Page<Record>, aims_app::AppError> {
    match sort {
        None => app.list_records_where(member, spec, false, filters, after, limit).await,
        Some(sort) => app.list_records_sorted(member, spec, filters, sort, after, limit).await,
    }
}

/// One page of `spec`'s records under the search, the kind's filters in the query and `extra`
/// filters, in the order asked for, with the links around it. `base` is the list's path.
pub(crate) async fn page(
    app: &App,
    member: &Member,
    spec: &'static KindSpec,
    params: &ListParams,
    extra: Vec<Filter>,
    base: &str,
) -> Result<(Vec<Record>, Listing), UiError> {
    let mut filters = params.all_filters(spec);
    filters.extend(extra);
    let order = params.order(spec);
    let page = read(app, member, spec, &filters, order, params.after(spec)?, PAGE_SIZE).await?;
    let sort = if order.is_some() { params.sort.trim().to_owned() } else { String::new() };
    let names = spec.fields.iter().map(|f| f.name).chain(spec.system_fields.iter().map(|f| f.name));
    let mut sortable: Vec<&'static str> = names.filter(|name| list_query::sort_key(spec, name).is_some()).collect();
    sortable.push(list_query::UPDATED);
    let mut listing = Listing {
        q: params.q.trim().chars().take(MAX_SEARCH).collect(),
        next_href: None,
        first_href: None,
        csv_href: String::new(),
        base: base.to_owned(),
        active: params.active(spec),
        sortable,
        controls: Vec::new(),
        chips: Vec::new(),
        orders: Vec::new(),
        next_cursor: page.next_after.map(|after| match order {
            None => cursor::encode(after),
            Some(_) => cursor::encode_sorted(params.sort.trim(), after),
        }),
        later: !params.cursor.is_empty(),
        sort,
    };
    listing.link();
    Ok((page.items, listing))
}

/// Fills the listing's filter bar from the kind's declaration: the state (when the kind has
/// states), each choice field, each member field (members as options), and a chip naming the
/// linked record for each link filter in force (a link is chosen from the linked record's
/// page, not from a select of every record).
pub(crate) async fn filter_bar(
    app: &App,
    member: &Member,
    spec: &'static KindSpec,
    members: &[Member],
    listing: &mut Listing,
) -> Result<(), UiError> {
    let value_of = |name: &str| listing.active.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let select = |name: &'static str, label: &str, values: Vec<(String, String)>| {
        let chosen = value_of(name);
        let mut options = vec![(String::new(), "Any".to_owned(), chosen.is_empty())];
        options.extend(values.into_iter().map(|(v, l)| {
            let selected = v == chosen;
            (v, l, selected)
        }));
        FilterControl { name, label: label.to_owned(), options }
    };
    let mut controls = Vec::new();
    let states = list_query::states(spec);
    if !states.is_empty() {
        controls.push(select("state", "State", states.iter().map(|s| ((*s).to_owned(), humanize(s))).collect()));
    }
    for field in spec.fields {
        match field.ty {
            FieldType::Choice(choices) => {
                controls.push(select(field.name, field.label, choices.iter().map(|c| ((*c).to_owned(), humanize(c))).collect()))
            }
            FieldType::UserId => controls.push(select(
                field.name,
                field.label,
                members.iter().map(|m| (m.user_id.clone(), m.display_name.clone())).collect(),
            )),
            _ => {}
        }
    }
    let mut chips = Vec::new();
    for (name, id) in &listing.active {
        let Some(field) = spec.field(name) else { continue };
        let (FieldType::Ids { kind } | FieldType::Link { kind }) = field.ty else { continue };
        // A link to a record that is gone keeps its id as the label.
        let linked = match kinds::by_kind(kind) {
            Some(target) => app.get_record(member, target, id).await.map(|r| record_label(&r)).unwrap_or_else(|_| id.clone()),
            None => id.clone(),
        };
        let rest: Vec<String> = listing
            .active
            .iter()
            .filter(|(n, _)| n != name)
            .map(|(n, v)| format!("{n}={}", encode_query_value(v)))
            .chain((!listing.q.is_empty()).then(|| format!("q={}", encode_query_value(&listing.q))))
            .chain((!listing.sort.is_empty()).then(|| format!("sort={}", encode_query_value(&listing.sort))))
            .collect();
        let remove_href = if rest.is_empty() { listing.base.clone() } else { format!("{}?{}", listing.base, rest.join("&")) };
        chips.push(Chip { label: format!("{}: {linked}", field.label), remove_href });
    }
    listing.controls = controls;
    listing.chips = chips;
    Ok(())
}

/// Every record matching the search, the kind's filters and `extra` filters as CSV, in the
/// order asked for: a header row, then one row per record made by `row`, read and sent a page
/// at a time so a large organisation's download neither waits for nor holds the whole list.
pub(crate) fn csv<F>(
    app: App,
    member: Member,
    spec: &'static KindSpec,
    params: &ListParams,
    extra: Vec<Filter>,
    name: &str,
    header: &[&str],
    row: F,
) -> Response
where
    F: Fn(&Record) -> Vec<String> + Send + Sync + 'static,
{
    let mut filters = params.all_filters(spec);
    filters.extend(extra);
    let order = params.order(spec);
    let head = csv_line(header.iter().map(|h| (*h).to_owned()));
    // The state carries the next page's start, None once the last page was sent.
    let state = (Some(0i64), app, member, filters, std::sync::Arc::new(row));
    let pages = futures::stream::unfold(state, move |(after, app, member, filters, row)| async move {
        let after = after?;
        match read(&app, &member, spec, &filters, order, after, cursor::MAX_LIMIT).await {
            Ok(page) => {
                let text: String = page.items.iter().map(|r| csv_line(row(r))).collect();
                Some((Ok::<_, std::io::Error>(text), (page.next_after, app, member, filters, row)))
            }
            Err(e) => {
                tracing::error!(cause = %e, "CSV download failed");
                Some((Err(std::io::Error::other(e.to_string())), (None, app, member, filters, row)))
            }
        }
    });
    let stream = futures::StreamExt::chain(futures::stream::once(async move { Ok::<_, std::io::Error>(head) }), pages);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// One CSV line (RFC 4180). A cell a spreadsheet would run as a formula starts with `'`.
fn csv_line(cells: impl IntoIterator<Item = String>) -> String {
    let mut line = cells
        .into_iter()
        .map(|cell| {
            let cell = if cell.starts_with(['=', '+', '-', '@']) { format!("'{cell}") } else { cell };
            if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_line(["a".into(), "b,c".into(), "say \"hi\"".into()]), "a,\"b,c\",\"say \"\"hi\"\"\"\r\n");
        assert_eq!(csv_line(["=1+1".into(), "-".into()]), "'=1+1,'-\r\n");
    }

    #[test]
    fn blank_searches_filter_nothing() {
        assert!(ListParams { q: "  ".into(), ..ListParams::default() }.filters().is_empty());
        assert_eq!(ListParams { q: " Scorer ".into(), ..ListParams::default() }.filters(), vec![Filter::Text("scorer".into())]);
    }
}
