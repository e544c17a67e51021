"""The checker's verdicts, proven on hand-made histories."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chaos.checker import (
    RECOVERY_SPAN_S,
    PhaseBounds,
    availability,
    by_phase,
    duplicated_writes,
    error_shapes,
    latency_bound,
    lost_updates,
    lost_writes,
    observation_needed_s,
    read_your_writes,
    recovered_writes,
    recovery,
    recovery_time_s,
    rejected_writes,
    token_rotation,
)
from chaos.history import (
    Outcome,
    PostStep,
    RequestRecord,
    Step,
    StoredPost,
    UpdateRecord,
    WriteRecord,
    edit_content,
)


def write(key: str, outcome: Outcome, post_id: int | None = None) -> WriteRecord:
    return WriteRecord(key, f"title-{key}", f"content-{key}", outcome, post_id)


def row(post_id: int, key: str, content: str | None = None) -> StoredPost:
    return StoredPost(post_id, f"title-{key}", content or f"content-{key}")


def request(started_s: float, status: int | None, latency_s: float = 0.01, **kw) -> RequestRecord:
    return RequestRecord("write", started_s, started_s + latency_s, status, **kw)


class TestLost:
    def test_every_acknowledged_write_stored_passes(self) -> None:
        writes = [write("a", Outcome.ACKED, 1), write("b", Outcome.ACKED, 2)]

        verdict = lost_writes(writes, [row(1, "a"), row(2, "b")])

        assert verdict.passed
        assert verdict.figures["acked"] == 2

    def test_an_acknowledged_write_missing_fails(self) -> None:
        writes = [write("a", Outcome.ACKED, 1), write("b", Outcome.ACKED, 2)]

        verdict = lost_writes(writes, [row(1, "a")])

        assert not verdict.passed
        assert verdict.figures["lost"] == 1
        assert verdict.figures["example"] == "b"

    def test_an_acknowledged_write_stored_with_other_content_counts_as_lost(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED, 1)], [row(1, "a", content="mangled")])

        assert not verdict.passed

    def test_an_acknowledged_id_holding_another_row_counts_as_lost(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED, 1)], [row(1, "other"), row(2, "a")])

        assert not verdict.passed

    def test_failed_and_indeterminate_writes_may_be_absent(self) -> None:
        writes = [write("a", Outcome.FAILED), write("b", Outcome.INDETERMINATE)]

        assert lost_writes(writes, []).passed

    def test_an_acknowledgement_without_an_id_is_lost_even_if_the_title_is_stored(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED)], [row(1, "a")])

        assert not verdict.passed

    def test_a_copy_under_another_id_does_not_excuse_a_missing_acknowledged_row(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED, 1)], [row(2, "a")])

        assert not verdict.passed

    def test_a_post_its_client_deleted_may_be_gone(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED, 1)], [], deleted={"title-a"})

        assert verdict.passed
        assert verdict.figures["acked"] == 0

    def test_a_post_its_client_updated_keeps_its_title_not_its_first_content(self) -> None:
        writes = [write("a", Outcome.ACKED, 1), write("b", Outcome.ACKED, 2)]

        verdict = lost_writes(writes, [row(1, "a", "v2"), row(2, "b", "v2")], updated={"title-a"})

        assert not verdict.passed
        assert verdict.figures["example"] == "b"

    def test_an_updated_post_missing_is_lost(self) -> None:
        verdict = lost_writes([write("a", Outcome.ACKED, 1)], [], updated={"title-a"})

        assert not verdict.passed


class TestRejected:
    def test_a_write_answered_4xx_and_absent_passes(self) -> None:
        verdict = rejected_writes(
            [write("a", Outcome.FAILED), write("b", Outcome.ACKED, 1)], [row(1, "b")]
        )

        assert verdict.passed
        assert verdict.figures["rejected"] == 1

    def test_a_write_answered_4xx_but_stored_fails(self) -> None:
        verdict = rejected_writes([write("a", Outcome.FAILED)], [row(5, "a")])

        assert not verdict.passed
        assert verdict.figures["example"] == "a"


class TestDuplicated:
    def test_a_key_stored_twice_fails(self) -> None:
        writes = [write("a", Outcome.ACKED, 1), write("b", Outcome.ACKED, 3)]

        verdict = duplicated_writes(writes, [row(1, "a"), row(2, "a"), row(3, "b")])

        assert not verdict.passed
        assert verdict.figures == {"duplicated": 1, "extra_rows": 1, "example": "title-a"}

    def test_a_copy_left_after_its_client_deleted_the_acknowledged_one_fails(self) -> None:
        """A read-your-writes client deletes the id it got; a twin under another id stays."""
        verdict = duplicated_writes([write("a", Outcome.ACKED, 1)], [row(2, "a")])

        assert not verdict.passed
        assert verdict.figures["extra_rows"] == 1

    def test_an_unacknowledged_create_may_be_stored_once_not_twice(self) -> None:
        writes = [write("a", Outcome.INDETERMINATE), write("b", Outcome.INDETERMINATE)]

        verdict = duplicated_writes(writes, [row(1, "a"), row(2, "b"), row(3, "b")])

        assert verdict.figures == {"duplicated": 1, "extra_rows": 1, "example": "title-b"}

    def test_rows_of_other_runs_are_not_counted(self) -> None:
        verdict = duplicated_writes(
            [write("a", Outcome.ACKED, 1)], [row(1, "a"), row(2, "x"), row(3, "x")]
        )

        assert verdict.passed


def update(token: str, based_on: str, outcome: Outcome = Outcome.ACKED) -> UpdateRecord:
    return UpdateRecord("shared", token, based_on, outcome)


def shared(content: str) -> list[StoredPost]:
    return [StoredPost(1, "shared", content)]


class TestLostUpdates:
    def test_updates_each_based_on_the_last_pass(self) -> None:
        updates = [update("a1", "c"), update("b1", "a1"), update("a2", "b1")]

        verdict = lost_updates(updates, shared(edit_content("a2", "b1")))

        assert verdict.passed
        assert verdict.figures["acked"] == 3

    def test_a_retry_that_overwrote_a_newer_acknowledged_update_fails(self) -> None:
        """a1 is based on c, lands, its answer is lost; b1 is based on a1 and acknowledged;
        a1's retry is applied again on top: b1 is gone though nothing was based on it."""
        updates = [update("a1", "c"), update("b1", "a1")]

        verdict = lost_updates(updates, shared(edit_content("a1", "c")))

        assert not verdict.passed
        assert verdict.figures["lost"] == 1
        assert verdict.figures["example"] == "b1"

    def test_two_updates_on_one_version_both_acknowledged_lose_one(self) -> None:
        updates = [update("a1", "c"), update("b1", "c")]

        verdict = lost_updates(updates, shared(edit_content("b1", "c")))

        assert verdict.figures["lost"] == 1

    def test_an_indeterminate_update_may_be_in_the_chain_or_not(self) -> None:
        updates = [
            update("a1", "c", Outcome.INDETERMINATE),
            update("b1", "a1"),
            update("a2", "c", Outcome.INDETERMINATE),
        ]

        assert lost_updates(updates, shared(edit_content("b1", "a1"))).passed

    def test_a_refused_update_found_applied_fails(self) -> None:
        updates = [update("a1", "c"), update("b1", "a1", Outcome.FAILED)]

        verdict = lost_updates(updates, shared(edit_content("b1", "a1")))

        assert not verdict.passed
        assert verdict.figures["refused_applied"] == 1

    def test_a_missing_post_loses_every_acknowledged_update(self) -> None:
        verdict = lost_updates([update("a1", "c"), update("b1", "a1")], [])

        assert verdict.figures["lost"] == 2

    def test_a_cycle_in_the_bases_ends_the_walk(self) -> None:
        updates = [update("a1", "b1"), update("b1", "a1"), update("x", "c")]

        verdict = lost_updates(updates, shared(edit_content("a1", "b1")))

        assert verdict.figures["lost"] == 1


