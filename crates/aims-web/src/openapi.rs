//! The OpenAPI document, built from the same registrations that add routes to the router
//! ([`ApiBuilder::route`]), so no route can exist without its entry, and record schemas are
//! generated from the domain's field specs.

use aims_domain::validate::{FieldSpec, FieldType, KindSpec, Shape};
use axum::Router;
use axum::routing::MethodRouter;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder,
};

use aims_app::App;

/// Collects routes and their OpenAPI operations together.
pub struct ApiBuilder {
    router: Router<App>,
    paths: Paths,
    components: ComponentsBuilder,
}

/// What the OpenAPI document says about one operation.
pub struct Doc {
    pub tag: &'static str,
    pub summary: String,
    /// A longer description (a transition's states, roles and separation-of-duties rule).
    pub description: Option<String>,
    pub operation_id: String,
    pub params: Vec<(&'static str, &'static str)>,
    pub query: Vec<(&'static str, &'static str, Schema)>,
    /// The operation is a change that needs `If-Match` (428 without it, 412 when stale).
    pub if_match: bool,
    /// Refusals this operation can answer beyond those its shape implies (409, 413 …).
    pub errors: Vec<u16>,
    pub body: Option<(&'static str, RefOr<Schema>)>,
    /// The body may be left out (transitions without a reason).
    pub body_optional: bool,
    pub responses: Vec<(u16, &'static str, Option<(&'static str, RefOr<Schema>)>)>,
    /// Responses that come in one of several media types (a report as PDF, XLSX, CSV …).
    pub media_responses: Vec<(u16, &'static str, Vec<(&'static str, RefOr<Schema>)>)>,
    pub authenticated: bool,
}

impl Doc {
    pub fn new(tag: &'static str, operation_id: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            tag,
            summary: summary.into(),
            description: None,
            operation_id: operation_id.into(),
            params: Vec::new(),
            query: Vec::new(),
            if_match: false,
            errors: Vec::new(),
            body: None,
            body_optional: false,
            responses: Vec::new(),
            media_responses: Vec::new(),
            authenticated: true,
        }
    }
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn param(mut self, name: &'static str, description: &'static str) -> Self {
        self.params.push((name, description));
        self
    }
    pub fn org(self) -> Self {
        self.param("org", "The organisation's slug")
    }
    /// A string query parameter.
    pub fn query(self, name: &'static str, description: &'static str) -> Self {
        self.query_typed(name, description, string())
    }
    pub fn query_typed(mut self, name: &'static str, description: &'static str, schema: Schema) -> Self {
        self.query.push((name, description, schema));
        self
    }
    /// `limit` (1–200) and `cursor`, the paging of every list.
    pub fn paged(self) -> Self {
        let limit =
            ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1.0)).maximum(Some(aims_domain::cursor::MAX_LIMIT as f64)).into();
        self.query_typed("limit", "Page size, 1–200 (default 50)", limit).query_typed(
            "cursor",
            "The next_cursor of the previous page",
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(aims_domain::cursor::PATTERN)).into(),
        )
    }
    /// A `true`/`false` query parameter.
    pub fn flag(self, name: &'static str, description: &'static str) -> Self {
        self.query_typed(name, description, typed(Type::Boolean))
    }
    /// The filters of a list of a kind, by their real names and types (see
    /// `routes::records::filter_names`): `state`, link and person fields by id, choice fields
    /// by value, and the system fields.
    pub fn filters(mut self, spec: &KindSpec) -> Self {
        if spec.initial_state.is_some() {
            self = self.query("state", "Only records in this state");
        }
        for field in spec.fields {
            let (description, schema): (&'static str, Schema) = match field.ty {
                FieldType::Ids { .. } | FieldType::Link { .. } => ("Only records linked to this record id", uuid()),
                FieldType::UserId => ("Only records of this user id", uuid()),
                FieldType::Choice(values) => (
                    "Only records with this value",
                    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into(),
                ),
                _ => continue,
            };
            self = self.query_typed(field.name, description, schema);
        }
        for field in spec.system_fields.iter().filter(|f| f.name != "ref") {
            self = self.query(field.name, "Only records with this value");
        }
        self
    }
    pub fn if_match(mut self) -> Self {
        self.if_match = true;
        self
    }
    pub fn error(mut self, status: u16) -> Self {
        self.errors.push(status);
        self
    }
    pub fn body(mut self, content_type: &'static str, schema: RefOr<Schema>) -> Self {
        self.body = Some((content_type, schema));
        self
    }
    pub fn optional_body(mut self, content_type: &'static str, schema: RefOr<Schema>) -> Self {
        self.body = Some((content_type, schema));
        self.body_optional = true;
        self
    }
    pub fn ok(mut self, status: u16, description: &'static str, content: Option<(&'static str, RefOr<Schema>)>) -> Self {
        self.responses.push((status, description, content));
        self
    }
    /// A response in one of several media types.
    pub fn ok_media(mut self, status: u16, description: &'static str, media: Vec<(&'static str, RefOr<Schema>)>) -> Self {
        self.media_responses.push((status, description, media));
        self
    }
    pub fn public(mut self) -> Self {
        self.authenticated = false;
        self
    }
}

