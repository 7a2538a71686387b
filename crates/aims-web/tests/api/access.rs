//! Every route × every role against an expected matrix written here, independently of the
//! policy module; success adds exactly one event per changed record, refusal adds none.

use crate::helpers::{Backend, Op, ROLES, Route, TestApp};

/// Which roles may use each route, as the product guide says.
fn allowed(route: Route) -> &'static [&'static str] {
    const ALL: &[&str] = &["owner", "admin", "editor", "auditor", "viewer"];
    const WRITERS: &[&str] = &["owner", "admin", "editor"];
    const MANAGERS: &[&str] = &["owner", "admin"];
    const AUDITORS: &[&str] = &["owner", "admin", "auditor"];
    // Audit records (programmes, audits, findings, certificates) are the auditors' to write.
    if route.spec.is_some_and(|s| s.write == aims_domain::policy::Action::Audit)
        && matches!(route.op, Op::Create | Op::Patch | Op::Archive | Op::Transition(_))
    {
        return AUDITORS;
    }
    match route.op {
        Op::Healthz | Op::Metrics | Op::OpenApi | Op::PublicConcern | Op::PublicConcernStatus => ALL,
        // Completing a supplier review is a decision on it.
        Op::Transition("complete" | "return") if route.spec.is_some_and(|s| s.kind == "supplier_review") => MANAGERS,
        Op::List | Op::Get | Op::Trace | Op::Revisions | Op::Revision | Op::TransitionChoices => ALL,
        Op::ListActivity | Op::ActivityCsv | Op::ActivityHead | Op::ActivityVerify => ALL,
        Op::ListTokens | Op::CreateToken | Op::RevokeOwnToken => ALL,
        Op::Create | Op::Patch | Op::Archive | Op::ImportAiSystems | Op::UploadEvidence | Op::ReplaceEvidenceFile => WRITERS,
        Op::DownloadEvidence | Op::PolicyDiff | Op::CompetenceGaps | Op::Readiness | Op::ReadinessHistory => ALL,
        Op::SendTest => WRITERS,
        // Everyone confirms having read a published policy.
        Op::Transition("acknowledge") => ALL,
        // Deciding on an improvement is management's; verifying effectiveness an editor's too.
        Op::Transition("accept") if route.spec.is_some_and(|s| s.kind == "improvement") => MANAGERS,
        // Closing a management review (and freezing its pack) is management's.
        Op::Transition("close") if route.spec.is_some_and(|s| s.kind == "management_review") => MANAGERS,
        Op::ListAllTokens | Op::RevokeOthersToken => MANAGERS,
        Op::ListMembers | Op::GetMember | Op::GetSecuritySettings => ALL,
        Op::ChangeSecuritySettings => &["owner"],
        // Reports are read from the record: every role may generate and list them.
        Op::ListReportKinds | Op::GenerateReport | Op::ListIssuedDocuments | Op::GetIssuedDocument => ALL,
        Op::ChangeMember | Op::SignOutMember | Op::ListInvitations | Op::Invite | Op::RevokeInvitation => MANAGERS,
        // Single sign-on settings: admins read them, only owners change them.
        Op::GetSsoSettings => MANAGERS,
        Op::ChangeSsoSettings => &["owner"],
        // Approving a gate and signing off an assessment need an approver (never the editor
        // who requested or wrote it); the requester may withdraw a gate; a residual risk within
        // the threshold may be accepted by an editor.
        Op::Transition("approve" | "reject" | "sign-off" | "publish" | "retire") => MANAGERS,
        Op::Transition(_) => WRITERS,
    }
}

async fn every_route_for_every_role(backend: Backend) {
    let t = TestApp::start(backend).await;
    for route in Route::all() {
        for role in ROLES {
            let prepared = t.prepare(route, "acme", role).await;
            let events = t.event_count().await;
            let reply = t.send(t.token(role), &prepared).await;
            let expected_ok = allowed(route).contains(&role);
            if expected_ok {
                assert!(reply.status.is_success(), "{route:?} as {role}: {} {}", reply.status, reply.text);
                assert_eq!(t.event_count().await, events + route.records_changed(), "{route:?} as {role}: one event per changed record");
            } else {
                reply.problem(403);
                assert!(
                    reply.json()["detail"].as_str().is_some_and(|d| d.contains("rule")),
                    "{route:?} as {role}: the refusal names the rule"
                );
                assert_eq!(t.event_count().await, events, "{route:?} as {role}: a refusal adds no event");
            }
        }
    }
}

/// The routes the walk covers are exactly the routes the OpenAPI document lists.
async fn the_walk_covers_every_documented_route(backend: Backend) {
    let t = TestApp::start(backend).await;
    let doc = t.get("viewer", "/api/openapi.json").await.json();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                documented.push((method.to_owned(), path.clone()));
            }
        }
    }
    documented.push(("get".into(), "/api/openapi.json".into()));
    documented.sort();
    documented.dedup();
    let mut walked: Vec<(String, String)> = Route::all().into_iter().map(|r| r.template()).collect();
    walked.sort();
    walked.dedup();
    assert_eq!(walked, documented);
    for (_, path) in &documented {
        let item = &doc["paths"][path];
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{path} documents its responses");
        }
    }
}

on_both_backends!(every_route_for_every_role, the_walk_covers_every_documented_route);
