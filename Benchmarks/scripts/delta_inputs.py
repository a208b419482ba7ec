#!/usr/bin/env python3
"""Writes the inputs of the delta benchmarks (delta_cli_bench.py, and the in-process ones in
Benchmarks/StrataBenchmarks/DeltaBenchmarks.swift) into DIR: words-SIZE.{source,target} for 1 KiB
(4 edits), 64 KiB (32), 1 MiB (256) and 8 MiB (2,048). Word salad from a small vocabulary repeats short strings everywhere, which gives the
encoder long hash collision chains: the hard case. Seeded, so every run writes the same bytes."""

import random
import sys
from pathlib import Path

VOCABULARY = ("the of and to in is that for it as was with be by on not he this are or his from at "
              "which but have an they you were her she there been one all we their has would when "
              "stream offset epoch channel history publication recovery delta fossil redis").split()


def words(rng: random.Random, size: int) -> bytearray:
    out = bytearray()
    while len(out) < size:
        out += rng.choice(VOCABULARY).encode() + (b"\n" if rng.random() < 0.08 else b" ")
    return out[:size]


def edit(rng: random.Random, data: bytearray, edits: int) -> bytearray:
    out = bytearray(data)
    for _ in range(edits):
        at = rng.randrange(len(out))
        kind = rng.random()
        if kind < 0.4:
            out[at:at + rng.randrange(1, 64)] = words(rng, rng.randrange(1, 64))
        elif kind < 0.7:
            out[at:at] = words(rng, rng.randrange(1, 200))
        else:
            del out[at:at + rng.randrange(1, 200)]
    return out


def main() -> None:
    target_dir = Path(sys.argv[1])
    target_dir.mkdir(parents=True, exist_ok=True)
    for name, size, edits in (("words-1kib", 1 << 10, 4), ("words-64kib", 64 << 10, 32), ("words-1mib", 1 << 20, 256),
                              ("words-8mib", 8 << 20, 2048)):
        rng = random.Random(name)
        source = words(rng, size)
        (target_dir / f"{name}.source").write_bytes(source)
        (target_dir / f"{name}.target").write_bytes(edit(rng, source, edits))


if __name__ == "__main__":
    main()