impl Default for ApiBuilder {
    fn default() -> Self {
        let components = ComponentsBuilder::new()
            .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
            .schema("Problem", problem_schema());
        Self { router: Router::new(), paths: Paths::new(), components }
    }
}

impl ApiBuilder {
    /// Registers a handler and its documentation at once.
    pub fn route(mut self, method: HttpMethod, path: &str, handler: MethodRouter<App>, doc: Doc) -> Self {
        self.router = self.router.route(path, handler);
        let problems = refusals(&doc);
        let mut operation = OperationBuilder::new()
            .tag(doc.tag)
            .summary(Some(doc.summary))
            .description(doc.description)
            .operation_id(Some(doc.operation_id));
        for (name, description) in doc.params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(string())),
            );
        }
        for (name, description, schema) in &doc.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(schema.clone())),
            );
        }
        if doc.if_match {
            let version = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r#"^\s*(\*|(W/)?"[^"]*")\s*$"#));
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("If-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some("The ETag of the version the change is based on (\"3\"), or * for any current version"))
                    .schema(Some(version)),
            );
        }
        if let Some((content_type, schema)) = doc.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content(content_type, ContentBuilder::new().schema(Some(schema)).build())
                    .required(Some(if doc.body_optional { Required::False } else { Required::True }))
                    .build(),
            ));
        }
        for (status, description, content) in doc.responses {
            let mut response = ResponseBuilder::new().description(description);
            if let Some((content_type, schema)) = content {
                response = response.content(content_type, ContentBuilder::new().schema(Some(schema)).build());
            }
            operation = operation.response(status.to_string(), response.build());
        }
        for (status, description, media) in doc.media_responses {
            let mut response = ResponseBuilder::new().description(description);
            for (content_type, schema) in media {
                response = response.content(content_type, ContentBuilder::new().schema(Some(schema)).build());
            }
            operation = operation.response(status.to_string(), response.build());
        }
        for (status, description) in problems {
            let problem = ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
                .build();
            operation = operation.response(status.to_string(), problem);
        }
        if doc.authenticated {
            operation = operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        self.paths.add_path_operation(path, vec![method], operation.build());
        self
    }

    pub fn schema(mut self, name: &str, schema: impl Into<RefOr<Schema>>) -> Self {
        self.components = self.components.schema(name, schema);
        self
    }

    pub fn finish(self) -> (Router<App>, OpenApi) {
        let info = InfoBuilder::new()
            .title("aims API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some("The API of aims, an AI management system under ISO/IEC 42001:2023. Records are addressed under /api/v1/orgs/{org}/…; changes take If-Match; errors are RFC 9457 problem documents."))
            .build();
        let doc = OpenApiBuilder::new().info(info).paths(self.paths).components(Some(self.components.build())).build();
        (self.router, doc)
    }
}

/// The refusals an operation can answer, from its shape: authentication, path parameters,
/// body, query, `If-Match`, plus those it names itself.
fn refusals(doc: &Doc) -> Vec<(u16, &'static str)> {
    let mut statuses = Vec::new();
    if doc.body.is_some() {
        statuses.extend([400, 413, 415, 422]);
    }
    if doc.authenticated {
        statuses.extend([401, 403]);
    }
    if !doc.params.is_empty() {
        statuses.push(404);
    }
    if !doc.query.is_empty() {
        statuses.push(422);
    }
    if doc.if_match {
        statuses.extend([409, 412, 422, 428]);
    }
    statuses.extend(doc.errors.iter().copied());
    statuses.sort_unstable();
    statuses.dedup();
    statuses.into_iter().map(|s| (s, refusal(s))).collect()
}

fn refusal(status: u16) -> &'static str {
    match status {
        400 => "Malformed body",
        401 => "No valid credentials",
        403 => "The caller's role may not do this",
        404 => "No such organisation (for this caller) or record",
        409 => "Conflicts with the record's state or another record",
        412 => "If-Match names a version that is no longer current",
        413 => "Body too large",
        415 => "Unsupported content type",
        422 => "Invalid input; errors name each field",
        428 => "If-Match is required",
        _ => "Refused",
    }
}

