//! What a kind may add to its generated record page ([`PageHooks`]): a panel of its own and the
//! forms in it. The generated pages (`pages`) register the forms' routes and show the page again
//! when one is refused, so a kind's module depends on this interface, never on `pages`.

use std::future::Future;
use std::pin::Pin;

use aims_store::model::Record;

use crate::UiState;
use crate::error::UiError;
use crate::forms::{FormErrors, Notice};
use crate::layout::OrgCtx;
use crate::recform::Posted;

/// A boxed future of a hook's panel: its HTML, or `None`.
pub(crate) type PanelFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, UiError>> + Send + 'a>>;

/// A boxed future of one of a panel's forms, posted.
pub(crate) type ActFuture<'a> = Pin<Box<dyn Future<Output = Result<Acted, UiError>> + Send + 'a>>;

/// What a panel's form did.
pub(crate) enum Acted {
    /// Done: the record's page follows with `?done=<done>` and the panel's `#<anchor>`.
    Done { done: &'static str, anchor: &'static str },
    /// Refused: the record's page again, with the notice and what was typed.
    Refused(Notice, PanelRefusal),
}

/// A panel's form refused: what was typed and why, to show the page again with it.
pub(crate) struct PanelRefusal {
    pub typed: Posted,
    pub errors: FormErrors,
}

/// What a kind adds to its generated record page: a panel of its own (a chart, the gate's
/// prerequisites, a form such as "record that it was communicated") and that panel's forms.
/// Everything else is generated from the declarations.
pub(crate) trait PageHooks: Sync {
    /// An extra panel (HTML, escaped by the hook) shown after the record's fields, or `None`;
    /// `refused` is the panel's own form coming back refused, with what was typed.
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a>;

    /// A panel shown above the kind's list (a chart over its records), or `None`.
    fn list_panel<'a>(&'a self, _state: &'a UiState, _ctx: &'a OrgCtx) -> PanelFuture<'a> {
        Box::pin(async { Ok(None) })
    }

    /// The panel's forms: each posts to `/orgs/{org}/<collection>/{id}/<name>`, handled by [`Self::act`].
    fn actions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Transitions the panel offers in forms of its own (an audit's "record a result", one form
    /// per checklist item; a review's decision, with an owner to choose and a date): the
    /// generic transitions panel leaves them out.
    fn own_transitions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Carries out the panel's form `action` on the record `id`.
    fn act<'a>(&'a self, _state: &'a UiState, _ctx: &'a OrgCtx, _id: &'a str, _action: &'a str, _posted: Posted) -> ActFuture<'a> {
        Box::pin(async { Err(UiError::NotFound) })
    }

    /// What `?done=code` says after one of the panel's forms (or the kind's own new page).
    fn notice(&self, _done: &str) -> Option<Notice> {
        None
    }
}
