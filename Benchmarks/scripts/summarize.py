#!/usr/bin/env python3
"""Tables of the load generator's JSON lines (Benchmarks/loadgen): one per test, one row per
target, each figure the median over the runs with [min..max].

    python3 Benchmarks/scripts/summarize.py results.jsonl [more.jsonl …]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

COLUMNS = {
    "fanout": [("deliveries_per_s", "deliveries/s", 0), ("server_cpu_us_per_delivery", "CPU µs/delivery", 2),
               ("frames_per_delivery", "frames/delivery", 2), ("lat_p50_ms", "p50 ms", 1), ("lat_p99_ms", "p99 ms", 1),
               ("rss_connected_kb", "RSS KB", 0), ("missing", "missing", 0), ("duplicates", "dups", 0)],
    "recovery-storm": [("all_recovered_s", "all recovered s", 3), ("client_p50_ms", "client p50 ms", 0),
                       ("client_p99_ms", "client p99 ms", 0), ("server_cpu_s", "server CPU s", 2),
                       ("missing", "missing", 0), ("duplicates", "dups", 0), ("not_recovered", "not recovered", 0)],
    "idle-conns": [("rss_per_conn_kb", "RSS KB/conn", 1), ("rss_before_kb", "RSS before KB", 0),
                   ("rss_connected_kb", "RSS with conns KB", 0), ("rss_after_close_kb", "RSS after close KB", 0),
                   ("socket_mem_kb", "socket mem KB", 0), ("connects_per_s", "connects/s", 0), ("connect_errors", "errors", 0)],
}
COLUMNS["fanout-max"] = COLUMNS["fanout"]
COLUMNS["publish"] = [("achieved_pub_rate", "publishes/s", 0), ("server_cpu_s", "server CPU s", 2)] + COLUMNS["fanout"][3:5]


def fmt(values: list[float], digits: int) -> str:
    med = statistics.median(values)
    text = f"{med:,.{digits}f}"
    if len(values) > 1:
        text += f" [{min(values):,.{digits}f}..{max(values):,.{digits}f}]"
    return text


def main() -> None:
    rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for path in sys.argv[1:]:
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                rows[r["test"]][r["target"]].append(r)
    for test, targets in rows.items():
        cols = COLUMNS.get(test, [])
        print(f"### {test}\n")
        print("| target | runs | " + " | ".join(c[1] for c in cols) + " |")
        print("|---|---|" + "---|" * len(cols))
        for target, runs in targets.items():
            cells = []
            for key, _, digits in cols:
                values = [float(r[key]) for r in runs if key in r]
                cells.append(fmt(values, digits) if values else "")
            print(f"| {target} | {len(runs)} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
