"""The markdown summary of a chaos run."""

from __future__ import annotations

from chaos.checker import Verdict
from chaos.report import INVARIANTS, KEY_FIGURES, markdown_table
from chaos.runner import ScenarioResult


def result(*extra: Verdict) -> ScenarioResult:
    common = [Verdict(name, True, dict.fromkeys(KEY_FIGURES[name], 0)) for name in INVARIANTS]
    return ScenarioResult("token_rotation", "hardened", [*common, *extra], 0, 10, 5)


def test_a_failed_invariant_of_the_scenarios_own_is_named_in_the_verdict() -> None:
    failing = markdown_table([result(Verdict("token_rotation", False))])
    passing = markdown_table([result(Verdict("token_rotation", True))])

    assert failing.splitlines()[-1].endswith("| FAIL (token_rotation) |")
    assert passing.splitlines()[-1].endswith("| pass |")
