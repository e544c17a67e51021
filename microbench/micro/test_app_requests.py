"""Whole requests through the app (fake database): the figures the app's CPU gains show in.

Each round is BURST requests; divide the times by BURST for one request.
"""

from __future__ import annotations

from collections.abc import Callable

from microbench.micro.conftest import AsgiDriver, post_body

MakeDriver = Callable[..., AsgiDriver]


def test_get_post_no_cache(benchmark, make_driver: MakeDriver) -> None:
    driver = make_driver(cache_enabled=False)
    benchmark(driver.burst, "GET", "/posts/7")


def test_create_post_unbatched(benchmark, make_driver: MakeDriver) -> None:
    driver = make_driver(batch_enabled=False)
    benchmark(driver.burst, "POST", "/posts", post_body(), 201)


def test_healthz(benchmark, make_driver: MakeDriver) -> None:
    """The framework's floor: routing and middleware with no database call."""
    benchmark(make_driver().burst, "GET", "/healthz")