class TestRecovered:
    def test_indeterminate_writes_that_landed_are_reported_not_failed(self) -> None:
        writes = [
            write("a", Outcome.INDETERMINATE),
            write("b", Outcome.INDETERMINATE),
            write("c", Outcome.ACKED, 3),
        ]

        verdict = recovered_writes(writes, [row(1, "a"), row(3, "c")])

        assert verdict.passed
        assert verdict.figures == {"indeterminate": 2, "landed": 1}


BOUND = PhaseBounds(before=110, during=110, after=110)


class TestLatency:
    def test_p99_within_bound_passes_and_beyond_fails(self) -> None:
        requests = [request(i * 0.01, 201, latency_s=0.1) for i in range(99)]
        requests.append(request(1.0, 504, latency_s=5.0))
        requests.append(request(1.1, 504, latency_s=5.0))

        assert latency_bound(requests[:99], BOUND).passed
        verdict = latency_bound(requests, BOUND)
        assert not verdict.passed
        assert verdict.figures["max_ms"] == pytest.approx(5000, rel=1e-3)

    def test_a_stall_hidden_in_the_whole_runs_p99_fails_within_the_fault_window(self) -> None:
        healthy = [request(i * 0.01, 200, latency_s=0.01) for i in range(1000)]
        stalled = [request(5.0, 200, latency_s=3.0), request(5.0, 200, latency_s=3.0)]
        requests = healthy + stalled

        assert latency_bound(requests, BOUND).passed
        verdict = latency_bound(requests, BOUND, fault_window_s=(5.0, 6.0))
        assert not verdict.passed
        assert verdict.figures["during_p99_ms"] == pytest.approx(3000, rel=1e-2)
        assert verdict.figures["failing"] == "during"

    def test_a_stall_after_the_fault_fails_even_with_a_clean_fault_window(self) -> None:
        requests = [request(i * 0.01, 200) for i in range(600)]
        requests += [request(6.5, 200, latency_s=4.0)] * 3

        verdict = latency_bound(requests, BOUND, fault_window_s=(2.0, 4.0))

        assert not verdict.passed
        assert verdict.figures["failing"] == "after"

    def test_each_phase_has_its_own_bound(self) -> None:
        requests = [request(2.0 + i * 0.01, 200, latency_s=0.3) for i in range(100)]
        looser_during = PhaseBounds(before=110, during=400, after=110)

        assert not latency_bound(requests, BOUND, fault_window_s=(2.0, 4.0)).passed
        assert latency_bound(requests, looser_during, fault_window_s=(2.0, 4.0)).passed

    def test_no_request_at_all_passes_with_no_figure(self) -> None:
        verdict = latency_bound([], BOUND)

        assert verdict.passed
        assert verdict.figures["before_p99_ms"] is None


