"""The A/B plumbing: baseline commit, its temporary worktree, the interleaved order."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT
from stackbench.ab import (
    GitError,
    baseline_worktree,
    git,
    resolve_base,
)
from stackbench.trials import stack_sides

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout: the A/B gate needs git"
)


def test_base_resolves_revisions_and_defaults_to_the_merge_base() -> None:
    head = git("rev-parse", "HEAD")

    assert resolve_base("HEAD") == head
    assert resolve_base("") == git("merge-base", "HEAD", "main")


def test_an_unknown_base_is_a_one_line_error() -> None:
    with pytest.raises(GitError) as error:
        resolve_base("no-such-revision-here")

    assert len(str(error.value).splitlines()) == 1


def test_the_worktree_holds_the_commit_and_is_removed_also_on_error() -> None:
    seen: list[Path] = []

    def interrupted_inside() -> None:
        with baseline_worktree(resolve_base("HEAD")) as tree:
            seen.append(tree)
            assert (tree / "reference_app" / "main.py").exists()
            assert git("rev-parse", "HEAD", cwd=tree) == git("rev-parse", "HEAD")
            raise KeyboardInterrupt  # as Ctrl-C would

    with pytest.raises(KeyboardInterrupt):
        interrupted_inside()

    [tree] = seen
    assert not tree.parent.exists()
    assert str(tree) not in git("worktree", "list")


def test_swapped_places_map_back_to_the_stacks() -> None:
    by_place = {"A": {"GET /x": {"p50_ms": 1.0}}, "B": {"GET /x": {"p50_ms": 2.0}}}

    assert stack_sides(by_place, swapped=False) == by_place
    assert stack_sides(by_place, swapped=True) == {"A": by_place["B"], "B": by_place["A"]}
