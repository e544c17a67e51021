"""The GitHub Actions workflow: checked by actionlint, and for what CI must do on a pull request.

actionlint (built into bin/ by `make setup`) checks syntax, expressions and runner labels;
the rest checks that pull requests run `make test` and `make gate` against the merge base,
keep results/ and publish the gate's table, using only targets the Makefile has.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.settings import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"
ACTIONLINT = PROJECT_ROOT / "bin" / "actionlint"
MAKE_TARGET = re.compile(r"\bmake ([a-z][\w-]*)")


def load(path: Path = WORKFLOW) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def scripts(workflow: dict[str, Any], job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


def makefile_targets() -> set[str]:
    phony = re.search(r"^\.PHONY: (.+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M)
    assert phony, "the Makefile declares no phony targets"
    return set(phony.group(1).split())


def job_running(workflow: dict[str, Any], target: str) -> str:
    """The job whose scripts call `make <target>`."""
    for job in workflow["jobs"]:
        if target in MAKE_TARGET.findall(scripts(workflow, job)):
            return job
    raise AssertionError(f"no job runs `make {target}`")


def test_pull_requests_run_make_test_and_make_gate() -> None:
    workflow = load()

    assert "pull_request" in workflow["on"]
    test_job, gate_job = job_running(workflow, "test"), job_running(workflow, "gate")
    assert "if" not in workflow["jobs"][test_job]  # tests run on every event
    assert "pull_request" in workflow["jobs"][gate_job].get("if", "pull_request")


def test_the_gate_compares_with_the_merge_base() -> None:
    workflow = load()
    gate_job = job_running(workflow, "gate")
    script = scripts(workflow, gate_job)

    assert re.search(r'make gate BASE="\$base"', script)
    assert re.search(r'base="\$\(git merge-base "\$BASE_SHA" "\$HEAD_SHA"\)"', script)
    (checkout,) = [
        s for s in steps(workflow, gate_job) if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkout["with"]["fetch-depth"] == 0  # the merge base must be in the clone
    (gate_step,) = [s for s in steps(workflow, gate_job) if "make gate" in s.get("run", "")]
    assert gate_step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert gate_step["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    # `shell: bash` runs with pipefail, so the gate's failure is not hidden by `tee`.
    assert gate_step["shell"] == "bash"


def test_results_are_kept_and_the_table_published_even_when_the_gate_fails() -> None:
    workflow = load()
    gate_steps = steps(workflow, job_running(workflow, "gate"))

    (upload,) = [s for s in gate_steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"].rstrip("/") == "results"
    assert upload["if"] == "always()"
    (summary,) = [s for s in gate_steps if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert summary["if"] == "always()"
    assert "results/gate.txt" in summary["run"]


def test_every_make_target_called_exists() -> None:
    workflow = load()
    called = {t for job in workflow["jobs"] for t in MAKE_TARGET.findall(scripts(workflow, job))}

    assert called <= makefile_targets(), called - makefile_targets()


def actionlint() -> str:
    found = str(ACTIONLINT) if ACTIONLINT.exists() else shutil.which("actionlint")
    if not found:
        pytest.skip(f"{ACTIONLINT} missing: `make setup` builds it with Go")
    return found


def test_actionlint_accepts_the_workflow_and_rejects_a_broken_one(tmp_path: Path) -> None:
    binary = actionlint()
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ github.ref }}", "${{ github.ref", 1))

    good = subprocess.run([binary, str(WORKFLOW)], capture_output=True, text=True, check=False)
    bad = subprocess.run([binary, str(broken)], capture_output=True, text=True, check=False)

    assert good.returncode == 0, good.stdout
    assert bad.returncode == 1, bad.stdout
