//! The OpenAPI 3.1 description, assembled here from the routes' annotations and the types
//! they exchange (routes know nothing of it). Served at `GET /openapi.json`; `docs/openapi.json` is a committed copy that a test
//! keeps current (`image-api openapi > docs/openapi.json` rewrites it).

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{
    ContentBuilder, KnownFormat, ObjectBuilder, Ref, RefOr, ResponseBuilder, Schema, SchemaFormat,
    Type,
};
use utoipa::{Modify, OpenApi};

use crate::error::{PROBLEM_JSON, Problem, ProblemType};
use crate::pipeline::{MAX_HEADER_BYTES, MAX_URI_BYTES};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "image-api",
        description = "Upload, list, fetch and delete images. Bytes live in S3, records in DynamoDB. \
                       Every error is an RFC 9457 problem document (`application/problem+json`).",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::images::upload::upload,
        routes::images::list::list,
        routes::images::read::image,
        routes::images::read::content,
        routes::thumbnails::thumbnail,
        routes::images::delete::delete,
        routes::direct_uploads::create,
        routes::direct_uploads::complete,
        routes::direct_uploads::abort,
    ),
    components(schemas(Problem)),
    modifiers(&CommonResponses, &Revalidated, &ThumbnailSizes, &SignIn),
    tags(
        (name = "images", description = "Image records and their bytes"),
        (name = "uploads", description = "Direct uploads: the bytes go straight to S3 through presigned requests, for images of any size"),
    ),
)]
pub struct ApiDoc;

/// What every operation can answer, added once instead of on each handler: the request-wide
/// 4xx (bad input, oversized headers or URI), the 5xx of a failing dependency, and the
/// `x-request-id` header on every response.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut()
            && let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem")
        {
            let mut description = String::from(
                "Stable machine-readable code, never renamed:\n\n| status | code | when |\n|---|---|---|\n",
            );
            for kind in ProblemType::ALL {
                let row = format!(
                    "| {} | `{}` | {} |\n",
                    kind.status().as_u16(),
                    kind.code(),
                    kind.when()
                );
                description.push_str(&row);
            }
            let codes = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ProblemType::ALL.iter().map(|kind| kind.code())))
                .description(Some(description))
                .build();
            problem
                .properties
                .insert("code".into(), RefOr::T(Schema::Object(codes)));
        }
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let uri_too_long = format!("The URI is longer than {} KiB", MAX_URI_BYTES / 1024);
        let headers_too_large = format!("The headers exceed {} KiB", MAX_HEADER_BYTES / 1024);
        let common = [
            ("400", "Malformed request: the `code` says what was wrong"),
            (
                "401",
                "Sign-in is on and the request has no valid access token (`unauthorized`; `WWW-Authenticate: Bearer`)",
            ),
            ("414", uri_too_long.as_str()),
            ("431", headers_too_large.as_str()),
            ("500", "Unexpected server error"),
            (
                "503",
                "S3 or DynamoDB is unavailable, timing out or throttling; retry later",
            ),
        ];
        let allow = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "The methods this path accepts, e.g. `GET, HEAD, POST`",
            ))
            .build();
        let request_id = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "The request's id: the client's x-request-id if it sent one",
            ))
            .build();
        let binary = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .build()
        };
        {
            for operation in operations(openapi) {
                // Raw bytes are a binary string, not the array of integers utoipa makes of `[u8]`;
                // an uploaded one is not empty.
                for (media_type, content) in operation
                    .request_body
                    .iter_mut()
                    .flat_map(|body| body.content.iter_mut())
                {
                    if !media_type.contains("json") {
                        content.schema = Some(RefOr::T(Schema::Object(
                            ObjectBuilder::from(binary()).min_length(Some(1)).build(),
                        )));
                    }
                }
                let responses = operation
                    .responses
                    .responses
                    .values_mut()
                    .flat_map(|r| match r {
                        RefOr::T(response) => Some(response.content.iter_mut()),
                        RefOr::Ref(_) => None,
                    });
                for (media_type, content) in responses.flatten() {
                    if !media_type.contains("json") {
                        content.schema = Some(RefOr::T(Schema::Object(binary())));
                    }
                }
                // Every error body is a problem document: the routes name `Problem`, and its
                // media type is given here, once.
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response
                        && let Some(content) = response.content.get("application/json")
                        && matches!(&content.schema, Some(RefOr::Ref(schema))
                            if schema.ref_location == "#/components/schemas/Problem")
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response.content.insert(PROBLEM_JSON.into(), content);
                    }
                }
                for (status, description) in common {
                    operation
                        .responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| RefOr::T(problem(description)));
                }
                let mut not_allowed =
                    problem("This path does not accept the method; `Allow` lists the ones it does");
                not_allowed.headers.insert("Allow".into(), allow.clone());
                operation
                    .responses
                    .responses
                    .insert("405".into(), RefOr::T(not_allowed));
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response
                            .headers
                            .insert("x-request-id".into(), request_id.clone());
                    }
                }
            }
        }
    }
}

