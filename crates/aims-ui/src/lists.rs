//! What every list page shares: the search (`?q=`), paging by cursor (`?cursor=`, a
//! `rel="next"` link) and the CSV download of every matching row, streamed page by page.

use aims_app::App;
use aims_domain::cursor;
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use aims_store::page_json::Filter;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::UiError;
use crate::text::encode_query_value;

/// Rows on one list page.
pub(crate) const PAGE_SIZE: u32 = 50;
/// The longest search text taken (the API's limit too).
const MAX_SEARCH: usize = 200;

/// A list page's query: the search, where the page starts, and `format=csv` for the download.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub format: String,
}

/// What the template shows around a list: the search box, the next page and the download.
pub(crate) struct Listing {
    pub q: String,
    pub next_href: Option<String>,
    /// The first page of the same search, when this is a later page.
    pub first_href: Option<String>,
    pub csv_href: String,
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

    /// Where the page starts; a cursor this site did not make is no page at all.
    fn after(&self) -> Result<i64, UiError> {
        if self.cursor.is_empty() {
            return Ok(0);
        }
        cursor::decode(&self.cursor).ok_or(UiError::NotFound)
    }
}

/// One page of `spec`'s records under the search and `extra` filters, with the links around it.
/// `base` is the list's path.
pub(crate) async fn page(
    app: &App,
    member: &Member,
    spec: &KindSpec,
    params: &ListParams,
    extra: Vec<Filter>,
    base: &str,
) -> Result<(Vec<Record>, Listing), UiError> {
    let mut filters = params.filters();
    filters.extend(extra);
    let page = app.list_records_where(member, spec, false, &filters, params.after()?, PAGE_SIZE).await?;
    let q = params.q.trim().to_owned();
    let search = if q.is_empty() { String::new() } else { format!("q={}", encode_query_value(&q)) };
    let join = |more: &str| match (search.is_empty(), more.is_empty()) {
        (true, true) => base.to_owned(),
        (true, false) => format!("{base}?{more}"),
        (false, true) => format!("{base}?{search}"),
        (false, false) => format!("{base}?{search}&{more}"),
    };
    let listing = Listing {
        next_href: page.next_after.map(|after| join(&format!("cursor={}", cursor::encode(after)))),
        first_href: (!params.cursor.is_empty()).then(|| join("")),
        csv_href: join("format=csv"),
        q,
    };
    Ok((page.items, listing))
}

/// Every record matching the search and `extra` filters as CSV: a header row, then one row per
/// record made by `row`, read and sent a page at a time so a large organisation's download
/// neither waits for nor holds the whole list.
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
    let mut filters = params.filters();
    filters.extend(extra);
    let head = csv_line(header.iter().map(|h| (*h).to_owned()));
    // The state carries the next page's start, None once the last page was sent.
    let state = (Some(0i64), app, member, filters, std::sync::Arc::new(row));
    let pages = futures::stream::unfold(state, move |(after, app, member, filters, row)| async move {
        let after = after?;
        match app.list_records_where(&member, spec, false, &filters, after, cursor::MAX_LIMIT).await {
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
