"""`strata delta create|apply` as users run it on files: byte-exact against the reference vectors
(Go-port bytes by default, fossil's C bytes with --fossil-c), malformed deltas refused with a clear
message and a non-zero status, and anything beyond the plain forms (help, bad options) handled by
the full command-line parser. The plain forms take a fast path that skips the parser, so these
tests pin both paths to the same behaviour."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

# The repository's fossil vectors (Tests/StrataDeltaTests/Vectors/fossil/README.md).
VECTORS = REPO_ROOT / "Tests" / "StrataDeltaTests" / "Vectors" / "fossil"
CASES = sorted(p.stem for p in VECTORS.glob("*.delta")) if VECTORS.is_dir() else []


def run(strata_bin, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(strata_bin), *args], capture_output=True, timeout=60)


def expected_go_port(name: str) -> bytes:
    alt = VECTORS / "go-port" / f"{name}.delta"
    return (alt if alt.exists() else VECTORS / f"{name}.delta").read_bytes()


@pytest.mark.skipif(not CASES, reason="fossil vectors not present")
@pytest.mark.parametrize("name", CASES)
def test_create_and_apply_match_the_vectors(strata_bin, tmp_path, name):
    src, tgt = VECTORS / f"{name}.source", VECTORS / f"{name}.target"
    out = tmp_path / "out.delta"
    res = run(strata_bin, "delta", "create", str(src), str(tgt), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == expected_go_port(name)
    res = run(strata_bin, "delta", "create", "--fossil-c", str(src), str(tgt), "--output", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == (VECTORS / f"{name}.delta").read_bytes()
    # apply to standard output
    res = run(strata_bin, "delta", "apply", str(src), str(VECTORS / f"{name}.delta"))
    assert res.returncode == 0, res.stderr
    assert res.stdout == tgt.read_bytes()


@pytest.mark.skipif(not CASES, reason="fossil vectors not present")
@pytest.mark.parametrize("name", sorted(p.stem for p in (VECTORS / "malformed").glob("*.delta")) if CASES else [])
def test_malformed_deltas_are_refused(strata_bin, tmp_path, name):
    res = run(strata_bin, "delta", "apply", str(VECTORS / "malformed" / f"{name}.source"), str(VECTORS / "malformed" / f"{name}.delta"))
    assert res.returncode != 0
    assert b"invalid delta" in res.stderr, res.stderr
    assert b"Fatal error" not in res.stderr


def test_missing_file_and_help_and_bad_options(strata_bin, tmp_path):
    res = run(strata_bin, "delta", "create", str(tmp_path / "nope"), str(tmp_path / "nope2"))
    assert res.returncode != 0 and b"cannot read" in res.stderr, res.stderr
    res = run(strata_bin, "delta", "create", "--help")
    assert res.returncode == 0 and b"USAGE" in res.stdout.upper(), res.stdout
    a = tmp_path / "a"
    a.write_bytes(b"hello")
    res = run(strata_bin, "delta", "create", str(a), str(a), "--bogus")
    assert res.returncode != 0 and b"bogus" in res.stderr, res.stderr


@pytest.mark.skipif(shutil.which("fossil") is None or not CASES, reason="Debian's fossil not installed")
def test_fossil_applies_what_strata_creates(strata_bin, tmp_path):
    src, tgt = VECTORS / "json_pretty_football_many.source", VECTORS / "json_pretty_football_many.target"
    out, back = tmp_path / "d", tmp_path / "t"
    assert run(strata_bin, "delta", "create", "--fossil-c", str(src), str(tgt), "-o", str(out)).returncode == 0
    subprocess.run(["fossil", "test-delta-apply", str(src), str(out), str(back)], check=True, capture_output=True, timeout=60)
    assert back.read_bytes() == tgt.read_bytes()


def test_inputs_from_pipes_are_read_to_the_end(strata_bin, tmp_path):
    """A pipe or process substitution has no size to read up to: `strata delta create <(…) <(…)`."""
    src, tgt = VECTORS / "json_pretty_football_many.source", VECTORS / "json_pretty_football_many.target"
    out = run(strata_bin, "delta", "create", str(src), str(tgt)).stdout
    piped = subprocess.run(
        ["bash", "-c", f'"$0" delta create <(cat "$1") <(cat "$2")', str(strata_bin), str(src), str(tgt)],
        capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == out and len(out) > 0
    delta = tmp_path / "d"
    delta.write_bytes(out)
    applied = subprocess.run(
        ["bash", "-c", f'"$0" delta apply <(cat "$1") "$2"', str(strata_bin), str(src), str(delta)],
        capture_output=True, timeout=60)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == tgt.read_bytes()
