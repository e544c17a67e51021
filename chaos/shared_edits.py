"""Clients that take turns editing one shared post, each edit based on the content it read.

A turn is one attempt. An edit whose attempt got no clear answer (none, or a 5xx) is sent
again, the same body and the same If-Match, in its client's next turn, after the others'
turns: so a fault that drops answers can put another client's acknowledged edit between two
attempts of one edit. Applied again there without If-Match, the retry silently overwrites
that edit (a lost update); with it, the app refuses it (412). Without faults turns never
overlap, so every edit is based on the latest content and nothing can be lost.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from chaos.history import Outcome, UpdateRecord, edit_content, edit_token

Send = Callable[..., Awaitable[httpx.Response | None]]
# How many turns an edit may take: enough to outlast a 3 s outage at a turn every ~10 ms.
EDIT_ATTEMPTS = 1000


@dataclass
class Edit:
    """An edit being sent: what it is based on, and whether an attempt may have landed."""

    token: str
    based_on: str
    if_match: str | None
    attempts: int = 0
    maybe_applied: bool = False


class SharedPostEditors:
    """`editors` clients on the post at `url`, whose content the create set to `first`."""

    def __init__(
        self,
        send: Send,
        running: Callable[[], bool],
        title: str,
        url: str,
        editors: int,
        think_time_s: float,
    ) -> None:
        self._send = send  # the workload's: records the request in its history
        self._running = running
        self._title, self._url = title, url
        self._editors = editors
        self._think_time_s = think_time_s
        self._turn = asyncio.Lock()  # FIFO: the editors' turns alternate
        self._numbers = itertools.count(1)
        self.updates: list[UpdateRecord] = []

    async def run(self) -> None:
        await asyncio.gather(*(self._editor(n) for n in range(self._editors)))

    async def _editor(self, editor: int) -> None:
        pending: Edit | None = None
        while self._running():
            async with self._turn:
                pending = await self.take_turn(editor, pending)
            await asyncio.sleep(self._think_time_s)
        if pending is not None:
            self._record(pending, Outcome.INDETERMINATE)

    async def take_turn(self, editor: int, pending: Edit | None) -> Edit | None:
        """One attempt of the pending edit, or of a new one on what is stored now; returns
        the edit still to be sent."""
        edit = pending or await self.new_edit(editor)
        return None if edit is None else await self.attempt(edit)

    async def attempt(self, edit: Edit) -> Edit | None:
        """Send `edit` once; returns it if it is still to be sent (no clear answer)."""
        headers = {"If-Match": edit.if_match} if edit.if_match else {}
        body = {"content": edit_content(edit.token, edit.based_on)}
        response = await self._send("update", "PATCH", self._url, json=body, headers=headers)
        edit.attempts += 1
        if response is None or response.status_code >= 500:
            edit.maybe_applied = True
            if edit.attempts < EDIT_ATTEMPTS:
                return edit
            self._record(edit, Outcome.INDETERMINATE)
        elif response.is_success:
            self._record(edit, Outcome.ACKED)
        else:  # refused (412): applied only if an earlier attempt was, unseen
            self._record(edit, Outcome.INDETERMINATE if edit.maybe_applied else Outcome.FAILED)
        return None

    async def new_edit(self, editor: int) -> Edit | None:
        """An edit of what is stored now, by `editor`; None if the post could not be read."""
        read = await self._send("read", "GET", self._url)
        if read is None or read.status_code != 200:
            return None
        token = f"{self._title}:{editor}.{next(self._numbers)}"
        based_on = edit_token(read.json()["content"])
        return Edit(token, based_on, read.headers.get("ETag"))

    def _record(self, edit: Edit, outcome: Outcome) -> None:
        self.updates.append(UpdateRecord(self._title, edit.token, edit.based_on, outcome))
