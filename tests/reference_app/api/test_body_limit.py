"""A body over the limit is refused with 413 under real uvicorn before the client has sent it.

The client writes the body in slices over a raw socket and looks for an answer before each
one, so the test sees how much was sent by the time the server answered: a body read whole
(then judged) is only answered once all of it was sent.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import App, LocalTurso, reference_app
from reference_app.settings import DEFAULT_MAX_BODY_BYTES

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
SLICE = b"x" * (256 * 1024)
# What loopback socket buffers (client's send, server's receive) and uvicorn hold between
# the bytes the client sent and the bytes the app has read: a few MiB at most.
IN_FLIGHT = 16 * MIB


@pytest.fixture(scope="module")
def app(shared_turso: LocalTurso, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    log_dir: Path = tmp_path_factory.mktemp("body-limit-logs")
    with reference_app(log_dir, env={"TURSO_DATABASE_URL": shared_turso.http_url}) as served:
        yield served


def send_until_answered(app: App, head: bytes, body: Iterator[bytes]) -> tuple[int, dict, int]:
    """Sends `head`, then `body` until the server answers or closes; the answer's status,
    JSON body, and how many body bytes had been sent by then."""
    host, port = app.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break  # an answer (or the close after it) arrived
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, json.loads(answer.read()), sent


def request_head(headers: str) -> bytes:
    return (
        f"POST /posts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{headers}\r\n"
    ).encode()


def test_a_100_mb_body_is_refused_from_its_content_length_before_it_is_sent(app: App) -> None:
    total = 100 * MIB
    slices = (SLICE for _ in range(total // len(SLICE)))

    head = request_head(f"Content-Length: {total}\r\n")

    status, body, sent = send_until_answered(app, head, slices)

    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert sent < IN_FLIGHT, f"{sent} of {total} bytes sent before the answer"


def chunked(total: int) -> Iterator[bytes]:
    for _ in range(total // len(SLICE)):
        yield f"{len(SLICE):x}\r\n".encode() + SLICE + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_chunked_body_is_refused_once_it_passes_the_limit(app: App) -> None:
    total = DEFAULT_MAX_BODY_BYTES + 4 * IN_FLIGHT

    status, body, sent = send_until_answered(
        app, request_head("Transfer-Encoding: chunked\r\n"), chunked(total)
    )

    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert DEFAULT_MAX_BODY_BYTES < sent < DEFAULT_MAX_BODY_BYTES + IN_FLIGHT, (
        f"{sent} of {total} bytes sent before the answer"
    )