/// The same schema, also allowing `null`.
pub fn nullable(schema: Schema) -> Schema {
    fn with_null(ty: &SchemaType) -> SchemaType {
        match ty {
            SchemaType::Type(t) => SchemaType::from_iter([t.clone(), Type::Null]),
            SchemaType::Array(types) => SchemaType::from_iter(types.iter().cloned().chain([Type::Null])),
            SchemaType::AnyValue => SchemaType::AnyValue,
        }
    }
    match schema {
        Schema::Object(mut object) => {
            object.schema_type = with_null(&object.schema_type);
            if let Some(values) = object.enum_values.as_mut() {
                values.push(serde_json::Value::Null);
            }
            Schema::Object(object)
        }
        Schema::Array(mut array) => {
            array.schema_type = with_null(&array.schema_type);
            Schema::Array(array)
        }
        other => other,
    }
}

pub fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn typed(ty: Type) -> Schema {
    ObjectBuilder::new().schema_type(ty).into()
}

fn problem_schema() -> Schema {
    let field = ObjectBuilder::new()
        .property("field", string())
        .property("message", string())
        .property("code", string())
        .required("field")
        .required("message")
        .required("code");
    ObjectBuilder::new()
        .property("type", string())
        .property("title", string())
        .property("status", typed(Type::Integer))
        .property("detail", string())
        .property("errors", ArrayBuilder::new().items(field))
        .required("status")
        .required("title")
        .required("detail")
        .required("errors")
        .into()
}

fn field_schema(ty: FieldType) -> Schema {
    match ty {
        FieldType::Text { max } => ObjectBuilder::new().schema_type(Type::String).max_length(Some(max)).into(),
        FieldType::Choice(values) => ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into(),
        FieldType::Bool => typed(Type::Boolean),
        FieldType::Date => ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).into(),
        FieldType::UserId => uuid(),
        FieldType::Link { kind } => links_to(kind, uuid_builder()).into(),
        FieldType::Ids { kind } => ArrayBuilder::new().items(links_to(kind, uuid_builder())).into(),
        FieldType::Refs { kind } => ArrayBuilder::new().items(links_to(kind, ObjectBuilder::new().schema_type(Type::String))).into(),
        FieldType::Integer { min, max } => {
            ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(min as f64)).maximum(Some(max as f64)).into()
        }
        FieldType::Number => typed(Type::Number),
        FieldType::TextList { max_items, max } => ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).max_length(Some(max)))
            .max_items(Some(max_items))
            .into(),
        FieldType::ChoiceList(values) => {
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied()))).into()
        }
        FieldType::Items { fields, max_items } => {
            let mut item = ObjectBuilder::new();
            for field in fields {
                item = item.property(field.name, stored_field_schema(field));
                if field.required {
                    item = item.required(field.name);
                }
            }
            ArrayBuilder::new().items(item).max_items(Some(max_items)).into()
        }
    }
}

fn uuid() -> Schema {
    uuid_builder().into()
}

fn uuid_builder() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// The extension naming the kind a link field points at (`x-links-to: ai_system`), so a
/// client can tell which records a link accepts (the values are that kind's ids, or its
/// references for catalogue kinds).
pub const LINKS_TO: &str = "x-links-to";

fn links_to(kind: &str, schema: ObjectBuilder) -> ObjectBuilder {
    schema.extensions(Some(Extensions::from_iter([(LINKS_TO, kind)])))
}

fn timestamp() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).into()
}

/// A field as a stored record holds it: `null` when optional and unset.
fn stored_field_schema(field: &FieldSpec) -> Schema {
    let schema = field_schema(field.ty);
    if field.nullable() { nullable(schema) } else { schema }
}

/// A field as a request may give it: `null` (unset, or back to its default) unless required
/// (a create may still leave a required field with a default to it); a required text must
/// hold more than white space.
fn input_field_schema(field: &FieldSpec, for_create: bool) -> Schema {
    let has_default = !matches!(field.default, aims_domain::validate::Default::Null);
    match (field.required, field.ty) {
        (true, _) if for_create && has_default => nullable(field_schema(field.ty)),
        (true, FieldType::Text { max }) => not_blank(ObjectBuilder::new().schema_type(Type::String).max_length(Some(max))).into(),
        (true, _) => field_schema(field.ty),
        (false, _) => nullable(field_schema(field.ty)),
    }
}

/// A string with at least one character that is not white space.
fn not_blank(string: ObjectBuilder) -> ObjectBuilder {
    string.min_length(Some(1)).pattern(Some(r"\S"))
}

