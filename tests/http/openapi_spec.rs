//! The committed spec is what the code generates, and client generators take it: users generate
//! clients from `openapi/openapi.yaml`, so it must never drift. `make openapi` rewrites it.

use allomedia::adapters::http::{openapi_json, openapi_yaml};
use serde_json::{Value, json};

#[test]
fn the_committed_spec_is_byte_identical_to_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .expect("openapi/openapi.yaml is committed");
    assert!(
        committed == openapi_yaml(),
        "openapi/openapi.yaml is stale: run `make openapi` and commit the result"
    );
}

/// Client generators that want one success type per operation (progenitor) refuse an operation
/// whose success statuses publish different bodies: every operation publishes at most one.
#[test]
fn every_operation_publishes_at_most_one_success_schema() {
    let spec: Value = serde_json::from_str(&openapi_json()).unwrap();

    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let mut schemas: Vec<&Value> = operation["responses"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(status, _)| status.starts_with('2'))
                .filter_map(|(_, response)| response["content"].as_object())
                .flat_map(|media_types| media_types.values())
                .map(|media_type| &media_type["schema"])
                .collect();
            schemas.dedup();
            assert!(schemas.len() <= 1, "{method} {path}: {schemas:?}");
        }
    }
}

/// `/auth/login` answers 200 with tokens (a remembered device) or 202 with a challenge: one
/// `oneOf` of the two bodies, published for both statuses.
#[test]
fn the_login_publishes_one_of_tokens_or_a_challenge_for_200_and_202() {
    let spec: Value = serde_json::from_str(&openapi_json()).unwrap();
    let responses = &spec["paths"]["/api/v1/auth/login"]["post"]["responses"];

    for status in ["200", "202"] {
        assert_eq!(
            responses[status]["content"]["application/json; charset=utf-8"]["schema"],
            json!({"$ref": "#/components/schemas/LoginAnswerBody"}),
            "{status}"
        );
    }
    assert_eq!(
        spec["components"]["schemas"]["LoginAnswerBody"]["oneOf"],
        json!([
            {"$ref": "#/components/schemas/TokensBody"},
            {"$ref": "#/components/schemas/LoginChallengeBody"},
        ])
    );
}
