"""A retried update must not overwrite a newer acknowledged one: the real app, a real fault.

Two editors of the chaos workload on one post: A's update lands but every answer to it is
lost (the database's answers dropped), so A keeps it to send again; B then reads the post,
updates it and is acknowledged; A sends its update again. The lost-update invariant must
hold on the stored content: A's retry is refused (412), not applied over B's update.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from chaos.checker import lost_updates
from chaos.history import Outcome, StoredPost
from chaos.shared_edits import SharedPostEditors
from harness.stack import stack
from harness.toxiproxy import Toxic

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

ANSWERS_LOST = Toxic("timeout", "downstream", {"timeout": 0})  # requests pass, answers do not


async def edit_across_the_fault(api_url: str, fault: object) -> tuple[SharedPostEditors, str]:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:

        async def send(_kind: str, method: str, url: str, **kwargs: object) -> httpx.Response:
            return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        created = await client.post("/posts", json={"title": "shared", "content": "created"})
        url = f"/posts/{created.json()['id']}"
        editors = SharedPostEditors(send, lambda: True, "shared", url, 2, 0.0)
        edit = await editors.new_edit(0)  # A reads the post
        assert edit is not None
        with fault:  # type: ignore[attr-defined]
            pending = await editors.attempt(0, edit)  # A's update lands; its answers are lost
        assert pending is not None, "A's update was answered: the fault did not drop its answer"
        assert await editors.take_turn(1, None) is None  # B: reads A's landed update, updates
        assert await editors.attempt(0, pending) is None  # A sends its update again
        return editors, (await client.get(url)).json()["content"]


def test_a_retried_update_never_overwrites_a_newer_acknowledged_one(log_dir: Path) -> None:
    env = {"APP_MODE": "hardened", "APP_REQUEST_DEADLINE_MS": "3000"}
    with stack(log_dir, db=log_dir / "posts.db", app_env=env) as live:
        fault = live.toxiproxy.toxics(live.proxies["turso"], ANSWERS_LOST)
        editors, content = asyncio.run(edit_across_the_fault(live.api_url, fault))

    b, a = editors.updates  # in the order their outcomes were known
    assert b.outcome is Outcome.ACKED
    assert b.based_on == a.token  # B saw A's update, which had landed
    verdict = lost_updates(editors.updates, [StoredPost(1, "shared", content)])
    assert verdict.passed, (verdict.figures, editors.updates, content)
    assert a.outcome is Outcome.INDETERMINATE  # refused, and it may have landed (it had)
