//! Adapters layer (HTTP): the OpenAPI document — poem-openapi's, plus what its derives cannot
//! say. Built from the API types alone, so it is the same wherever and however the service
//! runs. Built at start-up (serving, `allomedia openapi`), where a failure is a bug that should
//! stop the process.

use poem_openapi::{ExtraHeader, OpenApiService};
use serde_json::{Value, json};

use super::audit::AuditApi;
use super::auth::{AuthApi, PasswordApi};
use super::me::{DevicesApi, MeApi, SecondFactorApi, SessionsApi};
use super::operations::OperationsApi;
use super::orders::OrdersApi;
use super::products::ProductsApi;
use super::stats::StatsApi;
use super::users::UsersApi;
use crate::core::model::PageRequest;

/// Every API of the service, in the order of the document.
pub type Apis = (
    AuthApi,
    PasswordApi,
    MeApi,
    SecondFactorApi,
    SessionsApi,
    DevicesApi,
    UsersApi,
    AuditApi,
    ProductsApi,
    OrdersApi,
    StatsApi,
    OperationsApi,
);

pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            AuthApi,
            PasswordApi,
            MeApi,
            SecondFactorApi,
            SessionsApi,
            DevicesApi,
            UsersApi,
            AuditApi,
            ProductsApi,
            OrdersApi,
            StatsApi,
            OperationsApi,
        ),
        "allomedia",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Home-delivery backend. Errors are RFC 9457 problem documents \
         (`application/problem+json`) whose `code` is stable. Request bodies are limited to \
         64 KiB by default and refuse unknown fields. `/api/v1/auth/*` is rate-limited per \
         client address.",
    )
    .extra_response_header::<String, _>(
        ExtraHeader::new("X-Request-Id")
            .description("Identifies the request in our logs; quote it when asking for help."),
    )
}

/// The document as served at `/openapi.json`.
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&document()).expect("a JSON value always serialises")
}

/// The document as served at `/openapi.yaml` and committed as `openapi/openapi.yaml`.
pub fn openapi_yaml() -> String {
    serde_yaml::to_string(&document()).expect("a JSON value always serialises to YAML")
}

fn document() -> Value {
    completed(&api_service().spec())
}

/// The Swagger UI page of `/docs`, sending its requests to `server_url`. poem-openapi embeds
/// its own document in the page; it is swapped for the completed one, so that the page shows
/// what `/openapi.json` says (closed bodies, the range of `limit`).
pub fn docs_page(server_url: &str) -> String {
    let service = api_service().server(server_url);
    let generated = service.spec();
    let page = service.swagger_ui_html();
    let completed =
        serde_json::to_string(&completed(&generated)).expect("a JSON value always serialises");
    // poem-openapi writes the document into the page verbatim; if a later version does not,
    // its own document is still a correct, if less precise, page.
    page.replacen(&generated, &completed, 1)
}

/// poem-openapi's document with what its derives cannot say.
fn completed(generated: &str) -> Value {
    let mut document = serde_json::from_str(generated).expect("poem-openapi emits valid JSON");
    close_request_bodies(&mut document);
    plain_references(&mut document);
    bound_page_limits(&mut document);
    document
}

/// Every request body is an `Object` with `deny_unknown_fields`, and so is every object nested
/// in one (an order's items), but poem-openapi does not publish it; `additionalProperties:
/// false` tells clients and contract testers that an unknown field is refused. Contract
/// fuzzing found the nested ones open.
fn close_request_bodies(document: &mut Value) {
    let mut pending: Vec<String> = document
        .pointer("/paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|operations| operations.values())
        .filter_map(|operation| operation.pointer("/requestBody/content"))
        .filter_map(Value::as_object)
        .flat_map(|media_types| media_types.values())
        .filter_map(|media_type| media_type.pointer("/schema/$ref"))
        .filter_map(Value::as_str)
        .filter_map(|reference| reference.strip_prefix("#/components/schemas/"))
        .map(str::to_owned)
        .collect();
    let mut closed: Vec<String> = Vec::new();
    while let Some(name) = pending.pop() {
        if closed.contains(&name) {
            continue;
        }
        let pointer = format!("/components/schemas/{name}");
        let Some(schema) = document.pointer_mut(&pointer) else {
            continue;
        };
        let mut nested = Vec::new();
        collect_references(schema, &mut nested);
        if let Some(schema) = schema.as_object_mut()
            && schema.get("type").and_then(Value::as_str) == Some("object")
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
        pending.extend(nested);
        closed.push(name);
    }
}

/// The names of the component schemas `value` refers to.
fn collect_references(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
            {
                names.push(name.to_owned());
            }
            map.values()
                .for_each(|value| collect_references(value, names));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|value| collect_references(value, names)),
        _ => {}
    }
}

/// poem-openapi describes a field of an enum type as `allOf: [{$ref}, {description}]`, the
/// description repeated beside `allOf`. An `allOf` that mixes an enum with an object is
/// meaningless to client generators (openapi-python-client drops the whole schema — the
/// problem document among them). `allOf: [{$ref}]` alone says the same and keeps the
/// description.
fn plain_references(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(parts)) = map.get_mut("allOf") {
                let only_descriptions = parts.iter().skip(1).all(|part| {
                    part.as_object()
                        .is_some_and(|part| part.keys().all(|key| key == "description"))
                });
                if parts.len() > 1 && parts[0].get("$ref").is_some() && only_descriptions {
                    parts.truncate(1);
                }
            }
            map.values_mut().for_each(plain_references);
        }
        Value::Array(items) => items.iter_mut().for_each(plain_references),
        _ => {}
    }
}

/// Every list takes `limit` as 1 to `PageRequest::MAX_LIMIT` (the core answers 422 outside),
/// but the handlers read it loosely so that the core can judge it; the document says the
/// range, so that clients and contract testers know it.
fn bound_page_limits(document: &mut Value) {
    let Some(paths) = document
        .pointer_mut("/paths")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let parameters = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(|operation| operation.get_mut("parameters"))
        .filter_map(Value::as_array_mut)
        .flatten();
    for parameter in parameters {
        if parameter.get("in").and_then(Value::as_str) == Some("query")
            && parameter.get("name").and_then(Value::as_str) == Some("limit")
        {
            parameter["schema"] = json!({
                "type": "integer",
                "format": "int64",
                "minimum": 1,
                "maximum": PageRequest::MAX_LIMIT,
                "default": PageRequest::DEFAULT_LIMIT,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_page_shows_the_completed_document_not_poem_openapis_own() {
        let page = docs_page("http://127.0.0.1:9999");
        let completed = serde_json::to_string(&completed(
            &api_service().server("http://127.0.0.1:9999").spec(),
        ))
        .unwrap();
        assert!(page.contains(&completed));
        assert!(page.contains("\"additionalProperties\":false"));
    }

    #[test]
    fn nested_request_objects_are_closed_and_enum_fields_are_plain_references() {
        let document = document();
        let item = &document["components"]["schemas"]["OrderItem"];
        assert_eq!(item["additionalProperties"], Value::Bool(false));
        let code = &document["components"]["schemas"]["Problem"]["properties"]["code"];
        assert_eq!(
            code["allOf"],
            json!([{"$ref": "#/components/schemas/ProblemCode"}])
        );
    }
}
