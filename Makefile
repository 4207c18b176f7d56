# allomedia — the commands a developer and CI use. `make help` lists them.
.PHONY: help run test test-mongo crash-safety two-instances lint fmt openapi bench bench-scale fuzz-api client rust-client browser account-pages deny fuzz proxy ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## serve on http://127.0.0.1:8080 with the embedded SQLite store and mails in the console
	cargo run -- serve

test: ## every test suite (unit, core, store contract, HTTP, end to end, spec drift)
	cargo test --all-targets --no-fail-fast
	cargo test --doc

test-mongo: ## only the MongoDB tests (store contract, two instances, journey, frozen and standalone database), against a SecantusDB server it starts unless MONGODB_TEST_URI names one
	@if [ -z "$$MONGODB_TEST_URI" ]; then \
	  eval "$$(scripts/mongo-test-server.sh start)"; trap 'scripts/mongo-test-server.sh stop' EXIT; \
	  cargo test --test store_contract mongo && \
	  cargo test --test process -- two_instances::mongo mongo_journey:: sick_database::; \
	else \
	  MONGODB_TEST_REQUIRED=1 cargo test --test store_contract mongo && \
	  MONGODB_TEST_REQUIRED=1 cargo test --test process -- two_instances::mongo mongo_journey:: && \
	  if [ -n "$$MONGODB_TEST_SERVER_BIN" ]; then MONGODB_TEST_REQUIRED=1 cargo test --test process sick_database::; \
	  else echo "sick_database:: not run: it starts a server of its own; set MONGODB_TEST_SERVER_BIN"; fi; \
	fi

crash-safety: ## SIGKILL the real server mid-stream; acknowledged writes survive, nothing half-written
	cargo test --test process crash_safety::

two-instances: ## two real processes on one store honour each other's logouts, throttles and codes
	cargo test --test process two_instances::

lint: ## formatting and clippy, as CI runs them
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

fmt: ## format the code
	cargo fmt --all

openapi: ## rewrite openapi/openapi.yaml from the code
	cargo run --quiet -- openapi > openapi/openapi.yaml

bench: ## issue 13's table for SQLite and MongoDB (SecantusDB) side by side, into docs/benchmarks.md (BENCH_BINARY, BENCH_STORES, FLOOD_SECONDS, SOAK_SECONDS)
	scripts/bench.sh

bench-scale: ## order listing and stats cost at 1k, 100k, 1M orders through the store port, into docs/benchmarks.md (SCALE_SIZES, SCALE_SIZES_MONGO)
	scripts/bench-scale.sh

fuzz-api: ## contract fuzzing: schemathesis against the running debug build, as anonymous, client and manager
	cargo build --quiet
	.ci/steps/40-schemathesis.sh

client: ## generate a Python client from openapi/openapi.yaml and walk register → order → logout with it
	cargo build --quiet
	.ci/steps/50-generated-client.sh

rust-client: ## generate a Rust client (progenitor) from openapi/openapi.yaml and walk register → order → logout → old token refused with it
	cargo build --quiet
	.ci/steps/55-rust-client.sh

proxy: ## behind nginx: two instances on one store share the per-address limit, spoofed headers ignored, real client logged
	cargo build --quiet
	.ci/steps/30-reverse-proxy.sh

browser: ## Swagger UI in headless chromium: every tag shown, "Try it out" on the product list answers 200
	cargo build --quiet
	.ci/steps/60-swagger-ui.sh

account-pages: ## the mailed links' pages in headless chromium: GET spends nothing, press verifies, reset refuses a weak password in place, fr and en
	cargo build --quiet
	.ci/steps/65-account-pages.sh

deny: ## supply chain: cargo deny check (advisories, licenses, duplicate versions, sources)
	scripts/check-unreachable-advisories.sh
	PATH="$$(scripts/rust-tools.sh):$$PATH" cargo deny --locked check

fuzz: ## every fuzz target of fuzz/ for FUZZ_SECONDS each (default 30; nightly, cargo-fuzz)
	PATH="$$(scripts/rust-tools.sh):$$PATH" scripts/fuzz.sh

ci: ## what .ci/run runs
	.ci/run
