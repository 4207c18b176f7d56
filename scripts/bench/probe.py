#!/usr/bin/env python3
"""`make bench` helper: the latency a lone client sees while the server is busy.

One persistent HTTP/1.1 connection, one GET every INTERVAL (default 20 ms) for DURATION
seconds; prints `probe_requests=`, `probe_p50_ms=`, `probe_p99_ms=`, `probe_max_ms=`. Not a
load generator: the probe waits for each answer, then sleeps until its next slot, so it
measures what a cheap request waits while something else (a login flood) holds the cores.
Exits non-zero when a request fails or answers anything but 200.

usage: probe.py URL DURATION_SECONDS [INTERVAL_MS]
"""

import http.client
import sys
import time
import urllib.parse


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    url = urllib.parse.urlsplit(sys.argv[1])
    duration = float(sys.argv[2])
    interval = (float(sys.argv[3]) if len(sys.argv) == 4 else 20.0) / 1000
    path = url.path or "/"
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
    latencies = []
    started = time.monotonic()
    next_at = started
    while time.monotonic() - started < duration:
        sent = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - sent) * 1000)
        if response.status != 200:
            print(f"probe: {path} answered {response.status}", file=sys.stderr)
            return 1
        next_at += interval
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            # Late (a slow answer): keep the schedule from bursting to catch up.
            next_at = time.monotonic()
    connection.close()
    if not latencies:
        print("probe: no request completed", file=sys.stderr)
        return 1
    latencies.sort()

    def percentile(p: float) -> float:
        # Nearest rank: the smallest value with at least p % of the samples at or below it.
        rank = max(1, -(-len(latencies) * p // 100))
        return latencies[int(rank) - 1]

    print(f"probe_requests={len(latencies)}")
    print(f"probe_p50_ms={percentile(50):.2f}")
    print(f"probe_p99_ms={percentile(99):.2f}")
    print(f"probe_max_ms={latencies[-1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
