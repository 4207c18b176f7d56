//! Generates the client from the committed openapi/openapi.yaml with progenitor, into OUT_DIR
//! (never committed): the client is always the one the published spec makes.

use std::path::Path;

const SPEC: &str = "../../../openapi/openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    let text = std::fs::read_to_string(SPEC).expect("openapi/openapi.yaml is committed");
    let spec: openapiv3::OpenAPI =
        serde_yaml::from_str(&text).expect("openapi/openapi.yaml is an OpenAPI 3.0 document");
    // progenitor refuses an operation it cannot express (two success bodies, say): the spec
    // is at fault, and the build says where.
    let tokens = progenitor::Generator::default()
        .generate_tokens(&spec)
        .unwrap_or_else(|error| panic!("progenitor refuses openapi/openapi.yaml: {error}"));
    let file: syn::File = syn::parse2(tokens).expect("progenitor generates Rust");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("client.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("OUT_DIR is writable");
}
