#!/usr/bin/env python3
"""Whole processes: `strata delta create|apply` beside Debian's `fossil test-delta-create|apply` on
the same files. The two commands alternate, run by run (the machine is shared and its speed drifts;
alternating gives both the same drift), and each row reports the medians and their ratio
(fossil time / strata time: above 1 means Strata is faster).

Usage: Benchmarks/scripts/delta_cli_bench.py [RUNS]   (needs `make release` and the fossil package;
STRATA=path overrides the binary)."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRATA = os.environ.get("STRATA", str(ROOT / ".build/release/strata"))
VECTORS = ROOT.parent / "shared/spec/vectors/fossil"


def elapsed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def row(name: str, strata: list[str], fossil: list[str], runs: int) -> None:
    elapsed(strata), elapsed(fossil)  # warm the page cache
    times_s, times_f = [], []
    for _ in range(runs):
        times_s.append(elapsed(strata))
        times_f.append(elapsed(fossil))
    s, f = statistics.median(times_s) * 1000, statistics.median(times_f) * 1000
    print(f"{name:<24} {s:9.2f} ms {f:9.2f} ms {f / s:7.2f}", flush=True)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory(prefix="strata-delta-bench.") as tmp:
        d = Path(tmp)
        subprocess.run([sys.executable, str(ROOT / "Benchmarks/scripts/delta_inputs.py"), str(d)], check=True)
        (d / "one.source").write_bytes(b"a")
        (d / "one.target").write_bytes(b"b")
        for suffix in ("source", "target"):
            (d / f"vector-1mib.{suffix}").write_bytes((VECTORS / f"text_1mib_scattered_edits.{suffix}").read_bytes())
        print(f"{'input':<24} {'strata':>12} {'fossil':>12} {'ratio':>7}   (medians of {runs} alternating runs)")
        for name in ("one", "vector-1mib", "words-1mib", "words-8mib"):
            src, tgt = str(d / f"{name}.source"), str(d / f"{name}.target")
            row(f"create {name}", [STRATA, "delta", "create", src, tgt, "-o", str(d / "s.delta")],
                ["fossil", "test-delta-create", src, tgt, str(d / "f.delta")], runs)
        src, tgt, delta = str(d / "words-8mib.source"), d / "words-8mib.target", str(d / "f.delta")
        subprocess.run(["fossil", "test-delta-create", src, str(tgt), delta], check=True)
        row("apply words-8mib", [STRATA, "delta", "apply", src, delta, "-o", str(d / "s.out")],
            ["fossil", "test-delta-apply", src, delta, str(d / "f.out")], runs)
        if (d / "s.out").read_bytes() != tgt.read_bytes():
            sys.exit("strata delta apply did not give the target back")


if __name__ == "__main__":
    main()
