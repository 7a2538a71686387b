//! The declaration of a kind's generated pages ([`PageSpec`]), apart from the pages that
//! serve them (`pages`), so an area's module declares its kinds' pages without depending on the
//! handlers that list them.

use aims_domain::kinds;
use aims_domain::validate::KindSpec;
use aims_store::records::LinkSide;

use crate::hooks::PageHooks;
use crate::layout::Section;

/// How a kind's pages look: everything particular to a kind that the generic pages need.
pub(crate) struct PageSpec {
    pub kind: &'static KindSpec,
    /// The field that names a record (its heading and the list's first column).
    pub title_field: &'static str,
    /// The list's further columns (field names).
    pub columns: &'static [&'static str],
    /// Whether the list shows the record's state, after the title.
    pub state_column: bool,
    /// Computed columns after the fields, counted by the store for the page of records shown.
    pub badges: &'static [Badge],
    /// The facts shown under the record's heading (field names); its state always is.
    pub facts: &'static [&'static str],
    /// The record's fields in headed groups; fields in no group are shown under "Details".
    pub sections: &'static [PageSection],
    /// The clause or control the records serve, shown above the heading.
    pub serves: &'static str,
    pub intro: &'static str,
    /// The navigation section the pages belong to.
    pub section: Section,
    /// Whether the generic detail and edit pages serve the kind (false when a hand-written
    /// page does, as for impact assessments, whose list alone is generic).
    pub detail: bool,
    /// Whether the generic list and new pages serve it (false where a page of the kind's own
    /// does: the communication plan with its due dates).
    pub list: bool,
    /// Fields the generic pages neither show nor edit (a hook shows them its own way).
    pub hidden: &'static [&'static str],
    /// What the list is called in the breadcrumbs, when not the kind's plural.
    pub list_label: Option<&'static str>,
    /// What is truly particular to the kind's record page.
    pub hooks: Option<&'static dyn PageHooks>,
    /// The lists of the same area, linked above the list (the kind's own among them).
    pub related: &'static [&'static KindSpec],
}

/// What a declaration leaves as it is: `PageSpec { kind: &X, …, ..PAGE }`.
pub(crate) const PAGE: PageSpec = PageSpec {
    kind: &kinds::BASE,
    title_field: "title",
    columns: &[],
    state_column: false,
    badges: &[],
    facts: &[],
    sections: &[],
    serves: "",
    intro: "",
    section: Section::Dashboard,
    detail: true,
    list: true,
    hidden: &[],
    list_label: None,
    hooks: None,
    related: &[],
};

/// A headed group of a record's fields on its page.
pub(crate) struct PageSection {
    pub heading: &'static str,
    pub fields: &'static [&'static str],
}

/// A computed column of a list: a count the store makes for the records of the page shown,
/// never by reading the whole kind.
pub(crate) enum Badge {
    /// Actions linked with the record (through `link`) that are past their due date and
    /// neither done nor cancelled: "2 overdue".
    OverdueActions { link: LinkSide },
}

impl Badge {
    pub fn heading(&self) -> &'static str {
        match self {
            Badge::OverdueActions { .. } => "Overdue actions",
        }
    }
}
