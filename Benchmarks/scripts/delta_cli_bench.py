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
VECTORS = ROOT / "Tests/StrataDeltaTests/Vectors/fossil"


def elapsed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def row(name: str, size: int, strata: list[str], fossil: list[str], runs: int) -> None:
    """One line: medians, their ratio, and target megabytes per second of each whole process."""
    elapsed(strata), elapsed(fossil)  # warm the page cache
    times_s, times_f = [], []
    for _ in range(runs):
        times_s.append(elapsed(strata))
        times_f.append(elapsed(fossil))
    s, f = statistics.median(times_s), statistics.median(times_f)
    print(f"{name:<24} {s * 1000:9.2f} ms {f * 1000:9.2f} ms {f / s:7.2f} {size / s / 1e6:9.1f} {size / f / 1e6:9.1f}", flush=True)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory(prefix="strata-delta-bench.") as tmp:
        d = Path(tmp)
        subprocess.run([sys.executable, str(ROOT / "Benchmarks/scripts/delta_inputs.py"), str(d)], check=True)
        (d / "one.source").write_bytes(b"a")
        (d / "one.target").write_bytes(b"b")
        for suffix in ("source", "target"):
            (d / f"vector-1mib.{suffix}").write_bytes((VECTORS / f"text_1mib_scattered_edits.{suffix}").read_bytes())
        print(f"{'input':<24} {'strata':>12} {'fossil':>12} {'ratio':>7} {'MB/s S':>9} {'MB/s F':>9}"
              f"   (medians of {runs} alternating runs; ratio = fossil time / strata time)")
        names = ("one", "words-1kib", "words-64kib", "vector-1mib", "words-1mib", "words-8mib")
        for name in names:
            src, tgt = d / f"{name}.source", d / f"{name}.target"
            row(f"create {name}", tgt.stat().st_size,
                [STRATA, "delta", "create", str(src), str(tgt), "-o", str(d / "s.delta")],
                ["fossil", "test-delta-create", str(src), str(tgt), str(d / "f.delta")], runs)
        for name in names[1:]:
            src, tgt, delta = d / f"{name}.source", d / f"{name}.target", str(d / f"{name}.delta")
            subprocess.run(["fossil", "test-delta-create", str(src), str(tgt), delta], check=True)
            row(f"apply {name}", tgt.stat().st_size, [STRATA, "delta", "apply", str(src), delta, "-o", str(d / "s.out")],
                ["fossil", "test-delta-apply", str(src), delta, str(d / "f.out")], runs)
            if (d / "s.out").read_bytes() != tgt.read_bytes():
                sys.exit(f"strata delta apply did not give {name}.target back")

if __name__ == "__main__":
    main()
