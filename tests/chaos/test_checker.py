"""The checker's verdicts, proven on hand-made histories."""

from __future__ import annotations

import pytest

from chaos.checker import (
    availability,
    duplicated_writes,
    error_shapes,
    latency_bound,
    lost_writes,
    read_your_writes,
    recovered_writes,
    recovery,
    recovery_time_s,
)
from chaos.history import Outcome, PostStep, RequestRecord, Step, StoredPost, WriteRecord


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


class TestDuplicated:
    def test_a_key_stored_twice_fails(self) -> None:
        writes = [write("a", Outcome.ACKED, 1), write("b", Outcome.ACKED, 3)]

        verdict = duplicated_writes(writes, [row(1, "a"), row(2, "a"), row(3, "b")])

        assert not verdict.passed
        assert verdict.figures == {"duplicated": 1, "extra_rows": 1, "example": "title-a"}

    def test_rows_of_other_runs_are_not_counted(self) -> None:
        verdict = duplicated_writes(
            [write("a", Outcome.ACKED, 1)], [row(1, "a"), row(2, "x"), row(3, "x")]
        )

        assert verdict.passed


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


class TestLatency:
    def test_p99_within_bound_passes_and_beyond_fails(self) -> None:
        requests = [request(i * 0.01, 201, latency_s=0.1) for i in range(99)]
        requests.append(request(1.0, 504, latency_s=5.0))
        requests.append(request(1.1, 504, latency_s=5.0))

        assert latency_bound(requests[:99], bound_ms=110).passed
        verdict = latency_bound(requests, bound_ms=110)
        assert not verdict.passed
        assert verdict.figures["max_ms"] == pytest.approx(5000, rel=1e-3)

    def test_a_stall_hidden_in_the_whole_runs_p99_fails_within_the_fault_window(self) -> None:
        healthy = [request(i * 0.01, 200, latency_s=0.01) for i in range(1000)]
        stalled = [request(5.0, 200, latency_s=3.0), request(5.0, 200, latency_s=3.0)]
        requests = healthy + stalled

        assert latency_bound(requests, bound_ms=110).passed
        verdict = latency_bound(requests, bound_ms=110, fault_window_s=(5.0, 6.0))
        assert not verdict.passed
        assert verdict.figures["fault_p99_ms"] == pytest.approx(3000, rel=1e-2)

    def test_no_request_at_all_passes_with_no_figure(self) -> None:
        assert latency_bound([], bound_ms=10).figures["p99_ms"] is None


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

        assert not availability(requests, minimum=0.99).passed
        assert availability(requests, minimum=0.98).passed
        assert availability(requests, minimum=None).passed


class TestRecovery:
    def test_recovery_is_the_first_window_after_which_success_stays_high(self) -> None:
        failing = [request(10.0 + i * 0.01, 503, retry_after=True) for i in range(30)]
        healthy = [request(10.35 + i * 0.01, 200) for i in range(300)]

        seconds = recovery_time_s(failing + healthy, fault_removed_s=10.0)

        assert seconds == pytest.approx(0.3)

    def test_a_long_healthy_tail_does_not_hide_early_failures(self) -> None:
        failing = [request(i * 0.01, 503, retry_after=True) for i in range(30)]
        healthy = [request(0.3 + i * 0.01, 200) for i in range(5000)]

        assert recovery_time_s(failing + healthy, fault_removed_s=0.0) == pytest.approx(0.3)

    def test_a_single_late_failure_among_many_successes_does_not_reset_recovery(self) -> None:
        healthy = [request(i * 0.005, 200) for i in range(600)]
        healthy[500] = request(2.5, 504)

        assert recovery_time_s(healthy, fault_removed_s=0.0) == 0.0

    def test_never_recovering_fails_the_bound(self) -> None:
        failing = [request(i * 0.01, 503, retry_after=True) for i in range(100)]

        assert recovery_time_s(failing, fault_removed_s=0.0) is None
        assert not recovery(failing, fault_removed_s=0.0, bound_s=2.0).passed

    def test_recovery_slower_than_the_bound_fails(self) -> None:
        requests = [request(i * 0.01, 503, retry_after=True) for i in range(300)]
        requests += [request(3.0 + i * 0.01, 200) for i in range(300)]

        verdict = recovery(requests, fault_removed_s=0.0, bound_s=2.0)

        assert not verdict.passed
        assert verdict.figures["recovery_s"] == pytest.approx(3.0)


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
