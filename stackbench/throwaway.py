"""A throwaway git repository holding the working tree's code, for A/B runs of made-up changes.

The gate compares a commit with a working tree. To measure it (and to test it), we need
base and candidate commits that differ in known ways without touching the user's own
repository: `throwaway_repository` copies the tracked files as they are now (uncommitted
edits included) into a fresh repository, commits them, and links the built tools in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.settings import PROJECT_ROOT
from stackbench.ab import git

# Built by `make setup`, never tracked: linked so that the copy runs as the project does.
BUILT = ("bin", ".certs")
AUTHOR = {
    "GIT_AUTHOR_NAME": "throwaway",
    "GIT_AUTHOR_EMAIL": "throwaway@localhost",
    "GIT_COMMITTER_NAME": "throwaway",
    "GIT_COMMITTER_EMAIL": "throwaway@localhost",
}


def commit_all(tree: Path, message: str) -> str:
    """Commit every change in `tree`; the new commit's hash."""
    git("add", "--all", cwd=tree)
    subprocess.run(
        ["git", "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message],
        cwd=tree,
        env={**os.environ, **AUTHOR},
        check=True,
        capture_output=True,
    )
    return git("rev-parse", "HEAD", cwd=tree)


def new_repository(tree: Path, source: Path = PROJECT_ROOT) -> str:
    """Make `tree` (empty or new) a repository of `source`'s tracked files as they are now,
    committed once on `main`, with the built tools linked in; that commit."""
    tree.mkdir(parents=True, exist_ok=True)
    for name in git("ls-files", "-z", cwd=source).split("\0"):
        if name and (source / name).is_file():  # a file deleted but not committed is skipped
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, tree / name)
    for name in BUILT:
        if (source / name).exists():
            (tree / name).symlink_to((source / name).resolve())
    git("init", "--quiet", "--initial-branch", "main", cwd=tree)
    (tree / ".git" / "info" / "exclude").write_text("\n".join(f"/{n}" for n in BUILT) + "\n")
    return commit_all(tree, "base: the working tree as copied")


@contextlib.contextmanager
def throwaway_repository(source: Path = PROJECT_ROOT) -> Iterator[Path]:
    """`new_repository` in a temporary directory, removed on exit."""
    parent = Path(tempfile.mkdtemp(prefix="throwaway-"))
    try:
        new_repository(parent / "repo", source)
        yield parent / "repo"
    finally:
        shutil.rmtree(parent, ignore_errors=True)