class TestErrors:
    def test_503_with_json_and_retry_after_and_504_with_json_pass(self) -> None:
        requests = [request(0, 503, retry_after=True), request(0, 504), request(0, 201)]

        assert error_shapes(requests, unanswered_allowed=False).passed

    @pytest.mark.parametrize(
        "bad",
        [
            request(0, 500),
            request(0, 502),
            request(0, 504, json_body=False),
            request(0, 503, retry_after=False),
        ],
    )
    def test_a_500_a_non_json_body_or_a_503_without_retry_after_fails(
        self, bad: RequestRecord
    ) -> None:
        assert not error_shapes([request(0, 201), bad], unanswered_allowed=False).passed

    def test_unanswered_requests_fail_unless_the_scenario_allows_them(self) -> None:
        requests = [request(0, None)]

        assert not error_shapes(requests, unanswered_allowed=False).passed
        assert error_shapes(requests, unanswered_allowed=True).passed


class TestAvailability:
    def test_below_the_minimum_fails(self) -> None:
        requests = [request(0, 201)] * 98 + [request(0, 503, retry_after=True)] * 2

        assert not availability(requests, PhaseBounds(before=0.99)).passed
        assert availability(requests, PhaseBounds(before=0.98)).passed
        assert availability(requests, PhaseBounds()).passed

    def test_a_bad_fault_window_is_not_diluted_by_healthy_warmup_and_observation(self) -> None:
        warmup = [request(i * 0.01, 201) for i in range(1000)]
        during = [request(10.0 + i * 0.01, 201) for i in range(86)]
        during += [request(10.9, 503, retry_after=True)] * 2  # 97.7% during the fault
        after = [request(12.0 + i * 0.01, 201) for i in range(1000)]
        requests = warmup + during + after
        minimum = PhaseBounds(before=0.99, during=0.99)

        verdict = availability(requests, minimum, fault_window_s=(10.0, 11.0))

        assert availability(requests, PhaseBounds(before=0.99)).passed  # one pool: 99.9%
        assert not verdict.passed
        assert verdict.figures["during_success_rate"] == pytest.approx(0.9773, abs=1e-4)
        assert verdict.figures["failing"] == "during"

    def test_failures_before_the_fault_fail_the_before_bound(self) -> None:
        requests = [request(0.0, 503, retry_after=True)] * 5 + [request(0.1, 201)] * 95

        verdict = availability(requests, PhaseBounds(before=0.99), fault_window_s=(1.0, 2.0))

        assert verdict.figures["failing"] == "before"


