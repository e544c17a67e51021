"""Throwaway git repositories for tests of the A/B gate on real code changes: this working
tree's tracked files (their current contents, so uncommitted work is tested too) committed
as a base, and candidates committed on top by text edits."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.settings import PROJECT_ROOT

# Built by `make setup`, untracked: the throwaway's harness finds them where it expects them.
SETUP_DIRS = ("bin", ".certs")
_AUTHOR = ("-c", "user.name=throwaway", "-c", "user.email=throwaway@127.0.0.1")


@dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly once) by `new` in the file at `path`."""

    path: str
    old: str
    new: str

    def apply(self, repo: Path) -> None:
        file = repo / self.path
        text = file.read_text()
        if text.count(self.old) != 1:
            raise ValueError(f"{self.path}: {self.old!r} occurs {text.count(self.old)} times")
        file.write_text(text.replace(self.old, self.new))


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *_AUTHOR, *args], cwd=repo, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def tracked_files() -> list[str]:
    """This checkout's tracked files that exist now (a deleted one is not copied)."""
    listed = git(PROJECT_ROOT, "ls-files", "-z").split("\0")
    return [name for name in listed if name and os.path.lexists(PROJECT_ROOT / name)]


def base_repository(root: Path) -> tuple[Path, str]:
    """A new repository at `root` holding this working tree's tracked files, committed; its
    path and that commit."""
    for name in tracked_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, target, follow_symlinks=False)
    for name in SETUP_DIRS:
        (root / name).symlink_to((PROJECT_ROOT / name).resolve(), target_is_directory=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / ".git" / "info" / "exclude").write_text("\n".join(f"/{d}" for d in SETUP_DIRS))
    return root, commit(root, "base: the working tree as it is")


def commit(repo: Path, message: str, *edits: Edit) -> str:
    """`edits` applied to the working tree and committed with everything else; the commit."""
    for edit in edits:
        edit.apply(repo)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def checkout(repo: Path, rev: str) -> None:
    """Make `rev` the working tree (detached), as a developer checking out an older commit."""
    git(repo, "checkout", "--quiet", "--detach", rev)
