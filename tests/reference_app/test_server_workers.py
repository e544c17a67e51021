"""The app as users start several workers, with the server's own flag and default settings:
uvicorn, `fastapi run` and gunicorn, 2 workers each; no read after an acknowledged write is stale.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.settings import PROJECT_ROOT
from harness.stack import LOOPBACK, LocalTurso, local_turso

pytestmark = pytest.mark.integration

WORKERS = 2
CHECKS = 120
LANES = 8  # checks in flight at once
WARM_READS = 2  # reads before the PATCH, so that a worker likely holds the old version
STARTED = b"Application startup complete"  # what uvicorn logs once per worker

# Each server's own way of starting WORKERS workers on `port`, serving the app FastAPI finds.
SERVERS: dict[str, Callable[[int], list[str]]] = {
    "uvicorn": lambda port: [
        "-m", "uvicorn", "reference_app.main:app", "--workers", str(WORKERS),
        "--host", LOOPBACK, "--port", str(port),
    ],
    "fastapi run": lambda port: [
        "-m", "fastapi", "run", "reference_app/main.py", "--workers", str(WORKERS),
        "--host", LOOPBACK, "--port", str(port),
    ],
    "gunicorn": lambda port: [
        "-m", "gunicorn", "reference_app.main:app", "--workers", str(WORKERS),
        "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", f"{LOOPBACK}:{port}",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    path = tmp_path_factory.mktemp("workers")
    with local_turso(path / "posts.db", path / "logs") as server:
        yield server


def every_worker_started(log_path: Path, url: str) -> Callable[[], bool]:
    """Ready once each worker said its startup is complete and the port answers."""
    answers = http_ready(f"{url}/healthz")

    def probe() -> bool:
        log = log_path.read_bytes() if log_path.exists() else b""
        return log.count(STARTED) >= WORKERS and answers()

    return probe


def server_process(server: str, database: LocalTurso, log_dir: Path) -> tuple[ManagedProcess, str]:
    """The app under `server` with nothing set but where the database is."""
    port = free_port(LOOPBACK)
    url = f"http://{LOOPBACK}:{port}"
    log_path = log_dir / f"{server.replace(' ', '-')}.log"
    process = ManagedProcess(
        name=server,
        argv=[sys.executable, *SERVERS[server](port)],
        ready=every_worker_started(log_path, url),
        log_path=log_path,
        env={"TURSO_DATABASE_URL": database.ws_url},
        cwd=PROJECT_ROOT,
    )
    return process, url


async def read_back_after_a_write(client: httpx.AsyncClient, check: int) -> str | None:
    """Create, read, PATCH, read back; what the read back saw if it was stale."""
    created = await client.post("/posts", json={"title": f"t{check}", "content": "v0"})
    assert created.status_code == 201, created.text
    post = f"/posts/{created.json()['id']}"
    for _ in range(WARM_READS):
        assert (await client.get(post)).status_code == 200
    patched = await client.patch(post, json={"content": "v1"})
    assert patched.status_code == 200, patched.text
    seen = (await client.get(post)).json()["content"]
    return None if seen == "v1" else f"{post}: {seen}"


async def stale_read_backs(url: str) -> list[str]:
    """CHECKS read-backs, LANES at a time; every request on a new connection, as browsers'
    would reach any worker. Returns what each stale read back saw."""
    fresh_connections = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=fresh_connections, timeout=10) as client:

        async def lane(first: int) -> list[str | None]:
            return [
                await read_back_after_a_write(client, check)
                for check in range(first, CHECKS, LANES)
            ]

        lanes = await asyncio.gather(*(lane(first) for first in range(LANES)))
    return [seen for checks in lanes for seen in checks if seen is not None]


@pytest.mark.parametrize("server", SERVERS)
async def test_no_stale_read_after_a_write_with_the_servers_own_workers_flag(
    server: str, database: LocalTurso, log_dir: Path
) -> None:
    process, url = server_process(server, database, log_dir)
    with running(process):
        stale = await stale_read_backs(url)

    assert stale == [], f"{len(stale)} of {CHECKS} read-backs stale: {stale[:5]}"
