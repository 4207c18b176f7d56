#!/usr/bin/env bash
# The advisories deny.toml ignores are ignored because this crate never reaches the vulnerable
# code. This check fails the day that stops being true, so the ignore cannot outlive its reason:
#   - RUSTSEC-2023-0071 (rsa, Marvin timing attack; no fixed version): jsonwebtoken's
#     `rust_crypto` backend links rsa, but access tokens are HS256 only (adapters/crypto/jwt.rs
#     pins the algorithm and builds its keys with `from_secret`). No RSA key is ever loaded and
#     no RSA algorithm named.
#   - RUSTSEC-2026-0194/0195 (quick-xml 0.36, quadratic attribute check and NsReader
#     allocation; fixed in 0.41, which poem 3.1 / poem-openapi 5.1 do not accept yet): poem
#     parses XML only for an `Xml` payload or extractor. Every request body here is JSON, and
#     the published document names no XML media type.
# Reads the sources and the committed OpenAPI document only.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
forbid() {
  local reason="$1" pattern="$2"
  shift 2
  local hits
  if hits=$(grep -rnE "$pattern" "$@" 2>/dev/null); then
    echo "unreachable-advisories: $reason" >&2
    echo "$hits" >&2
    failed=1
  fi
}

forbid "an RSA key or algorithm is used: RUSTSEC-2023-0071 (rsa) is no longer unreachable; drop its ignore in deny.toml and judge it" \
  'from_rsa_|RS256|RS384|RS512|PS256|PS384|PS512|rsa::|Rsa[A-Z]' src testkit/src
forbid "XML is parsed: RUSTSEC-2026-0194/0195 (quick-xml) are no longer unreachable; drop their ignore in deny.toml and judge them" \
  'payload::Xml|web::Xml|quick_xml|Xml<' src testkit/src
forbid "the OpenAPI document names an XML media type (see above)" \
  'application/xml|text/xml|\+xml' openapi/openapi.yaml

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "unreachable-advisories: no RSA key or algorithm, no XML payload: the ignored advisories stay unreachable"