class TestRecovery:
    def test_recovery_is_the_first_window_after_which_success_stays_high(self) -> None:
        failing = [request(10.0 + i * 0.01, 503, retry_after=True) for i in range(30)]
        healthy = [request(10.35 + i * 0.01, 200) for i in range(300)]

        seconds = recovery_time_s(failing + healthy, fault_removed_s=10.0, bound_ms=110)

        assert seconds == pytest.approx(0.35)  # the first good request started then

    def test_a_long_healthy_tail_does_not_hide_early_failures(self) -> None:
        failing = [request(i * 0.01, 503, retry_after=True) for i in range(30)]
        healthy = [request(0.3 + i * 0.01, 200) for i in range(5000)]

        assert recovery_time_s(
            failing + healthy, fault_removed_s=0.0, bound_ms=110
        ) == pytest.approx(0.3)

    def test_a_single_late_failure_among_many_successes_does_not_reset_recovery(self) -> None:
        healthy = [request(i * 0.005, 200) for i in range(600)]
        healthy[500] = request(2.5, 504)

        assert recovery_time_s(healthy, fault_removed_s=0.0, bound_ms=110) == 0.0

    def test_never_recovering_fails_the_bound(self) -> None:
        failing = [request(i * 0.01, 503, retry_after=True) for i in range(100)]

        assert recovery_time_s(failing, fault_removed_s=0.0, bound_ms=110) is None
        assert not recovery(failing, fault_removed_s=0.0, bound_s=2.0, latency_bound_ms=110).passed

    def test_recovery_slower_than_the_bound_fails(self) -> None:
        requests = [request(i * 0.01, 503, retry_after=True) for i in range(300)]
        requests += [request(3.0 + i * 0.01, 200) for i in range(300)]

        verdict = recovery(requests, fault_removed_s=0.0, bound_s=2.0, latency_bound_ms=110)

        assert not verdict.passed
        assert verdict.figures["recovery_s"] == pytest.approx(3.0)

    def test_a_freeze_right_after_the_removal_is_no_instant_recovery(self) -> None:
        # Every client hangs for 4 s on requests started just after the removal: no
        # completions at all, then slow successes, then fast ones.
        frozen = [request(0.01 * i, 200, latency_s=4.0 - 0.01 * i) for i in range(8)]
        healthy = [request(4.0 + i * 0.01, 200) for i in range(300)]

        seconds = recovery_time_s(frozen + healthy, fault_removed_s=0.0, bound_ms=110)

        assert seconds == pytest.approx(4.0, abs=0.11)

    def test_recovery_starts_at_the_first_good_request_started_after_the_removal(self) -> None:
        during = [request(-0.5 + i * 0.01, 200) for i in range(50)]  # started before removal
        late = [request(0.5 + i * 0.01, 200) for i in range(300)]

        seconds = recovery_time_s(during + late, fault_removed_s=0.0, bound_ms=110)

        assert seconds == pytest.approx(0.5, abs=0.11)

    def test_successes_slower_than_the_bound_are_not_recovery(self) -> None:
        slow = [request(i * 0.01, 200, latency_s=0.5) for i in range(300)]

        assert recovery_time_s(slow, fault_removed_s=0.0, bound_ms=110) is None

    def test_clients_stalled_past_the_removal_are_no_instant_recovery(self) -> None:
        # Every client is stuck on a request sent during the fault until 4 s after its
        # removal: nothing starts or completes in between.
        stuck = [request(-0.5, 504, latency_s=4.5)] * 8
        healthy = [request(4.0 + i * 0.01, 200) for i in range(300)]

        seconds = recovery_time_s(stuck + healthy, fault_removed_s=0.0, bound_ms=110)

        assert seconds == pytest.approx(4.0, abs=0.11)

    def test_a_recovery_at_the_bound_is_seen_when_observed_as_long_as_needed(self) -> None:
        def observed_for(seconds: float) -> list[RequestRecord]:
            """Failing fast for 1.95 s (a breaker re-opened at the thaw), then healthy."""
            starts = [i * 0.01 for i in range(int(seconds * 100))]
            return [
                request(s, 503, retry_after=True) if s < 1.95 else request(s, 200) for s in starts
            ]

        long_enough = observed_for(observation_needed_s(2.0))
        verdict = recovery(long_enough, fault_removed_s=0.0, bound_s=2.0, latency_bound_ms=110)

        assert verdict.passed
        assert verdict.figures["recovery_s"] == pytest.approx(2.0)
        # Observed for the bound alone, the last whole window still holds failures.
        assert recovery_time_s(observed_for(2.0), fault_removed_s=0.0, bound_ms=110) is None

    def test_an_unbounded_recovery_needs_no_observation(self) -> None:
        assert observation_needed_s(None) == 0.0


