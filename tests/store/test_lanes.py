"""Lanes: routing by the engine's work estimate, shares by subject, a queued job's place."""

from __future__ import annotations

import math

import pytest

from engine.spec import resolve
from store.lanes import (
    ahead_in_share,
    lane_of,
    lane_position,
    parse_queue,
    route,
    share_of,
    wait_seconds,
    worker_processes,
    worker_queues,
)
from store.settings import Settings

PLAYGROUND = resolve({"preset": "playground"}).work_flops()


def test_a_job_at_the_threshold_is_interactive_and_one_above_it_is_batch() -> None:
    at = Settings(interactive_max_flops=PLAYGROUND)
    below = Settings(interactive_max_flops=math.nextafter(PLAYGROUND, 0.0))
    assert lane_of(PLAYGROUND, at) == "interactive"
    assert lane_of(PLAYGROUND, below) == "batch"
    assert route(at, PLAYGROUND, "ip:1.2.3.4").startswith("initlab.interactive.")
    assert route(below, PLAYGROUND, "ip:1.2.3.4").startswith("initlab.batch.")


def test_by_default_the_playground_is_interactive_and_an_mnist_epoch_is_batch() -> None:
    settings = Settings()
    mnist = resolve({"preset": "mnist"}).work_flops()
    nine = resolve({"preset": "nine_layers"}).work_flops()
    assert [lane_of(w, settings) for w in (PLAYGROUND, nine, mnist)] == [
        "interactive", "interactive", "batch",
    ]  # fmt: skip


def test_a_subject_always_gets_the_same_share_and_subjects_spread_over_all() -> None:
    shares = [share_of(f"ip:10.0.0.{i}", 8) for i in range(200)]
    assert shares == [share_of(f"ip:10.0.0.{i}", 8) for i in range(200)]
    assert set(shares) == set(range(8))
    assert max(shares.count(s) for s in range(8)) < 2 * 200 / 8  # roughly even


def test_queue_names_carry_lane_and_share() -> None:
    settings = Settings(celery_queue="q.x", lane_shares=3)
    assert worker_queues(settings.model_copy(update={"worker_lane": "batch"})) == [
        "q.x.batch.0", "q.x.batch.1", "q.x.batch.2",
    ]  # fmt: skip
    assert len(worker_queues(settings)) == 6
    assert parse_queue("q.x.batch.2") == ("batch", 2)
    assert parse_queue("q.x") is None and parse_queue("q.other.2") is None


def test_a_worker_takes_its_lanes_concurrency() -> None:
    settings = Settings(interactive_concurrency=3, batch_concurrency=5, worker_concurrency=7)
    lanes = {
        lane: settings.model_copy(update={"worker_lane": lane}) for lane in ("interactive", "batch")
    }
    assert worker_processes(lanes["interactive"]) == 3
    assert worker_processes(lanes["batch"]) == 5
    assert worker_processes(settings) == 7


@pytest.mark.parametrize(
    ("length", "pushed", "seq", "ahead"),
    [
        (5, 10, 6, 0),  # pushed 6th of 10; 7..10 behind it, itself: none ahead
        (5, 10, 7, 1),
        (5, 10, 10, 4),  # the newest of five
        (0, 10, 10, 0),  # taken by a worker already
        (3, 10, 2, 0),  # more pushed after it than queued: clamped
    ],
)
def test_ahead_in_share_counts_what_was_pushed_before(
    length: int, pushed: int, seq: int, ahead: int
) -> None:
    assert ahead_in_share(length, pushed, seq) == ahead


def test_the_position_bounds_a_simulated_round_robin() -> None:
    """The bound against a simulation of kombu's round_robin_cycle over the lists, from each
    starting point of the cycle."""
    for start in range(4):
        lengths = [7, 0, 3, 1][start:] + [7, 0, 3, 1][:start]
        check_bound(lengths)
    assert lane_position([7, 0, 3, 1], 2, 0) == 2  # share 0's and share 3's first may go first
    assert lane_position([7, 0, 3, 1], 0, 6) == 6 + 3 + 1


def check_bound(lengths: list[int]) -> None:
    for share, own in enumerate(lengths):
        for ahead in range(own):
            order = simulate(lengths)
            started_before = order.index((share, ahead))
            # a bound: the cycle's starting point decides at most one per other list
            others = sum(1 for i, n in enumerate(lengths) if i != share and n > ahead)
            assert 0 <= lane_position(lengths, share, ahead) - started_before <= others


def simulate(lengths: list[int]) -> list[tuple[int, int]]:
    """(list, index) in the order a worker takes them: the list used moves to the end."""
    cycle, taken, order = list(range(len(lengths))), [0] * len(lengths), []
    while len(order) < sum(lengths):
        share = next(i for i in cycle if taken[i] < lengths[i])
        order.append((share, taken[share]))
        taken[share] += 1
        cycle.append(cycle.pop(cycle.index(share)))
    return order


def test_the_wait_comes_from_the_lanes_mean_run_time() -> None:
    assert wait_seconds(4, 2, runs=0, total_seconds=0.0) is None
    assert wait_seconds(4, 2, runs=10, total_seconds=30.0) == pytest.approx(3.0 * (2 + 0.5))
    assert wait_seconds(0, 1, runs=1, total_seconds=2.0) == pytest.approx(1.0)
