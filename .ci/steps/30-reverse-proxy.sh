#!/usr/bin/env bash
# Behind a real reverse proxy: nginx (Debian's package, installed if missing) in front of two
# instances of the debug binary on one SQLite file, TRUSTED_PROXIES naming nginx. Clients on
# different loopback addresses get separate budgets on /api/v1/auth/*, the two instances
# together admit the limit (not twice it), forwarding headers sent directly are ignored, and
# the logs and audit events name the real client (tests/blackbox/reverse_proxy.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
if ! command -v nginx >/dev/null 2>&1; then
  # The package's maintainer script would start a system nginx on port 80; this proof runs
  # its own. policy-rc.d (Debian's switch for that) is set only for the install, and only if
  # the machine has none of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
fi
time python3 tests/blackbox/reverse_proxy.py --binary target/debug/allomedia --nginx "$(command -v nginx)"
