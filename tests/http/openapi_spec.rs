//! The committed spec is what the code generates: users generate clients from
//! `openapi/openapi.yaml`, so it must never drift. `make openapi` rewrites it.

use allomedia::adapters::http::openapi_yaml;

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
