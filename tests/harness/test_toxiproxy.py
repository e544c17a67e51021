"""The real toxiproxy-server: toxics take effect, and are always removed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.stack import toxiproxy
from harness.toxiproxy import Toxic, ToxiproxyApi

pytestmark = pytest.mark.integration

LATENCY_MS = 200


@pytest.fixture(scope="module")
def toxiproxy_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToxiproxyApi]:
    with toxiproxy(tmp_path_factory.mktemp("toxiproxy")) as api:
        yield api


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("upstream")
    port = free_port()
    server = ManagedProcess(
        name="upstream",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready=http_ready(f"http://127.0.0.1:{port}/"),
        log_path=directory / "upstream.log",
        cwd=directory,
    )
    with running(server):
        yield f"127.0.0.1:{port}"


@pytest.fixture
def proxy_url(toxiproxy_api: ToxiproxyApi, upstream: str) -> str:
    listen = f"127.0.0.1:{free_port()}"
    toxiproxy_api.create_proxy("web", listen, upstream)
    toxiproxy_api.reset()
    return f"http://{listen}/"


def fetch_seconds(url: str) -> float:
    began = time.perf_counter()
    httpx.get(url, timeout=5.0).raise_for_status()
    return time.perf_counter() - began


def test_downstream_latency_delays_responses_and_is_removed_after(
    toxiproxy_api: ToxiproxyApi, proxy_url: str
) -> None:
    with toxiproxy_api.toxics("web", Toxic("latency", attributes={"latency": LATENCY_MS})):
        delayed_s = fetch_seconds(proxy_url)
        assert toxiproxy_api.proxies()["web"]["toxics"]

    # A lower bound only: the toxic adds at least its latency, while the time without it
    # varies with the machine's load (subtracting it failed under a CPU hog).
    assert delayed_s >= LATENCY_MS / 1000 * 0.95
    assert toxiproxy_api.proxies()["web"]["toxics"] == []


def test_toxics_are_removed_when_the_block_raises(
    toxiproxy_api: ToxiproxyApi, proxy_url: str
) -> None:
    with (
        pytest.raises(RuntimeError),
        toxiproxy_api.toxics("web", Toxic("latency", attributes={"latency": 10})),
    ):
        raise RuntimeError("scenario failed")

    assert toxiproxy_api.proxies()["web"]["toxics"] == []


def test_a_disabled_proxy_refuses_connections_until_the_block_ends(
    toxiproxy_api: ToxiproxyApi, proxy_url: str
) -> None:
    with toxiproxy_api.disabled("web"), pytest.raises(httpx.ConnectError):
        httpx.get(proxy_url, timeout=2.0)

    assert fetch_seconds(proxy_url) < 2.0


def test_an_invalid_toxic_is_refused_with_the_servers_reason(
    toxiproxy_api: ToxiproxyApi, proxy_url: str
) -> None:
    with pytest.raises(ValueError, match="refused toxic"):
        toxiproxy_api.add_toxic("web", Toxic("no_such_toxic"))


def test_two_servers_disabled_from_two_threads_at_once_each_disable_their_own(
    toxiproxy_api: ToxiproxyApi, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The gate's resilience stage takes both stacks' database links down at the same
    moment, each from a thread: no call may reach the other stack's server."""
    with toxiproxy(tmp_path_factory.mktemp("second-toxiproxy")) as second:
        servers = (toxiproxy_api, second)
        for api in servers:
            api.create_proxy("shared-name", f"127.0.0.1:{free_port()}", upstream)
        barrier = threading.Barrier(len(servers))

        def flip(api: ToxiproxyApi, enabled: bool) -> None:
            barrier.wait()
            api.set_enabled("shared-name", enabled)

        with ThreadPoolExecutor(len(servers)) as pool:
            for attempt in range(20):
                enabled = attempt % 2 == 1
                list(pool.map(flip, servers, [enabled] * len(servers)))
                states = [api.proxies()["shared-name"]["enabled"] for api in servers]
                assert states == [enabled, enabled], f"attempt {attempt}"


def test_enabling_a_proxy_that_does_not_exist_says_so(toxiproxy_api: ToxiproxyApi) -> None:
    with pytest.raises(KeyError, match="no toxiproxy proxy named 'nowhere'"):
        toxiproxy_api.set_enabled("nowhere", False)
