"""Pure ASGI middleware: the request body limit (→ 413), the request deadline (→ 504), request
latency by route template, and the resources a request opened, closed once it is answered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.api.errors import BodyTooLarge, body_too_large, error_response
from reference_app.metrics import AppMetrics
from reference_app.resilience.deadline import Deadline, deadline_scope


class BodyLimitMiddleware:
    """Refuses a request body longer than `max_bytes` with 413: from its Content-Length before
    any of it is read, or else (chunked, or a server that lets more through than declared)
    as soon as the bytes read pass the limit; never reads it whole."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope["headers"])
        if declared is not None and declared > self.max_bytes:
            message = f"the request body ({declared} bytes) is longer than {self.max_bytes}"
            await body_too_large(message)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)  # answered by the app's error handler
            return message

        await self.app(scope, receive_within_limit, send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The declared length; None without one (chunked, or no body) or with a malformed one,
    which servers refuse before the app sees it: either way the bytes read are counted."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class DeadlineMiddleware:
    """Gives each request a deadline (read by the DB pipeline) and answers 504 when it passes."""

    def __init__(self, app: ASGIApp, *, budget_s: float, on_exceeded: Callable[[], None]) -> None:
        self.app = app
        self.budget_s = budget_s
        self.on_exceeded = on_exceeded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        timeout = asyncio.timeout(self.budget_s)
        try:
            with deadline_scope(Deadline.after(self.budget_s)):
                async with timeout:
                    await self.app(scope, receive, send_tracking)
        except TimeoutError:
            # Not ours, or too late to replace the response: let it propagate.
            if not timeout.expired() or response_started:
                raise
            self.on_exceeded()
            response = error_response(
                504,
                "deadline_exceeded",
                f"request took longer than its {self.budget_s:g}s deadline",
            )
            await response(scope, receive, send)


class MetricsMiddleware:
    """Observes every HTTP request's latency, labelled by route template, never by raw path."""

    def __init__(self, app: ASGIApp, *, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before responding

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed_s = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], route, status, elapsed_s)


class RequestResources:
    """Gives each HTTP request an exit stack (`request.state.resources`), closed once the app
    has answered or failed: what a dependency opens for one request (the naive mode's client)
    is closed there, as a `yield` dependency would close it, for a fraction of the CPU."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with contextlib.AsyncExitStack() as resources:
            scope.setdefault("state", {})["resources"] = resources
            await self.app(scope, receive, send)
