"""Seeding goes through the app's hardened path straight to the database, whatever the mode."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.settings import PROJECT_ROOT
from harness.stack import stack
from stackbench.seeding import SeedError, seed

pytestmark = pytest.mark.integration

COMMENTS_INDEX = '("CREATE INDEX IF NOT EXISTS comments_by_post ON comments (post_id, id)", ()),'


def older_checkout(root: Path) -> Path:
    """This tree's reference_app without the comments index, as a baseline before it was added."""
    shutil.copytree(PROJECT_ROOT / "reference_app", root / "reference_app")
    repository = root / "reference_app" / "db" / "repository.py"
    schema = repository.read_text()
    assert COMMENTS_INDEX in schema  # else this test no longer removes anything
    repository.write_text(schema.replace(COMMENTS_INDEX, ""))
    return root


def indexes(db: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {name for (name,) in rows if not name.startswith("sqlite_autoindex")}


@pytest.mark.parametrize("mode", ["naive", "hardened"])
def test_seed_fills_posts_and_comments_in_either_mode(
    mode: str, tmp_path: Path, log_dir: Path
) -> None:
    with stack(log_dir, db=tmp_path / "db.sqlite", app_env={"APP_MODE": mode}) as live:
        ids = seed(live, 30, 4)
        page = httpx.get(f"{live.api_url}/posts", params={"limit": 5, "include": "comments"})

    assert (ids.first_id, ids.last_id, ids.commented_posts) == (1, 30, 4)
    assert [len(post["comments"]) for post in page.json()["items"]] == [3, 3, 3, 3, 0]


def test_a_stack_running_another_checkout_is_seeded_with_that_checkouts_schema(
    tmp_path: Path, log_dir: Path
) -> None:
    """The gate's baseline side: its database must not get this tree's (the candidate's) index."""
    base = older_checkout(tmp_path / "base")
    db = tmp_path / "db.sqlite"
    with stack(log_dir, db=db, app_env={}, app_code=base) as live:
        ids = seed(live, 30, 4)

    assert (ids.first_id, ids.last_id, ids.commented_posts) == (1, 30, 4)
    assert "post_updates_by_age" in indexes(db)
    assert "comments_by_post" not in indexes(db)


def test_a_checkout_the_seeding_cannot_drive_fails_in_one_line(tmp_path: Path) -> None:
    """A baseline whose reference_app lacks what the seeding calls is named, not a traceback."""
    package = tmp_path / "old" / "reference_app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""An app from before the hardened runtime."""\n')
    argv = [
        sys.executable,
        "-m",
        "stackbench.seeding",
        "10",
        "0",
        "--app-code",
        str(package.parent),
    ]
    env = {**os.environ, "TURSO_DATABASE_URL": "http://127.0.0.1:1"}

    result = subprocess.run(
        argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env, check=False
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"reference_app of {package.parent}: No module named 'reference_app.db'\n"
    )


def test_a_database_that_is_gone_fails_the_seed_in_one_line(tmp_path: Path, log_dir: Path) -> None:
    with stack(log_dir, db=tmp_path / "db.sqlite", app_env={}) as live:
        assert live.turso is not None
        live.turso.process.kill()
        with pytest.raises(SeedError) as caught:
            seed(live, 10, 0)

    assert str(caught.value).startswith("seeding localturso failed: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["many", "0"], "posts: 'many' is not a positive integer"),
        (["10"], "the following arguments are required: commented"),
        (["10", "20"], "20 commented posts out of 10 posts"),
        (
            ["10", "0", "--app-code", "/nowhere"],
            "--app-code /nowhere: no reference_app package there",
        ),
    ],
)
def test_seeding_from_a_shell_answers_bad_input_in_one_line(args: list[str], problem: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stackbench.seeding", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr == f"python -m stackbench.seeding: {problem}\n"


def test_bench_with_a_bad_sqld_bin_says_so_in_one_line(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "stackbench", "--duration", "1s", "--out", str(tmp_path / "run")]
    env = {**os.environ, "SQLD_BIN": str(tmp_path / "no-sqld")}

    result = subprocess.run(
        argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env, check=False
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"bench: SQLD_BIN={tmp_path / 'no-sqld'} is not an executable file")


def test_bench_runs_against_sqld_and_names_it(sqld_bin: Path, tmp_path: Path) -> None:
    """The naive app with the comments workload: seeding no longer depends on the mode."""
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "stackbench", "--duration", "4s", "--users", "4"]
    argv += ["--mode", "naive"]
    argv += ["--seed-posts", "300", "--commented-posts", "60", "--out", str(out)]
    env = {**os.environ, "SQLD_BIN": str(sqld_bin)}

    result = subprocess.run(
        argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "database sqld: sqld 0." in result.stdout
    summary = (out / "naive" / "summary.json").read_text()
    assert '"server": "sqld"' in summary
