//! The generic record routes, registered for every kind in `aims_domain::kinds::ALL`:
//! list, create, read, change (merge patch), archive (DELETE) and trace.

use aims_app::App;
use aims_domain::validate::KindSpec;
use aims_domain::workflow::{Permission, Sod, TransitionSpec};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use serde_json::{Map, Value, json};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::{Ref, RefOr};

use crate::auth::{Authed, Credentials};
use crate::dto::{PAGE_PREFIX, json_page_response, json_text_body, record_json};
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::input::{IfMatch, JsonBody, ListQuery, OptionalJsonBody, QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc, input_schema, page_schema, record_schema, trace_schema, transition_choices_schema};
use crate::routes::record_response;
use aims_store::page_json::Filter;

const JSON: &str = "application/json";
/// The longest text a list search (`?q=`) takes.
pub const MAX_SEARCH: usize = aims_app::list_query::MAX_SEARCH;
const MERGE_PATCH: &str = "application/merge-patch+json";
/// The component schema of `GET …/transitions`.
const TRANSITION_CHOICES: &str = "TransitionChoices";

fn schema_name(spec: &KindSpec) -> String {
    let mut chars = spec.kind.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default().replace('_', "")
}

fn location(org: &str, spec: &KindSpec, body: &Value) -> String {
    let key = if spec.addressed_by_ref { body.get("ref") } else { body.get("id") };
    format!("/api/v1/orgs/{org}/{}/{}", spec.collection, key.and_then(Value::as_str).unwrap_or_default())
}

/// Adds the routes of one kind.
pub fn register(api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let api = if spec.singleton {
        register_singleton(api, spec)
    } else if spec.parent.is_some() {
        register_nested(api, spec)
    } else {
        register_collection(api, spec)
    };
    let api = register_transitions(api, spec);
    register_revisions(api, spec)
}

