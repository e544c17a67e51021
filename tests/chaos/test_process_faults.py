"""Process faults on a real local Turso server: killed and back on the same data and port,
or paused and resumed; undone also when the run is cancelled mid-fault."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chaos.process_faults import ProcessFault, apply
from harness.stack import LocalTurso, local_turso

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path, log_dir: Path) -> Iterator[LocalTurso]:
    with local_turso(tmp_path / "db.sqlite", log_dir) as running:
        yield running


def execute(server: LocalTurso, sql: str) -> httpx.Response:
    body = {"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}
    return httpx.post(f"{server.http_url}/v2/pipeline", json=body, timeout=2.0)


def process_state(pid: int | None) -> str:
    """The one-letter state from /proc: T is stopped, S sleeping, R running."""
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]


async def test_a_killed_server_comes_back_on_the_same_port_with_its_data(
    server: LocalTurso,
) -> None:
    execute(server, "CREATE TABLE t (x)").raise_for_status()
    execute(server, "INSERT INTO t VALUES (42)").raise_for_status()
    old_pid = server.process.pid
    fault = ProcessFault("database", "kill", start_s=0.0, duration_s=0.1)

    await apply(fault, server.process, window_start=0.0)

    assert server.process.pid != old_pid
    rows = execute(server, "SELECT x FROM t").json()["results"][0]["response"]["result"]["rows"]
    assert rows == [[{"type": "integer", "value": "42"}]]


async def test_a_terminated_server_shuts_down_cleanly_and_comes_back(
    server: LocalTurso,
) -> None:
    execute(server, "CREATE TABLE t (x)").raise_for_status()
    old_pid = server.process.pid
    fault = ProcessFault("database", "terminate", start_s=0.0, duration_s=0.1)

    await apply(fault, server.process, window_start=0.0)

    assert server.process.pid != old_pid
    assert "database closed" in server.process.log_tail()  # its shutdown ran: no kill -9
    execute(server, "SELECT x FROM t").raise_for_status()


async def test_a_paused_server_is_stopped_during_the_fault_and_runs_after(
    server: LocalTurso,
) -> None:
    fault = ProcessFault("database", "pause", start_s=0.0, duration_s=30.0)
    pausing = asyncio.create_task(apply(fault, server.process, window_start=0.0))
    for _ in range(3000):  # until the kernel has stopped it (bounded: 30 s)
        if process_state(server.process.pid) == "T":
            break
        await asyncio.sleep(0.01)
    assert process_state(server.process.pid) == "T"

    pausing.cancel()  # as a run interrupted mid-fault
    with pytest.raises(asyncio.CancelledError):
        await pausing

    assert process_state(server.process.pid) != "T"
    assert execute(server, "SELECT 1").is_success
