"""What a scenario is: the faults it injects on which link, and what must still hold."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chaos.contention import LockHolder
from chaos.process_faults import ProcessFault
from chaos.token_rotation import TokenRotation
from harness.network import Link
from harness.toxiproxy import Toxic


@dataclass(frozen=True)
class Outage:
    """The link's proxy is disabled (connections refused and dropped) for a while."""

    start_s: float  # from the start of the fault window
    duration_s: float


@dataclass(frozen=True)
class Fault:
    """Toxics and outages on one link for the fault window."""

    link: Link
    toxics: tuple[Toxic, ...] = ()
    outages: tuple[Outage, ...] = ()


@dataclass(frozen=True)
class Expectation:
    """The bounds this scenario's invariants are checked against in hardened mode."""

    # Added to deadline + 10% during the fault, where it adds latency outside the app's control.
    latency_allowance_ms: float = 0.0
    # Success rate of the requests started during the fault: set for intermittent faults only,
    # where retries must keep it at or above this.
    min_success_rate: float | None = None
    # Before the fault nothing is wrong yet. After it, the recovery invariant judges the
    # way back; a bound here also judges the whole observation.
    min_success_rate_before: float | None = 0.99
    min_success_rate_after: float | None = None
    recovery_bound_s: float | None = 2.0
    # Faults on the load -> app link can leave a request with no answer at all.
    unanswered_allowed: bool = False
    # The naive app (no retries, breaker, deadlines or idempotency) is expected to fail
    # a fault unless it needs none of those; reports say when a result is not as expected.
    naive_passes: bool = False
    # For a token rotation: the only `error.code`s a failure may have while the server
    # refuses the app's token (from its restart with the new key to the end of the run).
    # The first is the refusal's own, which must be seen at least once.
    failure_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    faults: tuple[Fault, ...] = ()
    expect: Expectation = field(default_factory=Expectation)
    # Flags for the local database server, for faults that are its own settings (a low
    # admission limit, say); scenarios that differ here run on separate stacks.
    server_args: tuple[str, ...] = ()
    # The same for sqld, whose flags differ; None: the scenario runs on the local server only.
    sqld_args: tuple[str, ...] | None = None
    # Another client taking the database's write lock during the fault window.
    lock_holder: LockHolder | None = None
    # Kills or pauses of the database or app processes during the fault window.
    process_faults: tuple[ProcessFault, ...] = ()
    # The database server's token key replaced during the fault window.
    token_rotation: TokenRotation | None = None
    # A fault of the one long-lived WebSocket a libsql:// URL opens, with no meaning over
    # http (TRANSPORT=http): skipped there, saying so.
    ws_only: bool = False

    @property
    def injects_faults(self) -> bool:
        return (
            self.lock_holder is not None
            or bool(self.process_faults)
            or self.token_rotation is not None
            or any(f.toxics or f.outages for f in self.faults)
        )

    @property
    def checks_tokens(self) -> bool:
        """Whether the database server must check tokens (sqld always does; the local one
        only when asked, as checking costs it CPU on every request)."""
        return self.token_rotation is not None

    def faults_link(self, link: Link) -> bool:
        """Whether the scenario acts on this link (a database process fault acts on `turso`)."""
        on_database = self.token_rotation is not None or any(
            p.target == "database" for p in self.process_faults
        )
        return any(f.link == link for f in self.faults) or (link == "turso" and on_database)

    @property
    def runs_on_sqld(self) -> bool:
        return not self.server_args or self.sqld_args is not None

    @property
    def needs_shared_cache(self) -> bool:
        """A fault on the app -> Redis link needs the stack to run Redis."""
        return self.faults_link("redis")

    def __add__(self, other: Scenario) -> Scenario:
        """Both scenarios' faults at once, checked against the looser of their bounds."""
        mine, theirs = self.expect, other.expect
        bounds = [b for b in (mine.recovery_bound_s, theirs.recovery_bound_s) if b is not None]
        expect = replace(
            mine,
            latency_allowance_ms=mine.latency_allowance_ms + theirs.latency_allowance_ms,
            min_success_rate=_looser(mine.min_success_rate, theirs.min_success_rate),
            min_success_rate_before=_looser(
                mine.min_success_rate_before, theirs.min_success_rate_before
            ),
            min_success_rate_after=_looser(
                mine.min_success_rate_after, theirs.min_success_rate_after
            ),
            recovery_bound_s=max(bounds) if bounds else None,
            unanswered_allowed=mine.unanswered_allowed or theirs.unanswered_allowed,
            naive_passes=mine.naive_passes and theirs.naive_passes,
            failure_codes=_codes_of_both(mine.failure_codes, theirs.failure_codes),
        )
        return Scenario(
            name=f"{self.name}+{other.name}",
            description=f"{self.description}; and {other.description}",
            faults=self.faults + other.faults,
            expect=expect,
            server_args=self.server_args + other.server_args,
            sqld_args=(
                None
                if not (self.runs_on_sqld and other.runs_on_sqld)
                else (self.sqld_args or ()) + (other.sqld_args or ())
            ),
            lock_holder=self.lock_holder or other.lock_holder,
            process_faults=self.process_faults + other.process_faults,
            token_rotation=self.token_rotation or other.token_rotation,
            ws_only=self.ws_only or other.ws_only,
        )


def _looser(mine: float | None, theirs: float | None) -> float | None:
    """The lower of two minimum rates; a phase judged by only one keeps that one's bound."""
    rates = [r for r in (mine, theirs) if r is not None]
    return min(rates) if rates else None


def _codes_of_both(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
    """Either scenario's codes, if both name some; with one unnamed, any code may come."""
    return tuple(dict.fromkeys(mine + theirs)) if mine and theirs else ()
