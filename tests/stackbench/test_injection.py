"""The synthetic regression a quality run codes into its candidate: the right route only."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from stackbench.injection import MAIN, WRAPPER, Injection, inject, restore
from stackbench.throwaway import throwaway_repository


def wrapped(injection: Injection) -> object:
    """The wrapper's code run over a stand-in app, as the candidate's main.py would."""
    from stackbench.injection import TARGETS

    target = TARGETS[injection.target]
    spec = {
        "method": target.method,
        "path": target.path,
        "query_has": target.query_has,
        "query_lacks": target.query_lacks,
        "delay_ms": injection.delay_ms,
        "cpu_us": injection.cpu_us,
    }

    async def app(scope: dict, receive: object, send: object) -> None:
        return None

    namespace: dict = {"create_app": lambda settings=None: app}
    exec(WRAPPER.format(spec=spec), namespace)
    return namespace["create_app"]()


def timed(app: object, method: str, path: str, query: bytes = b"") -> tuple[float, float]:
    scope = {"type": "http", "method": method, "path": path, "query_string": query}
    wall, cpu = time.perf_counter(), time.thread_time()
    asyncio.run(app(scope, None, None))  # type: ignore[operator]
    return time.perf_counter() - wall, time.thread_time() - cpu


def test_the_delay_hits_the_injected_route_only() -> None:
    app = wrapped(Injection("GET /posts?include=comments", delay_ms=80.0))

    assert timed(app, "GET", "/posts", b"limit=20&include=comments")[0] >= 0.08
    assert timed(app, "GET", "/posts", b"limit=20&after=3")[0] < 0.05
    assert timed(app, "GET", "/posts/3")[0] < 0.05
    pages = wrapped(Injection("GET /posts?after&limit", delay_ms=80.0))
    assert timed(pages, "GET", "/posts", b"limit=20&after=3")[0] >= 0.08
    assert timed(pages, "GET", "/posts", b"limit=20&include=comments")[0] < 0.05


def test_the_cpu_burn_hits_the_injected_route_only() -> None:
    app = wrapped(Injection("POST /posts", cpu_us=30_000.0))

    assert timed(app, "POST", "/posts")[1] >= 0.03
    assert timed(app, "POST", "/posts/batch")[1] < 0.02
    assert timed(app, "POST", "/posts/7/comments")[1] < 0.02


@pytest.mark.integration
def test_injecting_and_restoring_change_only_the_candidates_working_tree() -> None:
    with throwaway_repository() as tree:
        committed = (tree / MAIN).read_text()
        inject(tree, Injection("PATCH /posts/{id}", delay_ms=5.0))
        inject(tree, Injection("POST /posts", cpu_us=10.0))  # replaces, never stacks
        text = (tree / MAIN).read_text()
        assert text.count("_InjectedRegression(") == 1
        assert "'method': 'POST'" in text
        compile(text, str(MAIN), "exec")
        restore(tree)
        assert (tree / MAIN).read_text() == committed
        assert not Path(tree / "bin").is_symlink() or (tree / "bin").resolve().exists()
