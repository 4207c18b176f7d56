"""Black-box test support: the real `allomedia` binary on a free loopback port, with a temporary
SQLite file and mails printed to its JSON log, and real accounts signed in through the API.

Used by every black-box proof (contract fuzzing, the generated client, the browser):

    python3 tests/blackbox/server.py [--binary PATH] [--env NAME=VALUE ...] -- COMMAND ...

starts the server, makes a manager (the CLI `create-manager`, then the API's login with the
mailed code) and a client (register, the mailed verification link, login, the mailed code),
runs COMMAND with these in its environment, stops the server and exits with COMMAND's status:

    ALLOMEDIA_URL       http://127.0.0.1:PORT
    ALLOMEDIA_LOG       the server's log file (one JSON event per line)
    ALLOMEDIA_DATABASE_URL, ALLOMEDIA_BINARY, ALLOMEDIA_PASSWORD  (for making more accounts)
    CLIENT_EMAIL, CLIENT_TOKEN, MANAGER_EMAIL, MANAGER_TOKEN       (access tokens, 15 min)

Python modules import `Server` and `Mailbox` instead. Only the standard library is used, so
this runs before any test dependency is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ROOT / "target" / "debug" / "allomedia"
START_DEADLINE_S = 30.0
MAIL_DEADLINE_S = 10.0
STOP_DEADLINE_S = 15.0

# The mailed link: the account page, or the API's GET when the link is the API's (older mails).
VERIFY_LINK = re.compile(
    r"https?://\S+/(?:account|api/v1/auth)/verify-email\?token=([A-Za-z0-9_-]+)"
)
# The sign-in mail has the code alone on its line.
LOGIN_CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


class BlackboxError(RuntimeError):
    """A step of the black-box set-up answered something else than it must."""


def free_port() -> int:
    # Bound and released at once: the server binds it a moment later. Another process could
    # take it in between; `Server.start` then tries another port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
    """One HTTP request with a JSON body; never raises for an HTTP status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Answer(status, headers, parsed)


def expect(answer: Answer, status: int, what: str) -> Any:
    if answer.status != status:
        raise BlackboxError(f"{what}: expected {status}, got {answer.status}: {answer.body}")
    return answer.body


class Mailbox:
    """The mails the console transport wrote to the server's JSON log."""

    def __init__(self, log_file: Path):
        self.log_file = log_file

    def events(self) -> list[dict[str, Any]]:
        events = []
        with open(self.log_file, encoding="utf-8", errors="replace") as log:
            for line in log:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue  # a line that is not an event (a panic message, say)
        return events

    def mails_to(self, email: str) -> list[str]:
        marker = f"<{email.lower()}>"
        return [
            event["message"]
            for event in self.events()
            if "mail_kind" in event and marker in event.get("message", "").split("\n", 1)[0].lower()
        ]

    def wait_for(self, email: str, pattern: re.Pattern[str], after: int = 0) -> str:
        """The first match of `pattern` in a mail to `email` beyond the first `after` mails
        (mails are queued and sent by a worker, so a mail may land a moment after the answer)."""
        deadline = time.monotonic() + MAIL_DEADLINE_S
        while True:
            for mail in self.mails_to(email)[after:]:
                found = pattern.search(mail)
                if found:
                    return found.group(1)
            if time.monotonic() > deadline:
                raise BlackboxError(f"no mail to {email} matching {pattern.pattern!r}")
            time.sleep(0.05)


