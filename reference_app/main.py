"""The app factory, and `app` built by it: what uvicorn, `fastapi run` and `fastapi dev` serve.

`uvicorn reference_app.main:app`, `fastapi run reference_app/main.py` (or plain `fastapi run`,
through `[tool.fastapi]` in pyproject) and `uvicorn --factory reference_app.main:create_app`
all serve the same app. Settings are read once, from the environment unless given; the
lifespan opens the database runtime for the configured mode and closes it at shutdown.
`app` is built on first access, so importing `create_app` reads no environment.
"""

from __future__ import annotations

import contextlib
import gc
import ssl
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.api import health, routes
from reference_app.api.errors import install_error_handlers
from reference_app.api.middleware import (
    BodyLimitMiddleware,
    DeadlineMiddleware,
    MetricsMiddleware,
    RequestResources,
)
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.metrics import AppMetrics
from reference_app.settings import Settings
from reference_app.wiring import hardened_runtime, naive_runtime

FIX_CERTIFICATE = (
    "set SSL_CERT_FILE to the server's certificate, a PEM file (for the local server,"
    " .certs/localturso.pem from `make setup`)"
)


def untrusted_certificate(error: BaseException) -> str | None:
    """Why the database's certificate was rejected ("self-signed certificate"), if that is
    what `error` comes from, however deep the client wrapped it; else None."""
    seen: set[int] = set()
    reason = None
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, ssl.SSLCertVerificationError):
            # aiohttp's wrapper is one too; the ssl module's own, deeper, says why.
            reason = getattr(found, "verify_message", None) or reason or "verification failed"
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return reason


class StartupFailureLine:
    """A startup that failed for a reason the app can name is that one line in the log,
    not Starlette's traceback: uvicorn logs what the lifespan's failure message says."""

    def __init__(self, app: ASGIApp, reasons: list[str]) -> None:
        self.app = app
        self.reasons = reasons  # the lifespan appends to it when it knows why it failed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.reasons:
                message = {**message, "message": self.reasons[-1]}
            await send(message)

        await self.app(scope, receive, send_named)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = AppMetrics(settings.prometheus_multiproc_dir)
    round_trips = RoundTripCounter(
        metrics.observe_db_call, metrics.observe_db_connect, metrics.observe_db_error
    )
    startup_failures: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = (
            naive_runtime(settings, round_trips)
            if settings.naive
            else hardened_runtime(settings, metrics, round_trips)
        )
        async with contextlib.AsyncExitStack() as resources:
            try:
                app.state.open_posts = await resources.enter_async_context(runtime)
            except Exception as error:
                if reason := untrusted_certificate(error):
                    startup_failures.append(
                        f"cannot reach the database at {settings.effective_database_url}: its"
                        f" TLS certificate is not trusted ({reason}); {FIX_CERTIFICATE}"
                    )
                raise
            # Everything built so far (FastAPI, pydantic, the client) lives as long as the
            # process: keep it out of the cyclic collector's scans, which otherwise walk that
            # whole heap on every full collection while serving.
            gc.freeze()
            yield

    app = FastAPI(title=f"reference_app ({settings.mode})", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.round_trips = round_trips
    install_error_handlers(app, catch_all=not settings.naive)
    app.include_router(routes.router)
    app.include_router(health.router)
    # Innermost: a request's resources are closed before its deadline or its timing ends.
    app.add_middleware(RequestResources)
    if not settings.naive and settings.timeouts_enabled:
        app.add_middleware(
            DeadlineMiddleware,
            budget_s=settings.request_deadline_ms / 1000,
            on_exceeded=metrics.observe_deadline_exceeded,
        )
    # Outside the deadline: a body over the limit is refused before any of it is waited for.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: it also times requests the deadline cut short.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(StartupFailureLine, reasons=startup_failures)
    return app


def __getattr__(name: str) -> FastAPI:
    # PEP 562: `app` is made when a server first asks for it, then kept as a plain global.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = globals()["app"] = create_app()
    return app


def __dir__() -> list[str]:
    # `fastapi run` finds the app by looking for the name `app` in dir(module).
    return sorted({*globals(), "app"})
