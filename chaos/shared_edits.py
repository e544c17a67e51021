"""Clients that take turns editing one shared post, each edit based on the content it saw.

Like an editor with the document open: each turn a client reads the post, or, when it
cannot, works on the copy it saw last (its last read, or its own acknowledged edit). A turn
is one attempt. An edit whose attempt got no clear answer (none, or a 5xx) is sent again,
the same body and the same If-Match, in its client's next turn, after the others' turns: so
a fault puts another client's acknowledged edit between two attempts of one edit, or leaves
two clients each with an edit of an older copy. Applied without If-Match, the later of them
silently overwrites an edit it never saw (a lost update); with it, the app refuses it (412).
Without faults every read succeeds and turns never overlap, so every edit is based on the
latest content and nothing can be lost.
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


@dataclass(frozen=True)
class Copy:
    """What a client last saw of the post: the token of its content, and its ETag."""

    token: str
    etag: str | None


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
        self._copies: dict[int, Copy] = {}  # by editor
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
        """One attempt of the pending edit, or of a new one; returns the edit still to be
        sent."""
        edit = pending or await self.new_edit(editor)
        return None if edit is None else await self.attempt(editor, edit)

    async def attempt(self, editor: int, edit: Edit) -> Edit | None:
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
            self._copies[editor] = Copy(edit.token, response.headers.get("ETag"))
        else:  # refused (412): applied only if an earlier attempt was, unseen
            self._record(edit, Outcome.INDETERMINATE if edit.maybe_applied else Outcome.FAILED)
        return None

    async def new_edit(self, editor: int) -> Edit | None:
        """An edit by `editor` of what is stored now, or if the post cannot be read, of the
        copy it saw last; None if it never saw one."""
        read = await self._send("read", "GET", self._url)
        if read is not None and read.status_code == 200:
            self._copies[editor] = Copy(
                edit_token(read.json()["content"]), read.headers.get("ETag")
            )
        copy = self._copies.get(editor)
        if copy is None:
            return None
        token = f"{self._title}:{editor}.{next(self._numbers)}"
        return Edit(token, copy.token, copy.etag)

    def _record(self, edit: Edit, outcome: Outcome) -> None:
        self.updates.append(UpdateRecord(self._title, edit.token, edit.based_on, outcome))