/// The routes of a kind addressed by id or reference at the top of the organisation.
fn register_collection(mut api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let by_ref = spec.addressed_by_ref;
    let name = schema_name(spec);
    let record_ref: RefOr<_> = Ref::from_schema_name(&name).into();
    let collection = format!("/api/v1/orgs/{{org}}/{}", spec.collection);
    let key_name: &'static str = if by_ref { "ref" } else { "id" };
    let item = format!("{collection}/{{{key_name}}}");
    let key_doc = if by_ref { "The record's reference, e.g. A.6.2.4 or 6.1.2" } else { "The record's id (UUID)" };
    api = api.schema(&name, record_schema(spec, by_ref));

    api = api.route(
        HttpMethod::Get,
        &collection,
        get(move |State(app): State<App>, Path(org): Path<String>, credentials: Credentials, QueryPairs(query)| async move {
            let allowed = filter_names(spec);
            let query = parse_list_query(&query, &allowed)?;
            let archived = query.flag("archived")?;
            let filters = filters(spec, &query)?;
            let (after, limit) = (query.paging.after, query.paging.limit);
            let page = match credentials {
                Credentials::Token(secret) => {
                    app.list_records_json_by_token(&secret, &org, spec, archived, &filters, after, limit, PAGE_PREFIX).await?.1
                }
                Credentials::Member(member) => app.list_records_json(&member, spec, archived, &filters, after, limit, PAGE_PREFIX).await?,
            };
            ApiResult::Ok(json_page_response(page))
        }),
        Doc::new(spec.collection, format!("list_{}", spec.collection), format!("List {}", spec.plural_label.to_lowercase()))
            .org()
            .paged()
            .flag("archived", "true to include archived records")
            .query("q", "Only records whose name, title or reference contains this text, ignoring case")
            .filters(spec)
            .ok(200, "A page of records", Some((JSON, page_schema(record_ref.clone()).into()))),
    );
    if spec.creatable && !spec.uploads {
        api = api.route(
            HttpMethod::Post,
            &collection,
            post(move |State(app): State<App>, Path(org): Path<String>, Authed(member), JsonBody(body)| async move {
                let record = app.create_record(&member, spec, &body).await?;
                let body = record_json(&record);
                ApiResult::Ok(record_response(StatusCode::CREATED, &body, record.version, Some(location(&org, spec, &body))))
            }),
            Doc::new(spec.collection, format!("create_{}", spec.kind), format!("Create a {}", spec.label.to_lowercase()))
                .org()
                .describe(writers(spec))
                .body(JSON, input_schema(spec, by_ref, true).into())
                .error(409)
                .ok(201, "Created", Some((JSON, record_ref.clone()))),
        );
    }
    if spec.creatable {
        api = api.route(
            HttpMethod::Delete,
            &item,
            delete(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member), IfMatch(version)| async move {
                let record = app.archive_record(&member, spec, &key, version).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("archive_{}", spec.kind), format!("Archive a {} (never erased)", spec.label.to_lowercase()))
                .org()
                .describe(writers(spec))
                .param(key_name, key_doc)
                .if_match()
                .ok(200, "Archived", Some((JSON, record_ref.clone()))),
        );
    }
    api = api.route(
        HttpMethod::Get,
        &item,
        get(move |State(app): State<App>, Path((org, key)): Path<(String, String)>, credentials: Credentials| async move {
            let (version, doc) = match credentials {
                Credentials::Token(secret) => app.get_record_json_by_token(&secret, &org, spec, &key).await?,
                Credentials::Member(member) => app.get_record_json(&member, spec, &key).await?,
            };
            ApiResult::Ok(crate::dto::json_text_response(doc, version))
        }),
        Doc::new(spec.collection, format!("get_{}", spec.kind), format!("Read a {}", spec.label.to_lowercase()))
            .org()
            .param(key_name, key_doc)
            .ok(200, "The record, with its version as ETag", Some((JSON, record_ref.clone()))),
    );
    api =
        api.route(
            HttpMethod::Patch,
            &item,
            patch(
                move |State(app): State<App>,
                      Path((_org, key)): Path<(String, String)>,
                      Authed(member),
                      IfMatch(version),
                      JsonBody(body)| async move {
                    let record = app.patch_record(&member, spec, &key, version, &body).await?;
                    ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
                },
            ),
            Doc::new(
                spec.collection,
                format!("update_{}", spec.kind),
                format!("Change a {} (JSON merge patch, If-Match required)", spec.label.to_lowercase()),
            )
            .org()
            .describe(writers(spec))
            .param(key_name, key_doc)
            .if_match()
            .body(MERGE_PATCH, input_schema(spec, false, false).into())
            .ok(200, "The changed record", Some((JSON, record_ref.clone()))),
        );
    api.route(
        HttpMethod::Get,
        &format!("{item}/trace"),
        get(move |State(app): State<App>, Path((org, key)): Path<(String, String)>, credentials: Credentials| async move {
            let (_, record, linked) = match credentials {
                Credentials::Token(secret) => app.trace_json_by_token(&secret, &org, spec, &key).await?,
                Credentials::Member(member) => app.trace_json(&member, spec, &key).await?,
            };
            ApiResult::Ok(json_text_body(trace_text(&record, &linked)))
        }),
        Doc::new(spec.collection, format!("trace_{}", spec.kind), format!("Records linked to and from a {}", spec.label.to_lowercase()))
            .org()
            .param(key_name, key_doc)
            .ok(
                200,
                "The record and its linked records grouped by kind (at most 50 per field and kind; counts gives the totals)",
                Some((JSON, trace_schema(record_ref.clone()).into())),
            ),
    )
}

