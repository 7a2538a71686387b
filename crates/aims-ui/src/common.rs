//! What several page modules share, kept apart from any one page so that no page module
//! imports another (`tests/ui/module_graph.rs` checks that the modules form no cycle): the
//! `?done=` notice after a post, the `?ai_system_id=` of a form opened from an AI system, the
//! version and text fields of posted forms and records, every record of a kind, and the
//! generic "new record" page.

use aims_app::App;
use aims_domain::clock;
use aims_domain::policy::Action;
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::UiError;
use crate::forms::{FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted};

/// `?done=` after a successful post: what to say, and in which part of the page.
#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// `?ai_system_id=` on a form opened from an AI system's page: the new record names the system.
#[derive(Deserialize, Default)]
pub(crate) struct ForSystem {
    #[serde(default)]
    pub ai_system_id: String,
}

impl ForSystem {
    pub(crate) fn prefill(&self, values: &mut Map<String, Value>) {
        if !self.ai_system_id.is_empty() {
            values.insert("ai_system_ids".into(), json!([self.ai_system_id]));
        }
    }
}

pub(crate) fn done_notice(code: &str) -> Notice {
    let text = match code {
        "" => return Notice::None,
        "saved" => return Notice::Saved,
        "registered" => "AI system registered.",
        "gate" => "Gate requested. Someone else with the approval role decides it.",
        "approve" => "Gate approved: the system moved to its new stage.",
        "reject" => "Gate rejected.",
        "cancel" => "Gate cancelled.",
        "record" => "Lifecycle record added.",
        "resource" => "Resource added.",
        "dataset" => "Dataset added and linked to this system.",
        "created" => "Created.",
        "accepted" => "Residual risk accepted.",
        "signed" => "Impact assessment signed off.",
        _ => return Notice::None,
    };
    Notice::Done(text.into())
}

pub(crate) fn version_of(posted: &Posted) -> i64 {
    posted.one("version").parse().unwrap_or(-1)
}

pub(crate) fn field(record: &Record, name: &str) -> String {
    match record.data.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Every record of a kind that is not archived, in creation order.
pub(crate) async fn all(app: &App, member: &Member, spec: &KindSpec) -> Result<Vec<Record>, UiError> {
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = app.list_records(member, spec, false, after, 200).await?;
        records.extend(page.items);
        match page.next_after {
            Some(seq) => after = seq,
            None => return Ok(records),
        }
    }
}

pub(crate) fn today() -> String {
    clock::format_date(clock::today())
}

#[derive(Template, WebTemplate)]
#[template(path = "record_new.html")]
pub(crate) struct NewRecordPage {
    pub shell: Shell,
    pub can_edit: bool,
    pub eyebrow: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub back_href: String,
    pub back_label: &'static str,
    pub submit: &'static str,
    pub notice: Notice,
    pub form_html: String,
    pub others: Vec<String>,
    pub hidden: Vec<(String, String)>,
}

/// The words of a "new record" page.
pub(crate) struct NewPageText {
    pub section: Section,
    pub eyebrow: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub back_label: &'static str,
    pub submit: &'static str,
}

impl NewRecordPage {
    /// A new-record form for a kind's fields (re-shown with what was typed and its errors),
    /// answered with the status the outcome calls for.
    pub(crate) fn respond(
        ctx: &OrgCtx,
        text: NewPageText,
        back_href: String,
        fields: &[aims_domain::validate::FieldSpec],
        form: (&Map<String, Value>, &FormErrors, &Options),
        notice: Notice,
    ) -> Response {
        Self::respond_as(ctx, Action::Edit, text, back_href, fields, form, notice)
    }

    /// [`Self::respond`] for a kind written with another permission than `Edit` (audit records).
    pub(crate) fn respond_as(
        ctx: &OrgCtx,
        write: Action,
        text: NewPageText,
        back_href: String,
        fields: &[aims_domain::validate::FieldSpec],
        form: (&Map<String, Value>, &FormErrors, &Options),
        notice: Notice,
    ) -> Response {
        let (values, errors, options) = form;
        let shown: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let status = crate::forms::form_status(&notice, errors);
        let page = NewRecordPage {
            shell: ctx.shell(text.section),
            can_edit: ctx.can(write),
            eyebrow: text.eyebrow,
            title: text.title,
            intro: text.intro,
            back_href,
            back_label: text.back_label,
            submit: text.submit,
            form_html: recform::render(fields, &[], values, errors, options),
            others: errors.others(&shown),
            notice,
            hidden: Vec::new(),
        };
        (status, page).into_response()
    }
}