/// Every operation of the document.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.post, &mut item.delete]
            .into_iter()
            .flatten()
    })
}

/// The headers `routes::caching` puts on the 200 of every answer a client can revalidate (an
/// operation that answers 304), described once, from the values it sends.
struct Revalidated;

impl Modify for Revalidated {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build()
        };
        for operation in operations(openapi) {
            let responses = &mut operation.responses.responses;
            if !responses.contains_key("304") {
                continue;
            }
            if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                let headers = [
                    ("ETag", "Strong validator: the bytes under it never change"),
                    ("Cache-Control", routes::caching::CACHE_CONTROL),
                    (
                        "Vary",
                        "authorization (and accept, where `Accept` chose the format): a cache keeps apart what differs by caller or by `Accept`",
                    ),
                ];
                for (name, description) in headers {
                    ok.headers.insert(name.into(), header(description));
                }
            }
        }
    }
}

/// Sign-in, which a deployment may turn on (`AuthMode=COGNITO`): then every operation takes a
/// Cognito access token as a bearer token, and answers `401` without a valid one. Optional in
/// the document (`{}` is one of the requirements), as it is in the service.
struct SignIn;

impl Modify for SignIn {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement};
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "With sign-in on: a Cognito access token of the deployment's user pool and app client",
            ))
            .build();
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "cognito",
                utoipa::openapi::security::SecurityScheme::Http(bearer),
            );
        }
        openapi.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new("cognito", Vec::<String>::new()),
        ]);
    }
}

/// The thumbnail sizes offered, as an `enum` on the `size` parameter: utoipa's parameter
/// syntax has no way to list integer values.
struct ThumbnailSizes;

impl Modify for ThumbnailSizes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(get) = openapi
            .paths
            .paths
            .get_mut(routes::paths::IMAGE_THUMBNAIL)
            .and_then(|item| item.get.as_mut())
        else {
            return;
        };
        for parameter in get.parameters.iter_mut().flatten() {
            if parameter.name == "size" {
                parameter.schema = Some(RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some(imaging::thumbnail::SIZES))
                        .build(),
                )));
            }
        }
    }
}

/// The description of a service configured with this direct-upload limit
/// (`MAX_DIRECT_UPLOAD_BYTES`), which it states.
pub fn document(max_direct_upload_bytes: u64) -> String {
    let mut value =
        serde_json::to_value(ApiDoc::openapi()).expect("the API description serialises");
    fix_link_keys(&mut value);
    let size = &mut value["components"]["schemas"]["CreateUpload"]["properties"]["size"];
    size["maximum"] = max_direct_upload_bytes.into();
    serde_json::to_string_pretty(&value).expect("JSON serialises")
}

/// As committed in docs/openapi.json: the default configuration's.
pub fn default_document() -> String {
    document(crate::config::DEFAULT_MAX_DIRECT_UPLOAD_BYTES)
}

/// utoipa 5.5 writes a link's `operationId` as `operation_id`; OpenAPI only knows the former.
fn fix_link_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(links) = map.get_mut("links").and_then(|l| l.as_object_mut()) {
                for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                    if let Some(id) = link.remove("operation_id") {
                        link.insert("operationId".into(), id);
                    }
                }
            }
            map.values_mut().for_each(fix_link_keys);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(fix_link_keys),
        _ => {}
    }
}

/// `GET /openapi.json`: `document(max_direct_upload_bytes)`, written on the first request
/// (not at a cold start that does not need it).
pub fn router<S: Clone + Send + Sync + 'static>(max_direct_upload_bytes: u64) -> Router<S> {
    let written = Arc::new(OnceLock::<Bytes>::new());
    let serve = move || {
        let document = written
            .get_or_init(|| document(max_direct_upload_bytes).into())
            .clone();
        async move {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                document,
            )
                .into_response()
        }
    };
    Router::new().route(routes::paths::OPENAPI, get(serve))
}
