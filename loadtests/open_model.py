"""Open-model load on Locust: requests at a constant arrival rate, timed from their intended start.

Closed-model users wait for each response before sending the next request, so a stalled
server also stalls the load and the stall's victims are never sent: their latency is
omitted (coordinated omission). Here request k is due at start + k / rate whatever
happened before; each runs in its own greenlet and its latency counts from when it was
due, so a backlog behind a stall shows in the percentiles.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod

import gevent
from gevent.pool import Group
from locust import FastHttpUser, task

from loadtests.arrivals import ArrivalSchedule, Clock, drive, failure, latency_ms

OPEN_SUFFIX = " (open model)"
SERVICE_SUFFIX = " (service time)"


class OpenModelUser(FastHttpUser):
    """Sends `--arrival-rate` requests/s (shared among the running open users).

    Each request reports twice through events.request: under its own name with the
    service time Locust measured, and with OPEN_SUFFIX timed from its intended start.
    """

    abstract = True
    concurrency = 1000  # connections; a stall must not cap the requests in flight
    clock: Clock = staticmethod(time.perf_counter)

    @abstractmethod
    def send(self) -> tuple[str, int, int]:
        """Make one request (named with SERVICE_SUFFIX); return (name, status, length)."""

    @task
    def arrive(self) -> None:
        options = self.environment.parsed_options
        rate_per_s = float(options.arrival_rate) / max(1, int(options.num_users or 1))
        schedule = ArrivalSchedule(rate_per_s, self.clock())
        self._in_flight = Group()
        drive(schedule, math.inf, self.clock, gevent.sleep, self._launch)

    def on_stop(self) -> None:
        in_flight: Group | None = getattr(self, "_in_flight", None)
        if in_flight is not None:
            in_flight.kill(block=False)

    def _launch(self, intended_s: float) -> None:
        self._in_flight.spawn(self._timed, intended_s)

    def _timed(self, intended_s: float) -> None:
        name, status, length = self.send()
        self.environment.events.request.fire(
            request_type="GET",
            name=name.removesuffix(SERVICE_SUFFIX) + OPEN_SUFFIX,
            response_time=latency_ms(intended_s, self.clock()),
            response_length=length,
            exception=failure(status),
            context={},
        )
