"""Hot paths timed by pytest-benchmark: Hrana decoding and encoding, the write batcher, the
chaos checker on a large history, and merging HDR histograms.

Run: `make bench-micro` (saved under .benchmarks/ and compared with the previous save).
These are figures to watch, not pass/fail checks on speed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import orjson
from pytest_benchmark.fixture import BenchmarkFixture

from chaos.checker import (
    PhaseBounds,
    duplicated_writes,
    latency_bound,
    lost_writes,
    recovery_time_s,
)
from chaos.history import Outcome, RequestRecord, StoredPost, WriteRecord
from harness.hdr import Recorder, endpoint_summaries
from localturso.protocol import HRANA3, decode_batch, decode_stmt, encode_value
from reference_app.resilience.batcher import WriteBatcher

ROWS, COLUMNS = 200, 6
HISTORY = 50_000


def hrana_stmt(i: int) -> bytes:
    body = {
        "sql": "INSERT INTO posts (title, content, created_at) VALUES (?, ?, ?)",
        "args": [
            {"type": "text", "value": f"title {i}"},
            {"type": "text", "value": "c" * 200},
            {"type": "integer", "value": str(1_700_000_000 + i)},
        ],
        "want_rows": False,
    }
    return orjson.dumps(body)


def test_hrana_decode_statement(benchmark: BenchmarkFixture) -> None:
    raw = hrana_stmt(7)

    stmt = benchmark(lambda: decode_stmt(orjson.loads(raw), {}, HRANA3))

    assert len(stmt.args) == 3


def test_hrana_decode_batch_of_64(benchmark: BenchmarkFixture) -> None:
    steps = [{"stmt": orjson.loads(hrana_stmt(i))} for i in range(64)]
    raw = orjson.dumps({"steps": steps})

    batch = benchmark(lambda: decode_batch(orjson.loads(raw), {}, HRANA3))

    assert len(batch) == 64


def test_hrana_encode_result_rows(benchmark: BenchmarkFixture) -> None:
    rows = [(i, f"title {i}", "c" * 200, 1.5 * i, None, b"\x00\x01") for i in range(ROWS)]

    def encode() -> bytes:
        return orjson.dumps({"rows": [[encode_value(v) for v in row] for row in rows]})

    assert benchmark(encode).startswith(b'{"rows"')


async def _through_batcher(items: int, max_size: int) -> Sequence[int]:
    async def flush(batch: list[int]) -> list[int]:
        return [i * 2 for i in batch]

    writes: WriteBatcher[int, int] = WriteBatcher(flush, window_s=0.0005, max_size=max_size)
    return await asyncio.gather(*(writes.submit(i) for i in range(items)))


def test_batcher_one_thousand_concurrent_creates(benchmark: BenchmarkFixture) -> None:
    results = benchmark(lambda: asyncio.run(_through_batcher(1000, max_size=64)))

    assert results[999] == 1998


def large_history() -> tuple[list[WriteRecord], list[StoredPost], list[RequestRecord]]:
    rng = random.Random(9)
    writes = [WriteRecord(f"k{i}", f"t-{i}", "c", Outcome.ACKED, post_id=i) for i in range(HISTORY)]
    stored = [StoredPost(i, f"t-{i}", "c") for i in range(HISTORY)]
    requests = []
    for i in range(HISTORY):
        started = i * 0.0002
        requests.append(RequestRecord("write", started, started + rng.uniform(0.001, 0.05), 201))
    return writes, stored, requests


def test_checker_on_fifty_thousand_writes(benchmark: BenchmarkFixture) -> None:
    writes, stored, requests = large_history()

    def check() -> tuple[bool, ...]:
        return (
            lost_writes(writes, stored).passed,
            duplicated_writes(writes, stored).passed,
            latency_bound(requests, PhaseBounds(2000.0, 2000.0, 2000.0), (1.0, 4.0)).passed,
            recovery_time_s(requests, 5.0, 2000.0) is not None,
        )

    assert benchmark(check) == (True, True, True, True)


def test_hdr_merge_of_eight_workers(benchmark: BenchmarkFixture) -> None:
    rng = random.Random(3)
    workers = []
    for _ in range(8):
        worker = Recorder()
        for _ in range(5000):
            worker.record("GET", "/posts/{id}", rng.lognormvariate(2.5, 0.6), failed=False)
        workers.append(worker.drain())

    def merge() -> float:
        master = Recorder()
        for encoded in workers:
            master.merge(encoded)
        return endpoint_summaries({"duration_s": 1.0, "endpoints": master.drain()})[
            "Aggregated"
        ].p99_ms

    assert benchmark(merge) > 0
