//! The index of the pages generated from the kind declarations, as JSON: for every
//! [`PageSpec`](crate::pages::PageSpec) that `pages::routes` serves, its kind, its list page
//! (a singleton's one record), its new page when it has one, whether its record page is the
//! generic one (with `/archive`, `/transitions/{name}` and `/revisions` beside it), and the
//! transitions its workflow declares. The browser tests walk exactly these pages, so a kind added to `PAGES` is walked
//! (and checked for accessibility and roles) without anyone keeping a second list.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde::Serialize;

use crate::UiState;
use crate::layout::OrgCtx;
use crate::pages::{PageSpec, declared};

#[derive(Serialize)]
struct PageIndex {
    pages: Vec<KindPages>,
}

#[derive(Serialize)]
struct KindPages {
    kind: &'static str,
    label: &'static str,
    plural: &'static str,
    list: String,
    /// The generic new page, when the kind is created from its own pages.
    new: Option<String>,
    /// A singleton's one record is shown at `list` itself.
    singleton: bool,
    /// Whether the record page (`{list}/{id}`, with its edit form) is the generic one.
    detail: bool,
    /// The roles that may create, change and archive its records (its declared write permission).
    writers: Vec<&'static str>,
    transitions: Vec<Transition>,
}

#[derive(Serialize)]
struct Transition {
    name: &'static str,
    label: &'static str,
    from: &'static [&'static str],
    to: Option<&'static str>,
}

fn kind_pages(slug: &str, page: &PageSpec) -> KindPages {
    let spec = page.kind;
    let list = format!("/orgs/{slug}/{}", spec.collection);
    KindPages {
        kind: spec.kind,
        label: spec.label,
        plural: spec.plural_label,
        new: (spec.creatable && page.detail).then(|| format!("{list}/new")),
        list,
        singleton: spec.singleton,
        detail: page.detail,
        writers: spec.write.allowed_roles().iter().map(|r| r.as_str()).collect(),
        transitions: spec
            .workflow
            .map(|w| w.transitions.iter().map(|t| Transition { name: t.name, label: t.label, from: t.from, to: t.to }).collect())
            .unwrap_or_default(),
    }
}

async fn index(ctx: OrgCtx) -> Json<PageIndex> {
    Json(PageIndex { pages: declared().map(|page| kind_pages(ctx.slug(), page)).collect() })
}

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/pages.json", get(index))
}