class Server:
    """The real binary, serving on a free port with its own temporary SQLite file."""

    def __init__(self, binary: Path = DEFAULT_BINARY, extra_env: dict[str, str] | None = None):
        self.binary = Path(binary)
        self.extra_env = extra_env or {}
        self.workdir = Path(tempfile.mkdtemp(prefix="allomedia-blackbox-"))
        self.database_url = f"sqlite://{self.workdir / 'allomedia.db'}"
        self.log_file = self.workdir / "server.log"
        self.mailbox = Mailbox(self.log_file)
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""
        # One strong password for every account made here; never one of the spec's examples,
        # so a fuzzer cannot stumble on it.
        self.password = "bb-" + secrets.token_urlsafe(18)

    def env(self, port: int | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "MAIL_URL": "console://",
                "APP_ENV": "dev",
                "JWT_SECRET": "blackbox-secret-" + "x" * 32,
                "LOG_FORMAT": "json",
                "RUST_LOG": "info",
            }
        )
        if port is not None:
            env["HTTP_ADDR"] = f"127.0.0.1:{port}"
            env["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        env.update(self.extra_env)
        return env

    def start(self) -> "Server":
        if not self.binary.is_file():
            raise BlackboxError(f"{self.binary} is missing: run `cargo build` first")
        for _attempt in range(3):
            port = free_port()
            log = open(self.log_file, "ab")
            self.process = subprocess.Popen(
                [str(self.binary), "serve"], env=self.env(port), stdout=log, stderr=log,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            self.base = f"http://127.0.0.1:{port}"
            if self._wait_ready():
                return self
            self.stop()
        raise BlackboxError(f"the server did not start; its log:\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if call(self.base, "GET", "/health/ready").status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def faults(self) -> list[str]:
        """Error events of the server's log: a fault the fuzzer provoked is logged here."""
        return [json.dumps(event) for event in self.mailbox.events() if event.get("level") == "ERROR"]

    # --- accounts, through the real API ---------------------------------------------------

    def create_manager(self, name: str, email: str) -> None:
        done = subprocess.run(
            [str(self.binary), "create-manager", "--name", name, "--email", email,
             "--password-stdin"],
            input=(self.password + "\n").encode(), env=self.env(), capture_output=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise BlackboxError(f"create-manager failed: {done.stderr.decode(errors='replace')}")

    def register_client(self, name: str, email: str) -> None:
        """Registers and opens the mailed verification link, as a person would."""
        sent = len(self.mailbox.mails_to(email))
        expect(
            call(self.base, "POST", "/api/v1/auth/register",
                 {"name": name, "email": email, "password": self.password}),
            202, "register",
        )
        token = self.mailbox.wait_for(email, VERIFY_LINK, after=sent)
        expect(call(self.base, "GET", f"/api/v1/auth/verify-email?token={token}"), 200,
               "open the verification link")

    def sign_in(self, email: str) -> dict[str, Any]:
        """Password, then the mailed 6-digit code; the session's tokens."""
        sent = len(self.mailbox.mails_to(email))
        challenge = expect(
            call(self.base, "POST", "/api/v1/auth/login",
                 {"email": email, "password": self.password}),
            202, "login",
        )
        code = self.mailbox.wait_for(email, LOGIN_CODE, after=sent)
        return expect(
            call(self.base, "POST", "/api/v1/auth/2fa/verify",
                 {"challenge_id": challenge["challenge_id"], "code": code}),
            200, "second factor",
        )

    def token_works(self, token: str) -> bool:
        return call(self.base, "GET", "/api/v1/me", token=token).status == 200


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(DEFAULT_BINARY))
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra server environment, e.g. AUTH_RATE_LIMIT_PER_MINUTE=100000")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required after --")
    extra_env = dict(item.split("=", 1) for item in args.env)

    server = Server(Path(args.binary), extra_env)
    # SIGTERM (CI stopping the step) must still stop the server: turn it into an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        server.start()
        manager, client = "manager@blackbox.test", "client@blackbox.test"
        server.create_manager("Blackbox Manager", manager)
        server.register_client("Blackbox Client", client)
        env = dict(os.environ)
        env.update(
            {
                "ALLOMEDIA_URL": server.base,
                "ALLOMEDIA_LOG": str(server.log_file),
                "ALLOMEDIA_DATABASE_URL": server.database_url,
                "ALLOMEDIA_BINARY": str(server.binary),
                "ALLOMEDIA_PASSWORD": server.password,
                "MANAGER_EMAIL": manager,
                "MANAGER_TOKEN": server.sign_in(manager)["access_token"],
                "CLIENT_EMAIL": client,
                "CLIENT_TOKEN": server.sign_in(client)["access_token"],
            }
        )
        print(f"server.py: allomedia on {server.base}, log {server.log_file}", flush=True)
        status = subprocess.call(command, env=env)
        if status != 0:
            print(f"server.py: `{' '.join(command)}` exited {status}; last server log lines:\n"
                  f"{server.log_tail()}", file=sys.stderr)
        return status
    except BlackboxError as error:
        print(f"server.py: {error}\nlast server log lines:\n{server.log_tail()}", file=sys.stderr)
        return 1
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
