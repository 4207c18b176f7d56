#!/usr/bin/env python3
"""`make bench` helper: the accounts and catalogue the mixed soak needs, made over the API.

Signs in the manager (made beforehand with `allomedia create-manager`), has them create one
available product, registers a client, confirms its address with the token of the mailed
link, signs it in with the mailed code, and prints shell lines for `eval`:
    CLIENT_TOKEN=…  PRODUCT_ID=…
Mails are read from the server's log (`MAIL_URL=console://`, `LOG_FORMAT=json`): each is one
JSON line whose message names the recipient and carries the code or link on a line of its own.
Any unexpected answer ends it with a message and a non-zero exit.

usage: accounts.py BASE_URL SERVER_LOG MANAGER_EMAIL PASSWORD CLIENT_EMAIL
"""

import http.client
import json
import re
import sys
import time
import urllib.parse

MAIL_TIMEOUT_S = 60


class Failure(Exception):
    pass


def call(base, method, path, body=None, token=None, expect=(200,)):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    if response.status not in expect:
        raise Failure(f"{method} {path} answered {response.status}: {text[:300]}")
    return json.loads(text) if text else None


def log_size(log):
    with open(log, "rb") as f:
        return f.seek(0, 2)


def wait_mail(log, offset, email, pattern):
    """The first group of `pattern` in the first mail to `email` logged after `offset`."""
    deadline = time.monotonic() + MAIL_TIMEOUT_S
    needle = f"<{email.lower()}>"
    while time.monotonic() < deadline:
        with open(log, "rb") as f:
            f.seek(offset)
            for raw in f.read().decode(errors="replace").splitlines():
                try:
                    entry = json.loads(raw)
                    # The JSON log flattens the event's fields; `fields` in tracing's default.
                    message = entry.get("message") or entry.get("fields", {}).get("message", "")
                except (json.JSONDecodeError, AttributeError):
                    continue
                if message.startswith("mail to ") and needle in message.lower():
                    found = re.search(pattern, message)
                    if found:
                        return found.group(1)
        time.sleep(0.1)
    raise Failure(f"no mail to {email} matching {pattern!r} in {log} within {MAIL_TIMEOUT_S} s")


def sign_in(base, log, email, password):
    offset = log_size(log)
    challenge = call(base, "POST", "/api/v1/auth/login",
                     {"email": email, "password": password}, expect=(202,))
    code = wait_mail(log, offset, email, r"\n(\d{6})\n")
    tokens = call(base, "POST", "/api/v1/auth/2fa/verify",
                  {"challenge_id": challenge["challenge_id"], "code": code})
    return tokens["access_token"]


def register(base, log, name, email, password):
    offset = log_size(log)
    call(base, "POST", "/api/v1/auth/register",
         {"name": name, "email": email, "password": password}, expect=(202,))
    token = wait_mail(log, offset, email, r"verify-email\?token=([^&\s]+)")
    call(base, "POST", "/api/v1/auth/verify-email",
         {"token": urllib.parse.unquote_plus(token)}, expect=(204,))


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    base, log, manager, password, client = sys.argv[1:]
    try:
        manager_token = sign_in(base, log, manager, password)
        product = call(base, "POST", "/api/v1/products",
                       {"name": "Tajine de bench", "price_cents": 4500, "available": True},
                       token=manager_token, expect=(201,))
        register(base, log, "Bench Client", client, password)
        client_token = sign_in(base, log, client, password)
    except (Failure, OSError, KeyError, ValueError) as error:
        print(f"accounts.py: {error}", file=sys.stderr)
        return 1
    print(f"CLIENT_TOKEN={client_token}")
    print(f"PRODUCT_ID={product['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
