"""The gate's resilience stage end to end, on throwaway repositories: two real stacks take
the same faults at once, and the candidate is judged against the baseline commit.

An unchanged candidate passes; so does good code against a baseline that ignores the
Idempotency-Key header (the baseline's duplicates never fail the candidate). Every broken
candidate, several times each, is measured by `python -m tests.stackbench.resilience_candidates`
(docs/measurements/gate.md); the rows' rules are proven in test_gate_resilience_rules.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT
from tests.stackbench.resilience_candidates import CASES, prepared

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout: the A/B gate needs git"
    ),
]


@pytest.mark.parametrize("name", ["unchanged", "no_idempotency_key_swapped"])
def test_the_resilience_stage_passes(tmp_path: Path, name: str) -> None:
    repo, base = prepared(CASES[name], tmp_path / "repo")

    result = repo.gate(base, tmp_path / "out", "--stages", "resilience")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate: PASS" in result.stdout
    assert "gate: trial" not in result.stdout  # the latency stage did not run
    record = json.loads((tmp_path / "out" / "gate.json").read_text())
    rows = {row["metric"]: row for row in record["resilience"]["rows"]}
    assert set(rows) == {"lost writes", "dup writes", "500s", "err%", "late%", "recovery s"}
    assert all(row["status"] == "ok" for row in rows.values())
    assert record["resilience"]["schedule"]  # the faults were recorded with the figures