/// The query parameters a list of a kind accepts: the shared declaration's.
fn filter_names(spec: &'static KindSpec) -> Vec<&'static str> {
    aims_app::list_query::filter_names(spec)
}

/// Turns filter parameters into store filters, checking values (a bad UUID or choice is 422).
fn filters(spec: &'static KindSpec, query: &ListQuery<'_>) -> Result<Vec<Filter>, ApiError> {
    let pairs = query.extra.iter().filter(|(name, _)| *name != "archived").map(|(name, value)| (*name, value.as_str()));
    Ok(aims_app::list_query::filters(spec, pairs)?)
}

fn item_path(spec: &KindSpec) -> (String, &'static str) {
    let collection = format!("/api/v1/orgs/{{org}}/{}", spec.collection);
    if spec.singleton {
        return (collection, "");
    }
    let key_name = if spec.addressed_by_ref { "ref" } else { "id" };
    (format!("{collection}/{{{key_name}}}"), key_name)
}

/// `GET` and `PATCH` of a kind with one record per organisation (`scope`, `risk-criteria`).
fn register_singleton(api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let name = schema_name(spec);
    let record_ref: RefOr<_> = Ref::from_schema_name(&name).into();
    let path = format!("/api/v1/orgs/{{org}}/{}", spec.collection);
    api.schema(&name, record_schema(spec, false))
        .route(
            HttpMethod::Get,
            &path,
            get(move |State(app): State<App>, Authed(member)| async move {
                let record = app.get_singleton(&member, spec).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("get_{}", spec.kind), format!("Read the {}", spec.label.to_lowercase())).org().ok(
                200,
                "The record, with its version as ETag",
                Some((JSON, record_ref.clone())),
            ),
        )
        .route(
            HttpMethod::Patch,
            &path,
            patch(move |State(app): State<App>, Authed(member), IfMatch(version), JsonBody(body)| async move {
                let record = app.patch_singleton(&member, spec, version, &body).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(
                spec.collection,
                format!("update_{}", spec.kind),
                format!("Change the {} (JSON merge patch, If-Match required)", spec.label.to_lowercase()),
            )
            .org()
            .describe(writers(spec))
            .if_match()
            .body(MERGE_PATCH, input_schema(spec, false, false).into())
            .ok(200, "The changed record; a new revision is kept", Some((JSON, record_ref))),
        )
}

/// The routes of a kind that lives under a parent (`ai-systems/{id}/resources`).
fn register_nested(api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let Some(parent) = spec.parent else { return api };
    let name = schema_name(spec);
    let record_ref: RefOr<_> = Ref::from_schema_name(&name).into();
    let collection = format!("/api/v1/orgs/{{org}}/{}/{{id}}/{}", parent.collection, spec.collection);
    let item = format!("{collection}/{{child_id}}");
    api.schema(&name, record_schema(spec, false))
        .route(
            HttpMethod::Get,
            &collection,
            get(move |State(app): State<App>, Path((_org, parent_id)): Path<(String, String)>, Authed(member), QueryPairs(query)| async move {
                let query = parse_list_query(&query, &[])?;
                let page = app.list_children(&member, spec, &parent_id, query.paging.after, query.paging.limit).await?;
                ApiResult::Ok(axum::Json(crate::dto::page_json(&page, record_json)))
            }),
            Doc::new(spec.collection, format!("list_{}", spec.kind), format!("List the {} of a {}", spec.plural_label.to_lowercase(), parent.kind.replace('_', " ")))
                .org()
                .param("id", "The parent record's id")
                .paged()
                .ok(200, "A page of records", Some((JSON, page_schema(record_ref.clone()).into()))),
        )
        .route(
            HttpMethod::Post,
            &collection,
            post(move |State(app): State<App>, Path((org, parent_id)): Path<(String, String)>, Authed(member), JsonBody(body)| async move {
                let record = app.create_child_record(&member, spec, &parent_id, &body).await?;
                let location = format!("/api/v1/orgs/{org}/{}/{parent_id}/{}/{}", parent.collection, spec.collection, record.id);
                ApiResult::Ok(record_response(StatusCode::CREATED, &record_json(&record), record.version, Some(location)))
            }),
            Doc::new(spec.collection, format!("create_{}", spec.kind), format!("Add a {}", spec.label.to_lowercase()))
                .org()
.describe(writers(spec))
                .param("id", "The parent record's id")
                .body(JSON, input_schema(spec, false, true).into())
                .ok(201, "Created", Some((JSON, record_ref.clone()))),
        )
        .route(
            HttpMethod::Get,
            &item,
            get(move |State(app): State<App>, Path((_org, parent_id, id)): Path<(String, String, String)>, Authed(member)| async move {
                let record = app.get_child(&member, spec, &parent_id, &id).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("get_{}", spec.kind), format!("Read a {}", spec.label.to_lowercase()))
                .org()
                .param("id", "The parent record's id")
                .param("child_id", "The record's id")
                .ok(200, "The record", Some((JSON, record_ref.clone()))),
        )
        .route(
            HttpMethod::Patch,
            &item,
            patch(move |State(app): State<App>, Path((_org, parent_id, id)): Path<(String, String, String)>, Authed(member), IfMatch(version), JsonBody(body)| async move {
                app.get_child(&member, spec, &parent_id, &id).await?;
                let record = app.patch_record(&member, spec, &id, version, &body).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("update_{}", spec.kind), format!("Change a {} (JSON merge patch, If-Match required)", spec.label.to_lowercase()))
                .org()
.describe(writers(spec))
                .param("id", "The parent record's id")
                .param("child_id", "The record's id")
                .if_match()
                .body(MERGE_PATCH, input_schema(spec, false, false).into())
                .ok(200, "The changed record", Some((JSON, record_ref.clone()))),
        )
        .route(
            HttpMethod::Delete,
            &item,
            delete(move |State(app): State<App>, Path((_org, parent_id, id)): Path<(String, String, String)>, Authed(member), IfMatch(version)| async move {
                app.get_child(&member, spec, &parent_id, &id).await?;
                let record = app.archive_record(&member, spec, &id, version).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("archive_{}", spec.kind), format!("Archive a {}", spec.label.to_lowercase()))
                .org()
.describe(writers(spec))
                .param("id", "The parent record's id")
                .param("child_id", "The record's id")
                .if_match()
                .ok(200, "Archived", Some((JSON, record_ref.clone()))),
        )
        .route(
            HttpMethod::Get,
            &format!("{item}/trace"),
            get(move |State(app): State<App>, Path((_org, parent_id, id)): Path<(String, String, String)>, Authed(member)| async move {
                app.get_child(&member, spec, &parent_id, &id).await?;
                let (_, record, linked) = app.trace_json(&member, spec, &id).await?;
                ApiResult::Ok(json_text_body(trace_text(&record, &linked)))
            }),
            Doc::new(spec.collection, format!("trace_{}", spec.kind), format!("Records linked to and from a {}", spec.label.to_lowercase()))
                .org()
                .param("id", "The parent record's id")
                .param("child_id", "The record's id")
                .ok(
                    200,
                    "The record and its linked records grouped by kind (at most 50 per field and kind; counts gives the totals)",
                    Some((JSON, trace_schema(record_ref).into())),
                ),
        )
}

/// `POST …/{id}/{transition}` for each transition the kind declares (`POST …/soa/approve` for
/// a single record), documented from the declaration, and `GET …/{id}/transitions`: which of
/// them the caller may take now, and why not.
fn register_transitions(mut api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let Some(workflow) = spec.workflow else { return api };
    let (item, key_name) = item_path(spec);
    let record_ref: RefOr<_> = Ref::from_schema_name(schema_name(spec)).into();
    let with_key = |doc: Doc| if spec.singleton { doc } else { doc.param(key_name, "The record's id") };
    // A transition without a required field may be sent without a body.
    let with_body = |doc: Doc, transition: &TransitionSpec| {
        if transition.fields.iter().any(|f| f.required) {
            doc.body(JSON, transition_body(transition).into())
        } else {
            doc.optional_body(JSON, transition_body(transition).into())
        }
    };
    for transition in workflow.transitions {
        let name = transition.name;
        let handler = if spec.singleton {
            post(move |State(app): State<App>, Authed(member), IfMatch(version), OptionalJsonBody(body)| async move {
                let current = app.get_singleton(&member, spec).await?;
                let record = app.transition(&member, spec, &current.id, name, version, &body).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            })
        } else {
            post(
                move |State(app): State<App>,
                      Path((_org, key)): Path<(String, String)>,
                      Authed(member),
                      IfMatch(version),
                      OptionalJsonBody(body)| async move {
                    let record = app.transition(&member, spec, &key, name, version, &body).await?;
                    ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
                },
            )
        };
        let doc = Doc::new(
            spec.collection,
            format!("{}_{}", name.replace('-', "_"), spec.kind),
            format!("{} {} (If-Match required)", transition.label, the(spec)),
        )
        .describe(transition_description(transition))
        .org()
        .if_match()
        .error(409);
        api = api.route(
            HttpMethod::Post,
            &format!("{item}/{name}"),
            handler,
            with_body(with_key(doc), transition).ok(200, "The record after the transition", Some((JSON, record_ref.clone()))),
        );
    }
    let choices = if spec.singleton {
        get(move |State(app): State<App>, Authed(member)| async move {
            let current = app.get_singleton(&member, spec).await?;
            let choices = app.transition_choices(&member, spec, &current.id).await?;
            ApiResult::Ok(axum::Json(json!({ "items": choices })))
        })
    } else {
        get(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member)| async move {
            let choices = app.transition_choices(&member, spec, &key).await?;
            ApiResult::Ok(axum::Json(json!({ "items": choices })))
        })
    };
    api = api.schema(TRANSITION_CHOICES, transition_choices_schema());
    let doc = Doc::new(spec.collection, format!("list_transitions_{}", spec.kind), format!("The transitions of {} the caller may take now", the(spec)))
        .describe("Every declared transition with `refusal`: null when the caller may take it now, else the rule that refuses it (`role-permission`, `state`, `separation-of-duties` with its `part`, or `prerequisite`) and a sentence saying why.")
        .org();
    api.route(
        HttpMethod::Get,
        &format!("{item}/transitions"),
        choices,
        with_key(doc).ok(
            200,
            "The transitions and whether each is offered",
            Some((JSON, Ref::from_schema_name(TRANSITION_CHOICES).into())),
        ),
    )
}

/// "the Statement of Applicability" for a single record, "a policy" otherwise.
fn the(spec: &KindSpec) -> String {
    if spec.singleton { format!("the {}", spec.label) } else { format!("a {}", spec.label.to_lowercase()) }
}

/// Who may create, change or archive records of the kind: the roles its write permission allows.
fn writers(spec: &KindSpec) -> String {
    let roles = spec.write.allowed_roles().iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
    format!("Roles: {roles} (the `{}` permission); any other role is refused with 403 naming the rule.", spec.write.as_str())
}

/// The declaration in words: states, roles and the separation-of-duties rule.
fn transition_description(t: &TransitionSpec) -> String {
    let roles = |a: aims_domain::policy::Action| a.allowed_roles().iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
    let who = match t.permission {
        Permission::Action(a) => format!("Roles: {}.", roles(a)),
        Permission::RequesterOr { own, other } => format!("Roles: the requester as {}; anyone else as {}.", roles(own), roles(other)),
        Permission::ResidualLevel { within, above } => {
            format!("Roles: within the acceptance threshold {}; above it {}.", roles(within), roles(above))
        }
    };
    let sod = match t.sod {
        Sod::Independent => {
            "Separation of duties (independent): never the requester or author, the owner at request time or since, nor anyone who changed the record (for the SoA, an entry) since its last approval; refused with 403 naming the rule."
        }
        Sod::NotOwner { .. } => {
            "Separation of duties (not-owner): never the record's owner at request time or since, nor anyone who ever owned one of the records it links for the work checked (a nonconformity's corrective actions); refused with 403 naming the rule."
        }
        Sod::None => "Separation of duties: none beyond the role.",
    };
    let to = t.to.map_or("keeps its state".to_owned(), |s| format!("goes to `{s}`"));
    format!("{}. Leaves from `{}`; {to}. {who} {sod}", t.summary, t.from.join("`, `"))
}

/// The body a transition takes: its declared fields, the required ones marked required and
/// the others nullable; nothing else.
fn transition_body(t: &TransitionSpec) -> utoipa::openapi::schema::Schema {
    let mut body = utoipa::openapi::schema::ObjectBuilder::new()
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    for field in t.fields {
        if field.required {
            body = body.property(field.name, crate::openapi::string()).required(field.name);
        } else {
            body = body.property(field.name, crate::openapi::nullable(crate::openapi::string()));
        }
    }
    body.into()
}

/// `GET …/revisions` and `…/revisions/{n}` of kinds that keep revisions.
fn register_revisions(api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    if spec.revisions == aims_domain::validate::Revisions::None {
        return api;
    }
    let (item, key_name) = item_path(spec);
    let list_path = format!("{item}/revisions");
    let one_path = format!("{item}/revisions/{{n}}");
    let doc = |op: &str, summary: &str| {
        let doc = Doc::new(spec.collection, format!("{op}_{}", spec.kind), summary.to_owned()).org();
        if spec.singleton { doc } else { doc.param(key_name, "The record's id") }
    };
    if spec.singleton {
        return api
            .route(
                HttpMethod::Get,
                &list_path,
                get(move |State(app): State<App>, Authed(member)| async move {
                    let record = app.get_singleton(&member, spec).await?;
                    let revisions = app.revisions(&member, spec, &record.id).await?;
                    ApiResult::Ok(axum::Json(
                        json!({"items": revisions.iter().map(revision_json).collect::<Vec<_>>(), "next_cursor": null}),
                    ))
                }),
                doc("list_revisions", "List the frozen revisions, oldest first").ok(200, "Revisions", None),
            )
            .route(
                HttpMethod::Get,
                &one_path,
                get(move |State(app): State<App>, Path((_org, n)): Path<(String, String)>, Authed(member)| async move {
                    let record = app.get_singleton(&member, spec).await?;
                    let n = parse_revision(&n)?;
                    ApiResult::Ok(axum::Json(revision_json(&app.revision(&member, spec, &record.id, n).await?)))
                }),
                doc("get_revision", "Read one revision exactly as it was frozen").param("n", "The revision number").ok(
                    200,
                    "The revision",
                    None,
                ),
            );
    }
    api.route(
        HttpMethod::Get,
        &list_path,
        get(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member)| async move {
            let revisions = app.revisions(&member, spec, &key).await?;
            ApiResult::Ok(axum::Json(json!({"items": revisions.iter().map(revision_json).collect::<Vec<_>>(), "next_cursor": null})))
        }),
        doc("list_revisions", "List the frozen revisions, oldest first").ok(200, "Revisions", None),
    )
    .route(
        HttpMethod::Get,
        &one_path,
        get(move |State(app): State<App>, Path((_org, key, n)): Path<(String, String, String)>, Authed(member)| async move {
            let n = parse_revision(&n)?;
            ApiResult::Ok(axum::Json(revision_json(&app.revision(&member, spec, &key, n).await?)))
        }),
        doc("get_revision", "Read one revision exactly as it was frozen").param("n", "The revision number").ok(200, "The revision", None),
    )
}

fn parse_revision(text: &str) -> Result<i64, crate::error::ApiError> {
    text.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| crate::error::ApiError::NotFound(format!("revision {text}")))
}

fn revision_json(revision: &aims_store::model::Revision) -> Value {
    json!({
        "n": revision.n,
        "record_version": revision.record_version,
        "state": revision.state,
        "created_at": revision.created_at,
        "created_by": revision.created_by,
        "data": revision.data,
    })
}

/// `{"record": …, "links": {"<kind>": [{"field", "direction", "record"}]}, "counts": {"<kind>": n},
/// "truncated": bool}`: counts are the full numbers of linked records per kind; a group with
/// more than the trace's limit is cut (`truncated`), and the list filters page through the rest.
/// Written from the stored documents, which go into the body as they are.
fn trace_text(record: &str, linked: &[aims_store::page_json::LinkedDoc]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    let mut counts: Map<String, Value> = Map::new();
    let mut seen_groups = std::collections::HashSet::new();
    let mut truncated = false;
    for link in linked {
        if !kinds.contains(&link.kind.as_str()) {
            kinds.push(&link.kind);
        }
        if seen_groups.insert((link.outgoing, link.field.as_str(), link.kind.as_str())) {
            let count = counts.entry(link.kind.clone()).or_insert(json!(0));
            *count = json!(count.as_i64().unwrap_or(0) + link.group_total);
            truncated |= link.group_total > aims_app::records::TRACE_GROUP_LIMIT;
        }
    }
    let mut body = String::with_capacity(record.len() + linked.iter().map(|l| l.doc.len() + 64).sum::<usize>() + 256);
    body.push_str("{\"record\":");
    body.push_str(record);
    body.push_str(",\"links\":{");
    for (k, kind) in kinds.iter().enumerate() {
        if k > 0 {
            body.push(',');
        }
        body.push_str(&json!(kind).to_string());
        body.push_str(":[");
        for (i, link) in linked.iter().filter(|l| l.kind == *kind).enumerate() {
            if i > 0 {
                body.push(',');
            }
            let direction = if link.outgoing { "outgoing" } else { "incoming" };
            body.push_str(&format!("{{\"field\":{},\"direction\":\"{direction}\",\"record\":", json!(link.field)));
            body.push_str(&link.doc);
            body.push('}');
        }
        body.push(']');
    }
    body.push_str("},\"counts\":");
    body.push_str(&Value::Object(counts).to_string());
    body.push_str(",\"truncated\":");
    body.push_str(if truncated { "true" } else { "false" });
    body.push('}');
    body
}