def test_a_request_in_flight_when_the_fault_begins_belongs_to_the_fault() -> None:
    phases = by_phase(
        [request(0.5, 200), request(0.95, 503, latency_s=0.1), request(2.0, 200)],
        fault_window_s=(1.0, 2.0),
    )

    assert [len(phases[p]) for p in ("before", "during", "after")] == [1, 1, 1]


def test_a_stall_after_a_first_good_answer_is_no_recovery() -> None:
    # One quick success right after the removal, then nobody gets to send for 3 s.
    requests = [request(0.0, 200)]
    requests += [request(3.0 + i * 0.01, 200) for i in range(300)]

    seconds = recovery_time_s(requests, fault_removed_s=0.0, bound_ms=110)

    assert seconds is not None
    assert seconds >= 3.0 - RECOVERY_SPAN_S


def test_one_slow_request_in_a_thin_window_does_not_reset_recovery() -> None:
    # A loaded machine: 20 requests a second, one of them slow near the end of the run.
    requests = [request(i * 0.05, 200) for i in range(60)]
    requests[50] = request(2.5, 200, latency_s=1.0)

    assert recovery_time_s(requests, fault_removed_s=0.0, bound_ms=110) == 0.0


def test_a_thin_window_of_mostly_bad_requests_is_unhealthy() -> None:
    requests = [request(i * 0.05, 200) for i in range(60)]
    requests[50] = request(2.5, 503, retry_after=True)
    requests[51] = request(2.55, 503, retry_after=True)

    assert recovery_time_s(requests, fault_removed_s=0.0, bound_ms=110) is None


def steps(*script: tuple[Step, int | None, int | None]) -> list[PostStep]:
    """One client's steps on post "p", one per 10 ms: (step, status, version)."""
    return [
        PostStep("p", step, i * 0.01, i * 0.01 + 0.005, status, version)
        for i, (step, status, version) in enumerate(script)
    ]


C, U, D, R = Step.CREATE, Step.UPDATE, Step.DELETE, Step.READ


