#!/usr/bin/env python3
"""Checks that Package.swift declares exactly the modules each target imports.

For every target (Sources/<name>, Tests/<name>, or its `path:`), reads the `import` lines of its
Swift files and compares them with the target's declared dependencies (targets and products):
an import that is not declared builds only by accident (another target brought the module in),
and a declared dependency that nothing imports is weight every build carries. System modules
(Foundation, Glibc, Testing, …) and the C shims' transitive headers are not counted.

    scripts/check-modules.py            # exit 1 and a list when they differ
    scripts/check-modules.py --graph    # print the Strata module graph (target → Strata targets)

`make test` runs it before building.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "Musl", "Testing", "XCTest", "Dispatch",
          "Synchronization", "_Concurrency", "os", "PackageDescription"}


def blocks(text: str):
    """Yields (kind, body) for each .target/.testTarget/.executableTarget/.systemLibrary call."""
    for m in re.finditer(r"\.(target|testTarget|executableTarget|systemLibrary)\(", text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        yield m.group(1), text[m.end():i]


def dependencies(body: str) -> set[str]:
    m = re.search(r"dependencies:\s*\[", body)
    if not m:
        return set()
    depth, i = 1, m.end()
    while depth and i < len(body):
        depth += {"[": 1, "]": -1}.get(body[i], 0)
        i += 1
    deps = body[m.end():i - 1]
    products = set(re.findall(r'\.product\(\s*name:\s*"([^"]+)"', deps))
    deps = re.sub(r"\.product\([^)]*\)", "", deps)
    return products | set(re.findall(r'"([^"]+)"', deps))


def imports(folder: Path) -> set[str]:
    out: set[str] = set()
    for f in folder.rglob("*.swift"):
        for line in f.read_text().splitlines():
            m = re.match(r"^\s*(?:@testable\s+|@_exported\s+|public\s+|package\s+|internal\s+)*import\s+(?:class\s+|struct\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", line)
            if m:
                out.add(m.group(1))
    return out - SYSTEM


def main() -> int:
    text = (ROOT / "Package.swift").read_text()
    targets: dict[str, tuple[str, set[str], Path]] = {}
    for kind, body in blocks(text):
        name = re.search(r'name:\s*"([^"]+)"', body).group(1)
        path = re.search(r'path:\s*"([^"]+)"', body)
        folder = ROOT / (path.group(1) if path else ("Tests" if kind == "testTarget" else "Sources") + "/" + name)
        targets[name] = (kind, dependencies(body), folder)
    system_libraries = {n for n, (k, _, _) in targets.items() if k == "systemLibrary"}

    if "--graph" in sys.argv:
        for name, (kind, deps, _) in targets.items():
            if kind in ("target", "executableTarget"):
                local = sorted(d for d in deps if d in targets)
                print(f"{name} -> {', '.join(local) or '-'}")
        return 0

    problems = []
    for name, (kind, deps, folder) in sorted(targets.items()):
        if kind == "systemLibrary" or not folder.is_dir():
            continue
        used = imports(folder)
        carried = set().union(*(CARRIED.get(d, set()) for d in deps)) if deps else set()
        undeclared = sorted(used - deps - carried - {name})
        unused = sorted(d for d in deps - used if d not in system_libraries or d not in used)
        # A system library shim counts as used when imported; a product named differently from
        # its module would show here and must be listed in MODULE_OF below.
        unused = [d for d in unused if MODULE_OF.get(d, d) not in used]
        if undeclared:
            problems.append(f"{name}: imports {', '.join(undeclared)} without declaring it")
        if unused:
            problems.append(f"{name}: declares {', '.join(unused)} but imports none of it")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} target(s) differ from their imports (Package.swift)")
        return 1
    print(f"module graph: {sum(1 for k, _, _ in targets.values() if k != 'systemLibrary')} targets, declarations match imports")
    return 0


# Products whose module is named otherwise (none today).
MODULE_OF: dict[str, str] = {}

# Modules a product always builds and links with it, importable where the product is declared
# although SwiftPM cannot name them: Yams's bundled libyaml (StrataConfig reads its event stream
# before Yams composes a document, YAMLKeyCheck.swift).
CARRIED: dict[str, set[str]] = {"Yams": {"CYaml"}}

if __name__ == "__main__":
    sys.exit(main())
