"""Two builds on one machine in one run: the baseline commit checked out in a temporary
git worktree beside the working tree."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.settings import PROJECT_ROOT

MAIN_BRANCH = "main"
BASELINE, CANDIDATE = "A", "B"


class GitError(RuntimeError):
    """A git command failed; the message is git's own last line."""


def git(*args: str, cwd: Path = PROJECT_ROOT) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except OSError as error:
        raise GitError(f"git is not available: {error}") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
        raise GitError(f"git {' '.join(args)}: {lines[-1]}")
    return result.stdout.strip()


def resolve_base(rev: str | None) -> str:
    """The baseline commit: `rev`, or the merge base of HEAD with the main branch.

    When that merge base is HEAD itself (on main, or nothing committed yet on a branch),
    the baseline is HEAD and the candidate is the working tree's uncommitted state.
    """
    if not rev:
        branch = next(
            (b for b in (MAIN_BRANCH, f"origin/{MAIN_BRANCH}") if is_commit(b)),
            None,
        )
        if branch is None:
            raise GitError(f"no {MAIN_BRANCH!r} branch to take a merge base with; give BASE=<rev>")
        rev = git("merge-base", "HEAD", branch)
    return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")


def is_commit(ref: str) -> bool:
    """Whether `ref` names a commit of this repository (false too without git)."""
    try:
        git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return False
    return True


def describe(commit: str) -> str:
    """A short, human name for a commit: abbreviated hash and subject."""
    return git("log", "-1", "--format=%h %s", commit)


@contextlib.contextmanager
def baseline_worktree(commit: str) -> Iterator[Path]:
    """`commit` checked out (detached) in a temporary worktree, removed on exit and on Ctrl-C."""
    parent = Path(tempfile.mkdtemp(prefix="gate-baseline-"))
    path = parent / "tree"
    try:
        git("worktree", "add", "--detach", "--quiet", str(path), commit)
        yield path
    finally:
        with contextlib.suppress(GitError):
            git("worktree", "remove", "--force", str(path))
        shutil.rmtree(parent, ignore_errors=True)
        with contextlib.suppress(GitError):
            git("worktree", "prune")


def serves_tls(code_dir: Path) -> bool:
    """Whether that checkout's local Turso server has the TLS flags the gate's stack uses."""
    result = subprocess.run(
        [sys.executable, "-m", "localturso", "--help"],
        cwd=code_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--tls-cert" in result.stdout
