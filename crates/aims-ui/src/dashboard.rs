//! The landing pages: `/` (which organisation?) and an organisation's dashboard with its
//! readiness at a glance and the catalogue.

use aims_domain::kinds::{CONTROL, REQUIREMENT};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::UiState;
use crate::catalogue::{self, Clause, ControlGroup, ControlRow, GAP_ORDER};
use crate::charts::{self, BarRow, Segment};
use crate::error::UiError;
use crate::layout::{OrgCtx, Section, Shell, SignedIn};

#[derive(Template, WebTemplate)]
#[template(path = "choose_org.html")]
struct ChooseOrgPage {
    orgs: Vec<(String, String, &'static str)>,
}

/// `/`: straight to the dashboard when the user belongs to one organisation, else a choice.
pub(crate) async fn home(State(state): State<UiState>, signed_in: SignedIn) -> Result<Response, UiError> {
    let memberships = state.app.memberships(&signed_in.user_id).await?;
    if let [only] = memberships.as_slice() {
        return Ok(Redirect::to(&format!("/orgs/{}/", only.org_slug)).into_response());
    }
    let orgs = memberships.into_iter().map(|m| (m.org_slug, m.org_name, m.role.as_str())).collect();
    Ok(ChooseOrgPage { orgs }.into_response())
}

pub(crate) async fn add_slash(Path(org): Path<String>) -> Redirect {
    Redirect::permanent(&format!("/orgs/{}/", crate::text::encode_query_value(&org)))
}

/// A headline number.
struct Kpi {
    label: &'static str,
    value: String,
    detail: String,
    href: String,
    /// Shown with a warning tone (overdue actions).
    alert: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    kpis: Vec<Kpi>,
    clause_chart: String,
    gap_legend: Vec<Segment>,
    soa_chart: String,
    soa_legend: Vec<Segment>,
    clauses: Vec<Clause>,
    groups: Vec<ControlGroup>,
    own: Vec<ControlRow>,
    applicable: usize,
    excluded: usize,
    readiness: aims_app::readiness::Readiness,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let requirements = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?;
    let controls = catalogue::all(&state.app, &ctx.member, &CONTROL).await?;
    let slug = ctx.slug().to_owned();
    let clauses = catalogue::clauses(&slug, &requirements, &names);
    let (groups, own) = catalogue::control_groups(&slug, &controls, &names);

    let clause_rows: Vec<BarRow> = clauses
        .iter()
        .map(|c| BarRow {
            label: format!("{}  {}", c.reference, c.title),
            href: format!("/orgs/{slug}/requirements#clause-{}", c.reference),
            segments: c.segments(),
            done: c.in_place(),
        })
        .collect();
    let gap_legend: Vec<Segment> = GAP_ORDER
        .iter()
        .map(|(status, label)| Segment {
            status,
            label,
            count: clauses.iter().flat_map(|c| &c.rows).filter(|r| r.status == *status).count(),
        })
        .collect();
    let annex_a: Vec<&ControlRow> = groups.iter().flat_map(|g| &g.rows).collect();
    // The donut shows applicable controls only (excluded ones are not implemented or not), so
    // the chart, its legend and its caption agree.
    let soa_legend: Vec<Segment> =
        catalogue::soa_segments(annex_a.iter().copied()).into_iter().filter(|s| s.status != "excluded").collect();
    let applicable = annex_a.iter().filter(|r| r.applicable).count();
    let implemented = annex_a.iter().filter(|r| r.applicable && r.status == "implemented").count();
    let excluded = annex_a.len() - applicable;
    let percent = if applicable == 0 { 0 } else { implemented * 100 / applicable };
    let soa_chart = charts::donut("soa", "Annex A implementation status", &soa_legend, &format!("{percent}%"), "implemented");
    let clause_chart = charts::stacked_bars("gap", "Gap assessment progress per clause", &clause_rows);

    let requirement_count: usize = clauses.iter().map(|c| c.rows.len()).sum();
    let in_place = gap_legend.first().map_or(0, |s| s.count);
    let partial = gap_legend.get(1).map_or(0, |s| s.count);
    let mut kpis = vec![
        Kpi {
            label: "Requirements in place",
            value: format!("{in_place}/{requirement_count}"),
            detail: format!("{partial} partial, {} missing", requirement_count - in_place - partial),
            href: format!("/orgs/{slug}/requirements"),
            alert: false,
        },
        Kpi {
            label: "Annex A controls implemented",
            value: format!("{implemented}/{applicable}"),
            detail: format!("of applicable controls · {excluded} excluded"),
            href: format!("/orgs/{slug}/controls"),
            alert: false,
        },
        Kpi {
            label: "Own controls",
            value: own.len().to_string(),
            detail: format!("{} implemented", own.iter().filter(|r| r.status == "implemented").count()),
            href: format!("/orgs/{slug}/controls#own"),
            alert: false,
        },
    ];
    let (my_open, my_overdue) = crate::actions::my_counts(&state, &ctx).await?;
    kpis.push(Kpi {
        label: "My actions",
        value: my_open.to_string(),
        detail: match (my_open, my_overdue) {
            (0, _) => "nothing open assigned to you".into(),
            (_, 0) => "open · none overdue".into(),
            (_, n) => format!("open · {n} overdue"),
        },
        href: format!("/orgs/{slug}/actions#mine"),
        alert: my_overdue > 0,
    });
    let (reviews_due, reviews_overdue) = crate::schedule_pages::my_counts(&state, &ctx).await?;
    let org_overdue = crate::schedule_pages::org_overdue(&state, &ctx).await?;
    kpis.push(Kpi {
        label: "My reviews",
        value: reviews_due.to_string(),
        detail: match (reviews_due, reviews_overdue) {
            (0, _) => format!("none due in two weeks · {org_overdue} overdue in the organisation"),
            (_, 0) => format!("due in two weeks · none overdue · {org_overdue} in the organisation"),
            (_, n) => format!("due in two weeks · {n} overdue · {org_overdue} in the organisation"),
        },
        href: format!("/orgs/{slug}/reviews-due"),
        alert: reviews_overdue > 0,
    });
    Ok(DashboardPage {
        shell: ctx.shell(Section::Dashboard),
        kpis,
        clause_chart,
        gap_legend,
        soa_chart,
        soa_legend,
        clauses,
        groups,
        own,
        applicable,
        excluded,
        readiness: state.app.readiness(&ctx.member).await?,
    }
    .into_response())
}
