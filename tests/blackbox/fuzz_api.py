"""Contract fuzzing (`make fuzz-api`): schemathesis against the spec the real server serves at
/openapi.json, with every check, as three callers — anonymous, a client and a manager.

A run fails when any answer is a 5xx, a status code the operation does not document, a body or
header that breaks its documented schema, a content type it does not declare, a 405 without
`Allow`, a refusal of valid data or an acceptance of invalid data, or when the server logs a
fault. The signed-in callers must still be signed in after their run.

Operations that end the caller's own session are fuzzed anonymously only, so the signed-in runs
keep a live token (the reasons are in docs/decisions.md, "Contract fuzzing").
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import BlackboxError, Server, call, expect  # noqa: E402

# logout, logout-all and DELETE /me end the caller's session or account by design. Ending a
# session by id can end the caller's own one: the stateful phase feeds ids from
# GET /me/sessions into it.
SESSION_ENDERS = ["logout", "logout_all", "delete_me", "end_my_session"]

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def schemathesis(venv_bin: Path) -> str:
    found = venv_bin.resolve() / "schemathesis"
    if found.is_file():
        return str(found)
    on_path = shutil.which("schemathesis")
    if on_path is None:
        raise BlackboxError("schemathesis is not installed (see tests/blackbox/requirements.txt)")
    return on_path


def run(args: argparse.Namespace) -> int:
    binary = Path(args.binary)
    # A generous per-address limit: the fuzzer sends thousands of /auth requests a minute from
    # one address; the limit itself is proved by `cargo test --test http throttling::`.
    server = Server(binary, {"AUTH_RATE_LIMIT_PER_MINUTE": "1000000"})
    with server:
        manager, client = "manager@fuzz.test", "client@fuzz.test"
        server.create_manager("Fuzz Manager", manager)
        server.register_client("Fuzz Client", client)
        tokens = {
            "client": server.sign_in(client)["access_token"],
            "manager": server.sign_in(manager)["access_token"],
        }
        # Something to read, edit and order for the fuzzer's product and order operations.
        seed_data(server, tokens)

        callers = [
            ("anonymous", None, []),
            ("client", tokens["client"], SESSION_ENDERS),
            ("manager", tokens["manager"], SESSION_ENDERS),
        ]
        failed = []
        report_dir = Path(args.report_dir).resolve()
        # A fresh folder each run: schemathesis replays the failures it cached, and a developer's
        # run must be the one CI makes.
        shutil.rmtree(report_dir, ignore_errors=True)
        report_dir.mkdir(parents=True)
        for name, token, excluded in callers:
            command = [
                schemathesis(Path(args.venv_bin)), "--config-file", str(CONFIG), "run",
                f"{server.base}/openapi.json",
                "--checks", "all",
                "--max-examples", str(args.max_examples),
                "--seed", str(args.seed),
                "--workers", str(args.workers),
                "--report", "junit",
                "--report-junit-path", str(report_dir / f"{name}.xml"),
            ]
            if token is not None:
                command += ["-H", f"Authorization: Bearer {token}"]
            for operation_id in excluded:
                command += ["--exclude-operation-id", operation_id]
            started = time.monotonic()
            print(f"\n=== fuzzing as {name}"
                  + (f" (anonymously only: {', '.join(excluded)})" if excluded else ""),
                  flush=True)
            # In the report folder: schemathesis keeps its cache (replayed failures) in its
            # working directory, which must not be the repository.
            status = subprocess.call(command, cwd=report_dir)
            print(f"=== {name}: exit {status} in {time.monotonic() - started:.0f} s", flush=True)
            if status != 0:
                failed.append(f"schemathesis as {name} exited {status}")
            if token is not None and not server.token_works(token):
                failed.append(f"the {name}'s session did not survive its run (GET /me is not 200)")

        faults = server.faults()
        if faults:
            failed.append("the server logged faults:\n  " + "\n  ".join(faults[:20]))
        if failed:
            print("\nfuzz-api FAILED:\n- " + "\n- ".join(failed), file=sys.stderr)
            return 1
        print("\nfuzz-api: every operation answered within its contract for all three callers")
        return 0


def seed_data(server: Server, tokens: dict[str, str]) -> None:
    product = expect(
        call(server.base, "POST", "/api/v1/products",
             {"name": "Couscous royal", "price_cents": 9500, "available": True},
             token=tokens["manager"]),
        201, "create a product",
    )
    expect(
        call(server.base, "POST", "/api/v1/orders",
             {"items": [{"product_id": product["id"], "quantity": 2}],
              "delivery_address": "12 rue Atlas, Casablanca"},
             token=tokens["client"]),
        201, "place an order",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--binary", default=str(root / "target" / "debug" / "allomedia"))
    parser.add_argument("--venv-bin", default=os.environ.get("BLACKBOX_VENV_BIN",
                        str(root / "target" / "blackbox" / "venv" / "bin")))
    parser.add_argument("--max-examples", type=int,
                        default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "6")))
    # One worker: with two, CPython 3.11.7 crashed inside schemathesis now and then
    # ("AST constructor recursion depth mismatch"), a fault of the interpreter, not of the API.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--report-dir", default=str(root / "target" / "blackbox" / "fuzz-report"))
    args = parser.parse_args()
    try:
        return run(args)
    except BlackboxError as error:
        print(f"fuzz-api: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
