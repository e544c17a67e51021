"""Both servers side by side, default settings, one JWT key: sqld (SQLD_BIN) and localturso."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.auth import JwtAuth
from harness.stack import DatabaseServer, local_turso, sqld
from tests.localturso.conformance.compare import Answer, assert_same

pytestmark = pytest.mark.integration


@dataclass
class Pair:
    """The same database operations go to both; `token` is valid on both."""

    sqld: DatabaseServer
    local: DatabaseServer
    auth: JwtAuth
    # One client for every request: httpx builds an SSL context per throwaway client (~50 ms).
    http: httpx.Client

    @property
    def both(self) -> tuple[DatabaseServer, DatabaseServer]:
        return self.sqld, self.local

    def headers(self, token: str | None = "valid") -> dict[str, str]:
        token = self.auth.token if token == "valid" else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **kw: Any
    ) -> tuple[Answer, Answer]:
        headers = {**self.headers(kw.pop("token", "valid")), **kw.pop("headers", {})}
        answers = []
        for server in self.both:
            response = self.http.request(
                method,
                f"{server.http_url}{path}",
                json=body if raw is None else None,
                content=raw,
                headers=headers,
                timeout=30,
            )
            answers.append(Answer.of(response))
        return answers[0], answers[1]

    def same(self, method: str, path: str, body: Any = None, **kw: Any) -> Answer:
        """Both answer alike; returns sqld's answer for further checks."""
        sqld_answer, local_answer = self.request(method, path, body, **kw)
        assert_same(sqld_answer, local_answer)
        return sqld_answer


@pytest.fixture(scope="session")
def pair(sqld_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("conformance")
    auth = JwtAuth.generate()
    with contextlib.ExitStack() as servers:
        real = servers.enter_context(sqld(sqld_bin, tmp / "sqld-data", tmp / "logs", auth=auth))
        local = servers.enter_context(local_turso(tmp / "local.db", tmp / "logs", jwt_auth=auth))
        http = servers.enter_context(httpx.Client(timeout=30))
        yield Pair(real, local, auth, http)


@pytest.fixture
def table() -> str:
    """A fresh table name, so tests share both databases without seeing each other's rows."""
    return f"t_{uuid.uuid4().hex[:10]}"
