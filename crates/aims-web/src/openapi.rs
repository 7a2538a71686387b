//! The OpenAPI document, built from the same registrations that add routes to the router
//! ([`ApiBuilder::route`]), so no route can exist without its entry, and record schemas are
//! generated from the domain's field specs.

use aims_domain::validate::{FieldType, KindSpec};
use axum::Router;
use axum::routing::MethodRouter;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
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
    pub query: Vec<(&'static str, &'static str)>,
    pub body: Option<(&'static str, RefOr<Schema>)>,
    pub responses: Vec<(u16, &'static str, Option<(&'static str, RefOr<Schema>)>)>,
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
            body: None,
            responses: Vec::new(),
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
    pub fn query(mut self, name: &'static str, description: &'static str) -> Self {
        self.query.push((name, description));
        self
    }
    pub fn body(mut self, content_type: &'static str, schema: RefOr<Schema>) -> Self {
        self.body = Some((content_type, schema));
        self
    }
    pub fn ok(mut self, status: u16, description: &'static str, content: Option<(&'static str, RefOr<Schema>)>) -> Self {
        self.responses.push((status, description, content));
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
        for (name, description) in doc.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(description))
                    .schema(Some(string())),
            );
        }
        if let Some((content_type, schema)) = doc.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content(content_type, ContentBuilder::new().schema(Some(schema)).build())
                    .required(Some(Required::True))
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
        let problem = ResponseBuilder::new()
            .description("A problem (RFC 9457): 400, 401, 403, 404, 409, 412, 413, 415, 422 or 428 as fits")
            .content("application/problem+json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build();
        operation = operation.response("default", problem);
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
        FieldType::UserId | FieldType::Link { .. } => {
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))).into()
        }
        FieldType::Ids { .. } => ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
            .into(),
        FieldType::Refs { .. } => ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)).into(),
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
                item = item.property(field.name, field_schema(field.ty));
                if field.required {
                    item = item.required(field.name);
                }
            }
            ArrayBuilder::new().items(item).max_items(Some(max_items)).into()
        }
    }
}

/// The schema of a record of a kind as the API returns it.
pub fn record_schema(spec: &KindSpec, has_ref: bool) -> Schema {
    let mut object = ObjectBuilder::new()
        .description(Some(format!("{} record", spec.label)))
        .property("id", ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
        .property("version", typed(Type::Integer))
        .property("archived", typed(Type::Boolean))
        .property("created_at", string())
        .property("updated_at", string())
        .property("created_by", string())
        .property("updated_by", string())
        .required("id")
        .required("version");
    if has_ref {
        object = object.property("ref", string()).required("ref");
    }
    for field in spec.fields {
        object = object.property(field.name, field_schema(field.ty));
    }
    for name in spec.system_fields.iter().filter(|n| **n != "ref") {
        object = object.property(*name, string());
    }
    object.into()
}

/// The schema of a create or patch body of a kind: its writable fields.
pub fn input_schema(spec: &KindSpec, with_ref: bool, for_create: bool) -> Schema {
    let mut object = ObjectBuilder::new();
    if with_ref {
        object = object.property("ref", string()).required("ref");
    }
    for field in spec.fields {
        object = object.property(field.name, field_schema(field.ty));
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