class TestReadYourWrites:
    def test_reads_of_the_latest_acknowledged_version_pass(self) -> None:
        history = steps((C, 201, 0), (R, 200, 0), (U, 200, 1), (R, 200, 1), (D, 204, None))
        verdict = read_your_writes([*history, PostStep("p", R, 1.0, 1.01, 404)])

        assert verdict.passed
        assert verdict.figures["reads_checked"] == 3

    def test_an_older_version_after_an_acknowledged_update_is_stale(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (R, 200, 0), (U, 200, 1), (R, 200, 0)))

        assert not verdict.passed
        assert verdict.figures["old_version"] == 1
        assert verdict.figures["stale_reads"] == 1

    def test_the_post_after_an_acknowledged_delete_is_stale(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (D, 204, None), (R, 200, 0)))

        assert not verdict.passed
        assert verdict.figures["deleted"] == 1

    def test_a_404_after_an_acknowledged_create_is_stale(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (R, 404, None)))

        assert not verdict.passed
        assert verdict.figures["missing"] == 1

    def test_a_newer_version_from_an_unanswered_update_is_allowed(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (U, 503, 1), (R, 200, 1), (R, 200, 0)))

        assert verdict.passed

    def test_either_answer_after_an_unanswered_delete_is_allowed(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (D, None, None), (R, 404, None), (R, 200, 0)))

        assert verdict.passed

    def test_failed_reads_are_not_counted(self) -> None:
        verdict = read_your_writes(steps((C, 201, 0), (U, 200, 1), (R, 503, None), (R, None, None)))

        assert verdict.passed
        assert verdict.figures["reads_checked"] == 0

    def test_reads_of_a_post_whose_create_failed_say_nothing(self) -> None:
        verdict = read_your_writes(steps((C, 503, 0), (R, 404, None)))

        assert verdict.passed

    def test_a_404_to_a_delete_says_the_post_is_gone(self) -> None:
        gone = read_your_writes(steps((C, 201, 0), (D, 404, None), (R, 404, None)))
        back = read_your_writes(steps((C, 201, 0), (D, 404, None), (R, 200, 0)))

        assert gone.passed
        assert not back.passed


class TestTokenRotation:
    CODES = ("database_auth_rejected", "circuit_open")

    def refused(self, started_s: float, code: str = "database_auth_rejected") -> RequestRecord:
        return request(started_s, 503, retry_after=True, error_code=code)

    def test_refusals_and_the_breaker_they_open_after_the_rotation_pass(self) -> None:
        requests = [request(0.5, 504), self.refused(1.5), self.refused(1.6, "circuit_open")]

        verdict = token_rotation(requests, 1.0, 503, self.CODES, rotating_from_s=0.9)

        assert verdict.passed
        assert verdict.figures["refused"] == 1

    @pytest.mark.parametrize(
        ("status", "code"), [(500, "database_error"), (503, "database_unavailable"), (None, None)]
    )
    def test_any_other_failure_after_the_rotation_fails(
        self, status: int | None, code: str | None
    ) -> None:
        requests = [self.refused(1.5), request(1.6, status, error_code=code)]

        assert not token_rotation(requests, 1.0, 503, self.CODES, rotating_from_s=0.9).passed

    def test_no_refusal_seen_means_no_rotation_and_fails(self) -> None:
        requests = [request(1.5, 200), self.refused(1.6, "circuit_open")]

        assert not token_rotation(requests, 1.0, 503, self.CODES, rotating_from_s=0.9).passed

    def test_a_ready_app_while_its_token_is_refused_fails(self) -> None:
        assert not token_rotation(
            [self.refused(1.5)], 1.0, 200, self.CODES, rotating_from_s=0.9
        ).passed

    def test_a_rotation_that_never_happened_fails(self) -> None:
        assert not token_rotation(
            [self.refused(1.5)], None, 503, self.CODES, rotating_from_s=None
        ).passed

    def test_refusals_of_requests_sent_while_the_server_restarted_count(self) -> None:
        """As on sqld: requests waiting out the restart are refused the moment it listens,
        before the harness has seen it answer; the breaker they open fails the rest."""
        waited = request(0.7, 503, retry_after=True, error_code="database_auth_rejected")
        waited = replace(waited, finished_s=1.02)
        requests = [waited, self.refused(1.5, "circuit_open"), self.refused(2.0, "circuit_open")]

        verdict = token_rotation(requests, 1.05, 503, self.CODES, rotating_from_s=0.6)

        assert verdict.passed
        assert verdict.figures["refused"] == 1

    def test_a_refusal_answered_before_the_rotation_began_does_not_count(self) -> None:
        early = replace(self.refused(0.2), finished_s=0.3)

        verdict = token_rotation([early], 1.05, 503, self.CODES, rotating_from_s=0.6)

        assert not verdict.passed
