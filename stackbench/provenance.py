"""What a result was measured with: commit, package versions, machine."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from harness.settings import PROJECT_ROOT

PACKAGES = (
    "fastapi",
    "uvicorn",
    "starlette",
    "libsql-client",
    "aiohttp",
    "locust",
    "hdrhistogram",
    "scipy",
)


def _git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
    except OSError:  # no git on this machine
        return ""
    return result.stdout.strip()


def git_commit() -> str:
    """HEAD, marked +dirty when the working tree has changes the numbers may reflect."""
    commit = _git("rev-parse", "HEAD") or "unknown"
    return f"{commit}+dirty" if _git("status", "--porcelain") else commit


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance() -> dict[str, Any]:
    return {
        "git_commit": git_commit(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count() or 1,
    }
