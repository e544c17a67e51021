"""Throwaway git repositories for tests of the gate on real code changes: this working
tree's tracked files (current contents, so uncommitted work is tested too) committed as a
base by stackbench.throwaway, candidates committed on top by text edits, and the gate run
from inside the copy (its own `harness` then finds its project root there).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stackbench.ab import git as _git
from stackbench.throwaway import commit_all, new_repository

GATE_TIMEOUT_S = 280

Change = Callable[[Path], None]  # edits files under the repository's root


@dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly once) by `new` in the file at `path`."""

    path: str
    old: str
    new: str

    def apply(self, repo: Path) -> None:
        replace_in(repo, self.path, [(self.old, self.new)])


def replace_in(root: Path, path: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Replace each `old` with `new` in one file; each `old` must occur exactly once, so a
    change that no longer applies fails loudly instead of testing the unchanged code."""
    file = root / path
    text = file.read_text()
    for old, new in pairs:
        if text.count(old) != 1:
            raise AssertionError(f"{path}: {old!r} occurs {text.count(old)} times, not once")
        text = text.replace(old, new)
    file.write_text(text)


def base_repository(root: Path) -> tuple[Path, str]:
    """A new repository at `root` holding this working tree; its path and that commit."""
    return root, new_repository(root)


def commit(repo: Path, message: str, *edits: Edit) -> str:
    """`edits` applied to the working tree and committed with everything else; the commit."""
    for edit in edits:
        edit.apply(repo)
    return commit_all(repo, message)


def checkout(repo: Path, rev: str) -> None:
    """Make `rev` the working tree (detached), as a developer checking out an older commit."""
    _git("checkout", "--quiet", "--detach", rev, cwd=repo)


@dataclass(frozen=True)
class Throwaway:
    """A repository whose commit `base` is this project and `candidate` the change on it."""

    root: Path
    base: str
    candidate: str

    def checkout(self, commit: str) -> None:
        """Make `commit` the working tree (the gate's candidate)."""
        checkout(self.root, commit)

    def gate(
        self, base: str, out: Path, *extra: str, timeout_s: float = GATE_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """`python -m stackbench.gate --base <base>` on this repository's working tree."""
        argv = [sys.executable, "-m", "stackbench.gate", "--base", base, "--out", str(out)]
        return subprocess.run(
            [*argv, *extra], cwd=self.root, capture_output=True, text=True, timeout=timeout_s
        )


def throwaway(root: Path, change: Change, message: str) -> Throwaway:
    """A new repository at `root`: this project committed as the base, then `change`
    applied and committed as the candidate, which is checked out."""
    base = new_repository(root)
    change(root)
    return Throwaway(root, base, commit_all(root, message))
