"""The mails of a running black-box server, for walks written in other languages (the Rust
client's, tests/blackbox/rust-client): the same `Mailbox` and patterns as server.py, so every
proof reads mails one way.

    python3 tests/blackbox/mailbox.py count EMAIL
    python3 tests/blackbox/mailbox.py verify-link EMAIL [--after N]
    python3 tests/blackbox/mailbox.py login-code EMAIL [--after N]

`count` prints how many mails went to EMAIL; the others wait for the first such mail beyond the
first N and print its token or code. The log is $ALLOMEDIA_LOG, which server.py exports to the
command it runs. Exits 1, saying why, when no such mail comes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import LOGIN_CODE, VERIFY_LINK, BlackboxError, Mailbox  # noqa: E402

PATTERNS = {"verify-link": VERIFY_LINK, "login-code": LOGIN_CODE}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["count", *PATTERNS])
    parser.add_argument("email")
    parser.add_argument("--after", type=int, default=0, help="skip the first N mails to EMAIL")
    args = parser.parse_args(argv)
    log = os.environ.get("ALLOMEDIA_LOG")
    if not log:
        parser.error("ALLOMEDIA_LOG is not set: run under `tests/blackbox/server.py -- COMMAND`")
    mailbox = Mailbox(Path(log))
    if args.what == "count":
        print(len(mailbox.mails_to(args.email)))
        return 0
    try:
        print(mailbox.wait_for(args.email, PATTERNS[args.what], after=args.after))
    except BlackboxError as error:
        print(f"mailbox.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
