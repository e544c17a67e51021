"""Synthetic regressions that measure the gate: a code change in a throwaway candidate's app.

`make bench-quality` needs candidates it knows to be slower on one route (or to burn more
CPU on one), as a real change would be: not a proxy toxic on every response. `inject`
appends an ASGI wrapper to the candidate's `reference_app/main.py` in a throwaway
repository (stackbench.throwaway); the wrapper stands alone (the app imports nothing from
the harness), and `restore` checks the committed file out again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from stackbench.ab import git

MAIN = Path("reference_app") / "main.py"


@dataclass(frozen=True)
class Target:
    """A server route, as the wrapper recognises it, and the gate's rows it shows in."""

    rows: tuple[str, ...]
    method: str
    path: str  # a regular expression the whole path matches
    query_has: tuple[str, ...] = ()
    query_lacks: tuple[str, ...] = ()


# One per server route, in the gate's route order; hot and cold reads are one route.
TARGETS = {
    "GET /posts/{id}": Target(
        ("GET /posts/{id} hot", "GET /posts/{id} cold"), "GET", r"/posts/\d+"
    ),
    "GET /posts?after&limit": Target(
        ("GET /posts?after&limit",), "GET", "/posts", query_lacks=("include=",)
    ),
    "GET /posts?include=comments": Target(
        ("GET /posts?include=comments",), "GET", "/posts", query_has=("include=comments",)
    ),
    "POST /posts": Target(("POST /posts",), "POST", "/posts"),
    "DELETE /posts/{id}": Target(("DELETE /posts/{id}",), "DELETE", r"/posts/\d+"),
    "POST /posts/batch": Target(("POST /posts/batch",), "POST", "/posts/batch"),
    "PATCH /posts/{id}": Target(("PATCH /posts/{id}",), "PATCH", r"/posts/\d+"),
    "POST /posts/{id}/comments": Target(
        ("POST /posts/{id}/comments",), "POST", r"/posts/\d+/comments"
    ),
}


@dataclass(frozen=True)
class Injection:
    """Each request to `target` waits `delay_ms` and burns `cpu_us` of CPU first."""

    target: str
    delay_ms: float = 0.0
    cpu_us: float = 0.0

    def describe(self) -> str:
        parts = [f"+{self.delay_ms:.1f} ms"] if self.delay_ms else []
        parts += [f"+{self.cpu_us:.0f} µs CPU"] if self.cpu_us else []
        return f"{' '.join(parts)} on {self.target}"


WRAPPER = """

# Added by stackbench.injection for `make bench-quality`: a synthetic regression.
import asyncio as _asyncio
import re as _re
import time as _time

_INJECTED = {spec!r}


class _InjectedRegression:
    def __init__(self, app):
        self.app = app
        self.path = _re.compile(_INJECTED["path"])

    def _matches(self, scope):
        if scope["type"] != "http" or scope["method"] != _INJECTED["method"]:
            return False
        query = scope.get("query_string", b"").decode()
        return (
            self.path.fullmatch(scope["path"]) is not None
            and all(part in query for part in _INJECTED["query_has"])
            and not any(part in query for part in _INJECTED["query_lacks"])
        )

    async def __call__(self, scope, receive, send):
        if self._matches(scope):
            burn_until = _time.thread_time() + _INJECTED["cpu_us"] / 1e6
            while _time.thread_time() < burn_until:
                pass
            if _INJECTED["delay_ms"]:
                await _asyncio.sleep(_INJECTED["delay_ms"] / 1000)
        await self.app(scope, receive, send)


_create_app_without_regression = create_app


def create_app(settings=None):
    return _InjectedRegression(_create_app_without_regression(settings))
"""


def inject(tree: Path, injection: Injection) -> None:
    """Make the candidate in `tree` regress as `injection` says (from its committed main.py)."""
    if injection.target not in TARGETS:
        raise ValueError(f"no route {injection.target!r}; one of {', '.join(TARGETS)}")
    target = TARGETS[injection.target]
    spec = {
        **{k: v for k, v in asdict(target).items() if k != "rows"},
        "delay_ms": injection.delay_ms,
        "cpu_us": injection.cpu_us,
    }
    restore(tree)
    with (tree / MAIN).open("a") as main:
        main.write(WRAPPER.format(spec=spec))


def restore(tree: Path) -> None:
    """The candidate's app as committed: no regression."""
    git("checkout", "--", str(MAIN), cwd=tree)
