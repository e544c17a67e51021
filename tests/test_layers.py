"""Imports run one way, and each package's docstring points a newcomer at real files.

The rule lives in pyproject.toml as import-linter contracts: the reference app and the
local server stand alone and apart; stackbench and microbench over loadtests over chaos
over reports over harness. The second test copies the packages, adds one import the wrong
way and sees a contract break, so the first test is known to be able to fail.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = [
    "reference_app",
    "localturso",
    "harness",
    "loadtests",
    "chaos",
    "reports",
    "stackbench",
    "microbench",
]
# `pkg/module.py` or `pkg/dir/` as a docstring names them.
NAMED_PATH = re.compile(r"`([\w/]+(?:\.py|/))`")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        # The packages under `root` come first on the path, before the installed ones.
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_imports_run_one_way() -> None:
    result = lint_imports(PROJECT_ROOT)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        # The first two are how it was: loadtests and bench imported each other, reports
        # imported loadtests.
        ("loadtests/ids.py", "stackbench.summary", "loadtests is not allowed to import stackbench"),
        ("reports/data.py", "loadtests.ids", "reports is not allowed to import loadtests"),
        ("harness/stack.py", "stackbench.runner", "harness is not allowed to import stackbench"),
        ("chaos/checker.py", "loadtests.ids", "chaos is not allowed to import loadtests"),
        (
            "stackbench/gate.py",
            "microbench.driver",
            "stackbench is not allowed to import microbench",
        ),
        ("reference_app/settings.py", "harness.settings", "reference_app is not allowed to import"),
        ("localturso/engine.py", "reference_app.domain", "localturso is not allowed to import"),
    ],
)
def test_an_import_the_wrong_way_breaks_a_contract(
    tmp_path: Path, module: str, wrong_import: str, broken: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(f"{target.read_text()}\nimport {wrong_import}  # the wrong way\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert broken in result.stdout, result.stdout[-3000:]
    assert f"-> {wrong_import} (l." in result.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_package_docstring_says_what_it_is_and_names_real_files(package: str) -> None:
    init = PROJECT_ROOT / package / "__init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text()))

    assert docstring, f"{init} has no docstring"
    for named in NAMED_PATH.findall(docstring):
        assert (PROJECT_ROOT / package / named).exists() or (PROJECT_ROOT / named).exists(), (
            f"{package}'s docstring names {named}, which does not exist"
        )
