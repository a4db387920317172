"""The in-process memory of ended jobs' sweep results: an LRU bounded by its size."""

from __future__ import annotations

from store.sweep_results import Derived, SweepResults


def derived(reach: int, target: float = 0.1) -> Derived:
    return Derived(init_std=[1.0, 0.5], target_cost=target, reach=reach)


def test_it_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    results = SweepResults(2)
    results.put("a", derived(1))
    results.put("b", derived(2))
    assert results.get("a", 0.1) == derived(1)  # now b is the least recently used
    results.put("c", derived(3))
    assert len(results) == 2
    assert results.get("b", 0.1) is None
    assert results.get("a", 0.1) == derived(1) and results.get("c", 0.1) == derived(3)


def test_a_result_for_another_target_is_not_answered() -> None:
    results = SweepResults(4)
    results.put("a", derived(7, target=0.1))
    assert results.get("a", 0.2) is None and results.get("a", 0.1) == derived(7)


def test_forget_and_clear_drop_entries_and_size_zero_keeps_none() -> None:
    results = SweepResults(4)
    for job_id in "abc":
        results.put(job_id, derived(1))
    results.forget("b")
    results.forget("unknown")
    assert results.get("b", 0.1) is None and len(results) == 2
    results.clear()
    assert len(results) == 0
    off = SweepResults(0)
    off.put("a", derived(1))
    assert len(off) == 0 and off.get("a", 0.1) is None
