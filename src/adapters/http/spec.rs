//! Adapters layer (HTTP): the OpenAPI document — poem-openapi's, plus what its derives cannot
//! say. Built from the API types alone, so it is the same wherever and however the service
//! runs. Built at start-up (serving, `allomedia openapi`), where a failure is a bug that should
//! stop the process.

use poem_openapi::{ExtraHeader, OpenApiService};
use serde_json::Value;

use super::audit_api::AuditApi;
use super::auth_api::AuthApi;
use super::devices_api::DevicesApi;
use super::me_api::MeApi;
use super::operations_api::OperationsApi;
use super::orders_api::OrdersApi;
use super::password_api::PasswordApi;
use super::products_api::ProductsApi;
use super::second_factor_api::SecondFactorApi;
use super::sessions_api::SessionsApi;
use super::stats_api::StatsApi;
use super::users_api::UsersApi;

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
    let generated = api_service().spec();
    let mut document = serde_json::from_str(&generated).expect("poem-openapi emits valid JSON");
    close_request_bodies(&mut document);
    document
}

/// Every request body is an `Object` with `deny_unknown_fields`, but poem-openapi does not
/// publish it; `additionalProperties: false` tells clients and contract testers that an
/// unknown field is refused.
fn close_request_bodies(document: &mut Value) {
    let body_schemas: Vec<String> = document
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
    for name in body_schemas {
        let schema = document
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut);
        if let Some(schema) = schema {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}
