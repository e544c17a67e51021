"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reference_app.api.deps import Posts
from reference_app.api.errors import documented_errors, error_response

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving; says nothing about the database."""
    return {"status": "ok"}


@router.get("/readyz", responses=documented_errors(503, 504))
async def readyz(request: Request, posts: Posts) -> JSONResponse:
    """`SELECT 1` within its own short deadline, bypassing retry and breaker on purpose."""
    timeout_s = request.app.state.settings.readiness_timeout_ms / 1000
    try:
        async with asyncio.timeout(timeout_s):
            await posts.ping()
    # Any failure at all means "not ready"; the reason goes into the body.
    except Exception as error:
        return error_response(
            503, "not_ready", f"database did not answer: {type(error).__name__}", retry_after_s=1
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
