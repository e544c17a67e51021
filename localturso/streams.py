"""Hrana-over-HTTP streams: batons that tie requests together, and expiry of idle streams."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from localturso.database import Database, Worker
from localturso.errors import ProtocolError, StreamExpired

log = logging.getLogger(__name__)

_PAYLOAD_BYTES = 16
_MAC_BYTES = 32


class _Tombstone(Enum):
    ACQUIRED = "acquired"  # a request is using the stream right now
    EXPIRED = "expired"  # kept for a while so that its batons get STREAM_EXPIRED


def baton_invalid() -> ProtocolError:
    return ProtocolError("Received an invalid baton", "BATON_INVALID")


def baton_reused() -> ProtocolError:
    return ProtocolError("Received a baton that has already been used", "BATON_REUSED")


def baton_stream_closed() -> ProtocolError:
    return ProtocolError("Stream for this baton was closed", "BATON_STREAM_CLOSED")


@dataclass(eq=False)
class HttpStream:
    """A stream's connection and stored SQL texts; owned by at most one request at a time."""

    stream_id: int
    worker: Worker
    baton_seq: int
    sqls: dict[int, str] = field(default_factory=dict)
    closed: bool = False
    expires_at: float = 0.0


class StreamRegistry:
    """Every open HTTP stream, found by baton; each baton is accepted exactly once."""

    def __init__(self, database: Database, expiry_s: float, retention_s: float) -> None:
        self._database = database
        self._expiry_s = expiry_s
        self._retention_s = retention_s
        # Batons are HMAC-signed like sqld's, so they cannot be forged or guessed.
        self._key = secrets.token_bytes(32)
        self._handles: dict[int, HttpStream | _Tombstone] = {}
        self._tombstones: deque[tuple[int, float]] = deque()

    def acquire(self, baton: str | None) -> HttpStream:
        if baton is None:
            worker = self._database.acquire()
            stream_id = self._new_stream_id()
            stream = HttpStream(stream_id, worker, secrets.randbits(64))
            self._handles[stream_id] = _Tombstone.ACQUIRED
            return stream
        stream_id, baton_seq = self._decode_baton(baton)
        handle = self._handles.get(stream_id)
        if handle is None:
            raise baton_invalid()
        if handle is _Tombstone.ACQUIRED:
            raise baton_reused()
        if handle is _Tombstone.EXPIRED:
            raise StreamExpired()
        assert isinstance(handle, HttpStream)
        if handle.baton_seq != baton_seq:
            raise baton_reused()
        # The next request must show the next baton, so this one is spent.
        handle.baton_seq = (handle.baton_seq + 1) % 2**64
        self._handles[stream_id] = _Tombstone.ACQUIRED
        return handle

    def release(self, stream: HttpStream) -> str | None:
        """Make the stream available again and return its next baton, or None once closed."""
        if stream.closed:
            self.discard(stream)
            return None
        stream.expires_at = time.monotonic() + self._expiry_s
        self._handles[stream.stream_id] = stream
        return self._encode_baton(stream.stream_id, stream.baton_seq)

    def discard(self, stream: HttpStream) -> None:
        """Close the stream for good (after `close`, or when a request on it failed)."""
        self._handles.pop(stream.stream_id, None)
        self._database.release(stream.worker)

    def expire_due(self, now: float) -> None:
        due = [
            handle
            for handle in self._handles.values()
            if isinstance(handle, HttpStream) and handle.expires_at <= now
        ]
        for stream in due:
            self._handles[stream.stream_id] = _Tombstone.EXPIRED
            self._tombstones.append((stream.stream_id, now + self._retention_s))
            self._database.release(stream.worker)
            log.debug("stream %d expired", stream.stream_id)
        while self._tombstones and self._tombstones[0][1] <= now:
            stream_id, _ = self._tombstones.popleft()
            self._handles.pop(stream_id, None)

    async def run_expiry(self) -> None:
        """Expire idle streams until cancelled; checks a few times per expiry period."""
        interval = min(max(self._expiry_s / 4, 0.05), 1.0)
        while True:
            await asyncio.sleep(interval)
            self.expire_due(time.monotonic())

    def close(self) -> None:
        for handle in list(self._handles.values()):
            if isinstance(handle, HttpStream):
                self._database.release(handle.worker)
        self._handles.clear()
        self._tombstones.clear()

    def _new_stream_id(self) -> int:
        while True:
            stream_id = secrets.randbits(64)
            if stream_id not in self._handles:
                return stream_id

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _encode_baton(self, stream_id: int, baton_seq: int) -> str:
        payload = stream_id.to_bytes(8, "big") + baton_seq.to_bytes(8, "big")
        return base64.b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def _decode_baton(self, baton: str) -> tuple[int, int]:
        try:
            data = base64.b64decode(baton + "=" * (-len(baton) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise baton_invalid() from None
        if len(data) != _PAYLOAD_BYTES + _MAC_BYTES:
            raise baton_invalid()
        payload, mac = data[:_PAYLOAD_BYTES], data[_PAYLOAD_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise baton_invalid()
        return int.from_bytes(payload[:8], "big"), int.from_bytes(payload[8:], "big")
