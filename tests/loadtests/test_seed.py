"""`python -m loadtests.seed`: posts and comments through the real app, ids printed for Locust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.processes import free_port
from harness.settings import PROJECT_ROOT
from harness.stack import reference_app


def seed_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtests.seed", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
def test_seeds_posts_and_comments_and_prints_locust_flags(tmp_path: Path, log_dir: Path) -> None:
    env = {"APP_EMBEDDED_DB_PATH": str(tmp_path / "app.db")}
    with reference_app(log_dir, env=env) as app:
        result = seed_cli("--app-url", app.url, "--posts", "30", "--commented-posts", "5")
        first = httpx.get(f"{app.url}/posts/1", params={"include": "comments"}).json()
        last = httpx.get(f"{app.url}/posts/30")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["--first-id", "1", "--last-id", "30", "--commented-posts", "5"]
    assert len(first["comments"]) == 3
    assert last.status_code == 200


def test_bad_counts_are_one_line_errors() -> None:
    result = seed_cli("--app-url", "http://127.0.0.1:1", "--posts", "5", "--commented-posts", "9")

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) <= 3  # argparse's usage line, then the error
    assert "Traceback" not in result.stderr


def test_an_unreachable_app_is_a_one_line_error() -> None:
    result = seed_cli(
        "--app-url", f"http://127.0.0.1:{free_port()}", "--posts", "5", "--commented-posts", "0"
    )

    assert result.returncode == 1
    assert result.stderr.startswith("seed: http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1
