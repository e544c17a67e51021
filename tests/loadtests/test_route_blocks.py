"""The gate's route blocks: which route runs when, the gaps, and where CPU is read."""

from __future__ import annotations

import itertools

import pytest

from loadtests.route_blocks import (
    GAP_S,
    LEAD_S,
    ROUTES,
    RouteBlocks,
    format_block_s,
    parse_block_s,
)


def test_every_route_gets_its_block_in_order_then_the_next_round() -> None:
    blocks = RouteBlocks(100.0, (1.0,), cycles=2)

    assert [b.route for b in blocks] == [*ROUTES, *ROUTES]
    first = blocks.block(0)
    assert first.start_s == pytest.approx(100.0 + LEAD_S)
    assert first.active_until_s == pytest.approx(first.end_s - GAP_S)
    assert blocks.duration_s == pytest.approx(LEAD_S + 2 * len(ROUTES))


def test_at_gives_the_route_or_the_wait_until_the_next_block() -> None:
    blocks = RouteBlocks(0.0, (1.0,), cycles=1)

    assert blocks.at(0.0) == (None, pytest.approx(LEAD_S))
    assert blocks.at(LEAD_S + 0.1) == (ROUTES[0], 0.0)
    assert blocks.at(LEAD_S + 1.1) == (ROUTES[1], 0.0)
    in_gap = LEAD_S + 1.0 - GAP_S / 2
    assert blocks.at(in_gap) == (None, pytest.approx(GAP_S / 2))
    route, _ = blocks.at(blocks.duration_s + 0.5)
    assert route is None  # after the last round nothing runs


def test_blocks_of_their_own_length_per_route() -> None:
    lengths = tuple(1.0 + i / 10 for i in range(len(ROUTES)))
    blocks = RouteBlocks(0.0, lengths, cycles=2)

    starts = [b.start_s for b in blocks]
    assert starts[1] - starts[0] == pytest.approx(lengths[0])
    assert starts[len(ROUTES)] - starts[0] == pytest.approx(sum(lengths))
    middle_of_last = blocks.block(len(ROUTES) - 1).start_s + 0.1
    assert blocks.at(middle_of_last)[0] == ROUTES[-1]
    assert parse_block_s(format_block_s(lengths)) == pytest.approx(lengths)


def test_the_cpu_window_runs_from_gap_middle_to_gap_middle() -> None:
    blocks = list(RouteBlocks(0.0, (1.0,), cycles=1))

    for block, following in itertools.pairwise(blocks):
        start, end = block.cpu_window
        assert block.active_until_s < end < block.end_s
        assert end == pytest.approx(following.cpu_window[0])  # no CPU counted twice
        assert start < block.start_s


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"block_s": (GAP_S,)}, "no time after its gap"),
        ({"block_s": (1.0, 2.0)}, "2 block lengths for 9 routes"),
        ({"cycles": 0}, "at least one"),
    ],
)
def test_impossible_schedules_are_refused(kwargs: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        RouteBlocks(0.0, **kwargs)