fn shape_schema(shape: Shape) -> Schema {
    let any_object = || ObjectBuilder::new().schema_type(Type::Object);
    match shape {
        Shape::Text => string(),
        Shape::Integer => typed(Type::Integer),
        Shape::Number => typed(Type::Number),
        Shape::Bool => typed(Type::Boolean),
        Shape::Timestamp => timestamp(),
        Shape::Date => ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).into(),
        Shape::UserId | Shape::RecordId => uuid(),
        Shape::UserIds => ArrayBuilder::new().items(RefOr::T(uuid())).into(),
        Shape::TextList => ArrayBuilder::new().items(RefOr::T(string())).into(),
        Shape::Object => any_object().into(),
        Shape::Objects => ArrayBuilder::new().items(any_object()).into(),
    }
}

/// The schema of a record of a kind as the API returns it.
pub fn record_schema(spec: &KindSpec, has_ref: bool) -> Schema {
    let mut object = ObjectBuilder::new()
        .description(Some(format!("{} record", spec.label)))
        .property("id", uuid())
        .property("version", typed(Type::Integer))
        .property("archived", typed(Type::Boolean))
        .property("created_at", timestamp())
        .property("updated_at", timestamp())
        // Catalogue rows and other records the system made have no author.
        .property("created_by", nullable(string()))
        .property("updated_by", nullable(string()))
        .required("id")
        .required("version")
        .required("archived");
    if spec.initial_state.is_some() {
        object = object.property("state", string()).required("state");
    }
    if has_ref {
        object = object.property("ref", string()).required("ref");
    }
    for field in spec.fields {
        object = object.property(field.name, stored_field_schema(field));
    }
    for field in spec.system_fields.iter().filter(|f| f.name != "ref") {
        object = object.property(field.name, nullable(shape_schema(field.shape)));
    }
    object.into()
}

/// An organisation's own reference as `aims_domain::kinds::catalogue::parse_own_control_ref`
/// takes it: 1–40 letters, digits, `.`, `-` or `_`, white space around it trimmed (`A.<digit>…`,
/// reserved for Annex A, is refused with 422 beyond what a pattern says).
const OWN_REF_PATTERN: &str = r"^\s*[A-Za-z0-9._-]{1,40}\s*$";

/// The schema of a create or patch body of a kind: its writable fields; nothing else is
/// accepted.
pub fn input_schema(spec: &KindSpec, with_ref: bool, for_create: bool) -> Schema {
    let mut object = ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
    if with_ref {
        object = object.property("ref", ObjectBuilder::new().schema_type(Type::String).pattern(Some(OWN_REF_PATTERN))).required("ref");
    }
    for field in spec.fields {
        object = object.property(field.name, input_field_schema(field, for_create));
        if for_create && field.required && matches!(field.default, aims_domain::validate::Default::Null) {
            object = object.required(field.name);
        }
    }
    object.into()
}

/// `{"items": [...], "next_cursor": "…" | null}` of a schema.
pub fn page_schema(item: RefOr<Schema>) -> Schema {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(item))
        .property(
            "next_cursor",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])),
        )
        .required("items")
        .required("next_cursor")
        .into()
}

/// `GET …/trace`: the record, the records linked to and from it grouped by kind (each with
/// the link field and its direction), the total per kind, and whether a group was cut short.
pub fn trace_schema(record: RefOr<Schema>) -> Schema {
    let link = ObjectBuilder::new()
        .property("field", string())
        .property("direction", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["outgoing", "incoming"])))
        .property("record", ObjectBuilder::new().schema_type(Type::Object))
        .required("field")
        .required("direction")
        .required("record");
    ObjectBuilder::new()
        .property("record", record)
        .property(
            "links",
            ObjectBuilder::new().additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(ArrayBuilder::new().items(link).into())))),
        )
        .property("counts", ObjectBuilder::new().additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(typed(Type::Integer))))))
        .property("truncated", typed(Type::Boolean))
        .required("record")
        .required("links")
        .required("counts")
        .required("truncated")
        .into()
}

/// `GET …/transitions`: every declared transition, with `refusal` null when the caller may
/// take it now (see `aims_app::transitions::TransitionChoice`).
pub fn transition_choices_schema() -> Schema {
    let field = ObjectBuilder::new()
        .property("name", string())
        .property("label", string())
        .property("required", typed(Type::Boolean))
        .required("name")
        .required("label")
        .required("required");
    let refusal = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property("rule", string())
        .property("part", nullable(string()))
        .property("detail", string())
        .required("rule")
        .required("part")
        .required("detail");
    let choice = ObjectBuilder::new()
        .property("name", string())
        .property("label", string())
        .property("summary", string())
        .property("to", nullable(string()))
        .property("fields", ArrayBuilder::new().items(field))
        .property("refusal", refusal)
        .required("name")
        .required("label")
        .required("summary")
        .required("to")
        .required("fields")
        .required("refusal");
    ObjectBuilder::new().property("items", ArrayBuilder::new().items(choice)).required("items").into()
}
