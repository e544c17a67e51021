"""Throwaway git repositories for gate tests: the working tree's tracked files as a base
commit, a code change on top as the candidate, and the gate run from inside the copy.

The copy takes the files' CURRENT contents (uncommitted work is tested too); `bin/` and
`.certs/` are symlinks to this project's, so the copy runs the same servers and keys.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.settings import PROJECT_ROOT

SHARED = ("bin", ".certs")  # untracked, and needed by every stack the gate starts
GATE_TIMEOUT_S = 280

Change = Callable[[Path], None]  # edits files under the repository's root


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class Throwaway:
    """A repository whose commit `base` is this project and `candidate` the change on it."""

    root: Path
    base: str
    candidate: str

    def checkout(self, commit: str) -> None:
        """Make `commit` the working tree (the gate's candidate)."""
        git(self.root, "checkout", "--quiet", "--detach", commit)

    def gate(
        self, base: str, out: Path, *extra: str, timeout_s: float = GATE_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """`python -m stackbench.gate --base <base>` on this repository's working tree."""
        argv = [sys.executable, "-m", "stackbench.gate", "--base", base, "--out", str(out)]
        return subprocess.run(
            [*argv, *extra], cwd=self.root, capture_output=True, text=True, timeout=timeout_s
        )


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.split("\0") if name]


def throwaway(root: Path, change: Change, message: str) -> Throwaway:
    """A new repository at `root`: this project's tracked files committed as the base, then
    `change` applied and committed as the candidate; the candidate is checked out."""
    root.mkdir(parents=True)
    for name in tracked_files():
        source = PROJECT_ROOT / name
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for name in SHARED:
        (root / name).symlink_to(PROJECT_ROOT / name)
    git(root, "init", "--quiet", "--initial-branch", "main")
    (root / ".git" / "info" / "exclude").write_text("\n".join(SHARED) + "\n")
    base = _commit(root, "base: this project's working tree")
    change(root)
    candidate = _commit(root, message)
    return Throwaway(root, base, candidate)


def _commit(root: Path, message: str) -> str:
    git(root, "add", "--all")
    identity = ("-c", "user.name=gate test", "-c", "user.email=gate-test@localhost")
    git(root, *identity, "commit", "--quiet", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD")


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
