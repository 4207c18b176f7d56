"""Black-box proof: two instances of the real binary on one SQLite file, behind a real nginx,
with TRUSTED_PROXIES naming nginx (127.0.0.1). Clients on their own loopback addresses
(127.0.0.2, 127.0.0.3, …; Linux routes all of 127.0.0.0/8 to the loopback interface):

- one client gets exactly AUTH_RATE_LIMIT_PER_MINUTE admitted on /api/v1/auth/* across the two
  instances together (nginx alternates between them), then 429 with Retry-After;
- another client, through the same nginx, has its own budget;
- X-Forwarded-For / Forwarded sent directly to an instance (an untrusted peer) are ignored,
  and so are those a client sends through nginx (nginx appends the real address);
- both instances' request logs and the audit log record the real client address.

    python3 tests/blackbox/reverse_proxy.py [--binary target/debug/allomedia] [--nginx nginx]

Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import DEFAULT_BINARY, BlackboxError, Server, free_port  # noqa: E402

LIMIT = 5
RESEND = "/api/v1/auth/verify-email/resend"
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream allomedia {{
        server 127.0.0.1:{port_a};
        server 127.0.0.1:{port_b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://allomedia;
            proxy_set_header Host $host;
            # Appends the address nginx received the request from to what the client sent.
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def post(port: int, path: str, body: dict, source: str, headers: dict[str, str] | None = None):
    """POST from the loopback address `source`; (status, headers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(source, 0))
    try:
        connection.request("POST", path, body=json.dumps(body),
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def resend(port: int, source: str, headers: dict[str, str] | None = None):
    return post(port, RESEND, {"email": "nobody@proxy.test"}, source, headers)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise BlackboxError(what)
    print(f"ok: {what}", flush=True)


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BlackboxError(f"nginx exited: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BlackboxError("nginx did not listen")


def request_clients(server: Server) -> list[str]:
    """The client address of every request the server's JSON log completed."""
    clients = []
    for event in server.mailbox.events():
        if event.get("message") == "request completed":
            clients.append(event.get("span", {}).get("client"))
    return clients


def audit_addresses(database: Path, kind: str) -> list[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT client_ip FROM audit_events WHERE kind = ?", (kind,))
        return [row[0] for row in rows]


def wait_for_a_fresh_minute() -> None:
    """The limit counts per clock minute: start a phase with time to spare in the minute, so
    that no window boundary falls inside it (scheduling, not a timed assertion)."""
    second = time.time() % 60
    if second > 45:
        time.sleep(60.5 - second)


def prove(binary: Path, nginx: str) -> None:
    env = {"TRUSTED_PROXIES": "127.0.0.1", "AUTH_RATE_LIMIT_PER_MINUTE": str(LIMIT)}
    first = Server(binary, env)
    second = Server(binary, env)
    second.database_url = first.database_url  # one store for both
    work = Path(tempfile.mkdtemp(prefix="allomedia-proxy-"))
    nginx_process = None
    try:
        first.start()
        second.start()
        port_a, port_b = (int(s.base.rsplit(":", 1)[1]) for s in (first, second))
        port = free_port()
        (work / "nginx.conf").write_text(
            NGINX_CONF.format(work=work, port=port, port_a=port_a, port_b=port_b))
        nginx_process = subprocess.Popen(
            [nginx, "-p", str(work), "-c", str(work / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=open(work / "nginx-stderr.log", "wb"),
            stdin=subprocess.DEVNULL)
        wait_for_port(port, nginx_process, work / "nginx-stderr.log")

        wait_for_a_fresh_minute()
        answers = [resend(port, "127.0.0.2") for _ in range(LIMIT + 3)]
        statuses = [status for status, _ in answers]
        check(statuses == [202] * LIMIT + [429] * 3,
              f"127.0.0.2 through nginx, two instances: {LIMIT} admitted in total, then 429 "
              f"(got {statuses})")
        retry_after = int(answers[-1][1].get("retry-after", "0"))
        check(1 <= retry_after <= 60, f"the 429 says Retry-After: {retry_after} (1..60)")
        served = [request_clients(s).count("127.0.0.2") for s in (first, second)]
        check(min(served) >= 1 and sum(served) == LIMIT + 3,
              f"both instances served 127.0.0.2 and logged it by its own address ({served})")

        status, _ = resend(port, "127.0.0.3")
        check(status == 202, "127.0.0.3 through the same nginx has its own budget")

        status, _ = resend(port_a, "127.0.0.4", {"X-Forwarded-For": "127.0.0.2"})
        check(status == 202, "X-Forwarded-For sent directly to an instance is ignored "
                             "(not counted as the exhausted 127.0.0.2)")
        status, _ = resend(port_b, "127.0.0.4", {"Forwarded": "for=127.0.0.2"})
        check(status == 202, "Forwarded sent directly to an instance is ignored")
        status, _ = resend(port, "127.0.0.5",
                           {"X-Forwarded-For": "127.0.0.2", "Forwarded": "for=127.0.0.2"})
        check(status == 202, "headers a client sends through nginx do not make it 127.0.0.2")
        logged = request_clients(first) + request_clients(second)
        check(logged.count("127.0.0.4") == 2 and logged.count("127.0.0.5") == 1,
              "the logs name the spoofing clients by their real addresses")

        post(port, "/api/v1/auth/login",
             {"email": "nobody@proxy.test", "password": "not-the-password-1"}, "127.0.0.6")
        post(port_a, "/api/v1/auth/login",
             {"email": "nobody@proxy.test", "password": "not-the-password-2"}, "127.0.0.7",
             {"X-Forwarded-For": "127.0.0.66"})
        database = Path(first.database_url.removeprefix("sqlite://"))
        addresses = sorted(audit_addresses(database, "login_failed"))
        check(addresses == ["127.0.0.6", "127.0.0.7"],
              f"the audit log records the real client addresses ({addresses})")
    finally:
        if nginx_process is not None and nginx_process.poll() is None:
            nginx_process.send_signal(signal.SIGQUIT)
            try:
                nginx_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx_process.kill()
        second.stop()
        first.cleanup()
        shutil.rmtree(second.workdir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(DEFAULT_BINARY))
    parser.add_argument("--nginx", default="nginx")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        prove(Path(args.binary), args.nginx)
    except BlackboxError as error:
        print(f"reverse_proxy.py: FAILED: {error}", file=sys.stderr)
        return 1
    print("reverse proxy: every check passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
