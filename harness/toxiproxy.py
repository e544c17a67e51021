"""Drives a real Shopify toxiproxy-server: proxies, toxics, and their certain removal.

toxiproxy-python keeps its API address in class attributes and drops the API's
error bodies, so this wraps it with one address per server and calls the HTTP API
directly where an error must say what was wrong. A toxic is added and removed in
`ToxiproxyApi.toxics` (removed in `finally`, whatever happened in the block).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
import requests
from toxiproxy.api import APIConsumer
from toxiproxy.server import Toxiproxy

from harness.cli import UserError
from harness.processes import ManagedProcess, free_port, http_ready

Stream = Literal["upstream", "downstream"]


class ToxiproxyNotFoundError(UserError):
    """No toxiproxy-server binary and no TOXIPROXY_URL: run `make setup`."""


# The unit of each toxic attribute, as toxiproxy's README gives it (by toxic type).
ATTRIBUTE_UNITS: dict[tuple[str, str], str] = {
    ("latency", "latency"): "ms",
    ("latency", "jitter"): "ms",
    ("bandwidth", "rate"): "KB/s",
    ("slow_close", "delay"): "ms",
    ("timeout", "timeout"): "ms",
    ("reset_peer", "timeout"): "ms",
    ("slicer", "average_size"): "bytes",
    ("slicer", "size_variation"): "bytes",
    ("slicer", "delay"): "µs",
    ("limit_data", "bytes"): "bytes",
}


def attribute_unit(toxic_type: str, attribute: str) -> str:
    return ATTRIBUTE_UNITS.get((toxic_type, attribute), "")


def attributes_text(toxic_type: str, attributes: Mapping[str, object]) -> str:
    """ "latency=50 ms, jitter=10 ms": each attribute with its unit."""
    return ", ".join(
        f"{name}={value} {attribute_unit(toxic_type, name)}".rstrip()
        for name, value in attributes.items()
    )


@dataclass(frozen=True)
class Toxic:
    """One toxic as the toxiproxy API takes it; attribute units are the toxic's own (ms, KB/s)."""

    type: str
    stream: Stream = "downstream"
    attributes: Mapping[str, int | float] = field(default_factory=dict)
    toxicity: float = 1.0
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or f"{self.type}_{self.stream}"

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.key,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


class ToxiproxyApi:
    """One toxiproxy server's API, at the address it was given."""

    def __init__(self, api_url: str, *, server_pid: int | None = None) -> None:
        parts = urlsplit(api_url)
        self.api_url = api_url.rstrip("/")
        self.server_pid = server_pid  # the server process when started here (for its CPU use)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 8474
        # Removing a bandwidth toxic waits up to 5 s for the packets it holds ("could not
        # write last packets"): a 5 s client timeout crashed a chaos run on that very wait.
        self._http = httpx.Client(base_url=self.api_url, timeout=15.0)

    @contextlib.contextmanager
    def _client(self) -> Iterator[Toxiproxy]:
        # toxiproxy-python addresses its server through class attributes; point
        # them at this server for the duration of each call.
        APIConsumer.host, APIConsumer.port = self._host, self._port
        yield Toxiproxy()

    def version(self) -> str:
        return self._http.get("/version").raise_for_status().text

    def create_proxy(self, name: str, listen: str, upstream: str) -> None:
        """Create (or re-create, when its addresses changed) a proxy."""
        with self._client() as client:
            client.populate([{"name": name, "listen": listen, "upstream": upstream}])

    def proxies(self) -> dict[str, dict[str, object]]:
        """Every proxy with its toxics, as the API reports them."""
        return self._http.get("/proxies").raise_for_status().json()

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        with self._client() as client:
            client.reset()

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        # Through our own client: toxiproxy-python's server address is a class attribute, so
        # two servers driven from two threads at once (both stacks' outages in the gate's
        # resilience stage) sent both calls to one of them.
        response = self._http.post(f"/proxies/{proxy}", json={"enabled": enabled})
        if response.status_code == httpx.codes.NOT_FOUND:
            raise KeyError(f"no toxiproxy proxy named {proxy!r}")
        response.raise_for_status()

    def add_toxic(self, proxy: str, toxic: Toxic) -> None:
        # toxiproxy-python's add_toxic drops the API's error body; ours says what was wrong.
        response = self._http.post(f"/proxies/{proxy}/toxics", json=toxic.as_json())
        if response.is_error:
            raise ValueError(f"toxiproxy refused toxic {toxic.key!r} on {proxy}: {response.text}")

    def remove_toxic(self, proxy: str, name: str) -> None:
        response = self._http.delete(f"/proxies/{proxy}/toxics/{name}")
        if response.status_code not in (204, 404):
            response.raise_for_status()

    @contextlib.contextmanager
    def toxics(self, proxy: str, *toxics: Toxic) -> Iterator[None]:
        """Apply toxics for the duration of the block; they are removed whatever happens."""
        added: list[str] = []
        try:
            for toxic in toxics:
                self.add_toxic(proxy, toxic)
                added.append(toxic.key)
            yield
        finally:
            with unless_gone():
                for name in added:
                    self.remove_toxic(proxy, name)

    @contextlib.contextmanager
    def disabled(self, proxy: str) -> Iterator[None]:
        """The proxy refuses and drops connections for the duration of the block."""
        self.set_enabled(proxy, False)
        try:
            yield
        finally:
            with unless_gone():
                self.set_enabled(proxy, True)

    def close(self) -> None:
        self._http.close()


@contextlib.contextmanager
def unless_gone() -> Iterator[None]:
    """For undo steps: a toxiproxy server already stopped (an interrupted run stops every
    process at once) has no fault left to undo, so refusing the connection is no error."""
    with contextlib.suppress(httpx.ConnectError, requests.ConnectionError):
        yield


def toxiproxy_binary(configured: Path) -> Path:
    """The project-built binary, else one on PATH."""
    if configured.exists():
        return configured
    found = shutil.which("toxiproxy-server")
    if found:
        return Path(found)
    raise ToxiproxyNotFoundError(
        f"toxiproxy-server not found at {configured} nor on PATH; run `make setup`"
    )


@dataclass
class ToxiproxyServer:
    """A toxiproxy-server process and the URL of its API."""

    api_url: str
    process: ManagedProcess


def toxiproxy_process(binary: Path, log_dir: Path, port: int | None = None) -> ToxiproxyServer:
    """A toxiproxy-server bound to loopback, not yet started."""
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        name="toxiproxy",
        argv=[str(binary), "-host", "127.0.0.1", "-port", str(port)],
        ready=http_ready(f"{api_url}/version"),
        log_path=log_dir / f"toxiproxy-{port}.log",
    )
    return ToxiproxyServer(api_url, process)
