"""Open-model load on Locust: requests at a constant arrival rate, timed from their intended start.

Closed-model users wait for each response before sending the next request, so a stalled
server also stalls the load and the stall's victims are never sent: their latency is
omitted (coordinated omission). Here request k is due at start + k / rate whatever
happened before; each runs in its own greenlet and its latency counts from when it was
due, so a backlog behind a stall shows in the percentiles.

Each request is reported once to Locust's statistics, under "<name> (open model)". The
service time Locust's HTTP client measured goes to a separate view of the recorder
(`exact.json`'s `service_time`), never summed with it. Requests still in flight when the
run stops are reported as censored (a failure to Locust, a lower bound to the recorder),
not dropped, so a stall at the very end still shows.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from typing import Any

import gevent
from gevent import Greenlet
from gevent.pool import Group
from locust import FastHttpUser, task
from locust.env import Environment
from locust.user.task import LOCUST_STATE_STOPPING

from loadtests.arrivals import ArrivalSchedule, Clock, censored, drive, failure, latency_ms
from loadtests.recorder import RECORDER

OPEN_SUFFIX = " (open model)"
SERVICE_SUFFIX = " (service time)"
REQUEST_TYPE = "GET"


class ServiceTimeView:
    """Stands in for `events.request` on the user's HTTP client: the client's own timing
    (service time) goes to the recorder's service view, out of Locust's statistics."""

    def fire(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        RECORDER.record_service(request_type, name, response_time, exception is not None)


class OpenModelUser(FastHttpUser):
    """Sends `--arrival-rate` requests/s (shared among the running open users)."""

    abstract = True
    concurrency = 1000  # connections; a stall must not cap the requests in flight
    clock: Clock = staticmethod(time.perf_counter)
    name: str  # the endpoint as reported, e.g. "/posts/{id}"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.client.request_event = ServiceTimeView()
        self._requests = Group()  # not `_group`: Locust's own attribute
        self._in_flight: dict[Greenlet, float] = {}  # greenlet -> when its request was due

    @abstractmethod
    def send(self) -> tuple[int, int]:
        """Make one request (named self.name + SERVICE_SUFFIX); return (status, length)."""

    @task
    def arrive(self) -> None:
        options = self.environment.parsed_options
        rate_per_s = float(options.arrival_rate) / max(1, int(options.num_users or 1))
        schedule = ArrivalSchedule(rate_per_s, self.clock())
        drive(schedule, math.inf, self.clock, gevent.sleep, self._launch, self._running)

    def _running(self) -> bool:
        return self._state != LOCUST_STATE_STOPPING

    def on_stop(self) -> None:
        """Every request still in flight is reported as censored at this moment, then ended."""
        for waited_ms, outcome in censored(self._in_flight.values(), self.clock()):
            self._report(waited_ms, 0, outcome)
        self._in_flight.clear()
        self._requests.kill(block=False)

    def _launch(self, intended_s: float) -> None:
        self._in_flight[self._requests.spawn(self._timed, intended_s)] = intended_s

    def _timed(self, intended_s: float) -> None:
        status, length = self.send()
        if self._in_flight.pop(gevent.getcurrent(), None) is not None:  # not censored yet
            self._report(latency_ms(intended_s, self.clock()), length, failure(status))

    def _report(self, response_time_ms: float, length: int, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=REQUEST_TYPE,
            name=self.name + OPEN_SUFFIX,
            response_time=response_time_ms,
            response_length=length,
            exception=exception,
            context={},
        )
