#!/usr/bin/env python3
"""`make bench` / `make bench-scale` helper: puts one section of the report in place.

Reads the section's text on stdin and writes it into FILE between
`<!-- SECTION:begin -->` and `<!-- SECTION:end -->`, replacing what was there, so that
`make bench` and `make bench-scale` each rewrite their own part of `docs/benchmarks.md` and
keep the other's. Without those markers the section is added at the end; a missing FILE is
created with a title.

usage: splice.py FILE SECTION < text
"""

import os
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, section = sys.argv[1:]
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    block = f"{begin}\n{sys.stdin.read().strip()}\n{end}"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
