"""The training loop against the article's claims and the record contract."""

import itertools
import math

import numpy as np
import orjson
import pytest

from engine.batches import Batches
from engine.spec import resolve
from engine.train import Training
from tests.json_safety import non_finite


def run(request: dict) -> tuple[list[dict], dict]:
    training = Training(resolve(request))
    records = training.records()
    assert training.summary is not None
    return records, training.summary


def test_iteration_zero_is_the_initialized_network_and_every_iteration_is_recorded() -> None:
    training = Training(resolve({"training": {"iterations": 25}, "record": {"every": 1}}))
    recorded = list(training.run_with_snapshots())
    records = [r.record for r in recorded]
    summary = training.summary
    assert summary is not None
    assert [r["iteration"] for r in records] == list(range(26))
    assert summary["iterations_run"] == 25 and summary["diverged"] is False
    snapshots = [r.snapshot for r in recorded]
    assert snapshots[0] is not None and snapshots[0]["iteration"] == 0
    assert snapshots[-1] is not None and snapshots[-1]["iteration"] == 25
    assert all(s is None for s in snapshots[1:-1])
    assert all("parameters" not in r for r in records)  # snapshots never ride in a record


def test_recording_every_k_keeps_the_final_iteration() -> None:
    records, _ = run({"training": {"iterations": 23}, "record": {"every": 5}})
    assert [r["iteration"] for r in records] == [0, 5, 10, 15, 20, 23]


def test_same_spec_gives_bit_identical_records() -> None:
    request = {"init": {"method": "he_normal", "seed": 3}, "training": {"iterations": 30},
               "optimizer": {"name": "adam", "learning_rate": 0.01, "batch_size": 10,
                             "shuffle": True}}  # fmt: skip
    first, second = run(request)[0], run(request)[0]
    assert orjson.dumps(first) == orjson.dumps(second)
    other = run({**request, "init": {"method": "he_normal", "seed": 4}})[0]
    assert orjson.dumps(first) != orjson.dumps(other)


def test_zero_init_keeps_cost_at_ln2_and_units_identical() -> None:
    records, summary = run({"preset": "playground", "init": {"method": "zero"},
                            "training": {"iterations": 200}})  # fmt: skip
    for record in records:
        assert record["cost"] == pytest.approx(math.log(2), abs=1e-6)
        for layer in record["layers"][:-1]:
            assert layer["unit_spread"] == 0.0
    assert summary["train_accuracy"] == pytest.approx(0.5)


def test_appropriate_init_learns_the_circle() -> None:
    records, summary = run({"preset": "playground"})
    costs = [r["cost"] for r in records]
    first_below = next(i for i, c in enumerate(costs) if c < 0.1)
    assert first_below <= 1000 and summary["final_cost"] < 0.1
    assert summary["train_accuracy"] == 1.0


def test_too_small_barely_moves_the_cost() -> None:
    records, _ = run({"preset": "playground", "init": {"method": "too_small"},
                      "training": {"iterations": 100}})  # fmt: skip
    for record in records:
        assert abs(record["cost"] - math.log(2)) < 0.01 * math.log(2)


def test_too_large_starts_huge_and_stays_valid_json() -> None:
    records, summary = run({"preset": "playground", "init": {"method": "too_large"},
                            "training": {"iterations": 200}})  # fmt: skip
    assert records[0]["cost"] > 20 * math.log(2)  # 36x for seed 0; 60x-500x for others
    # orjson would quietly write nan as null, so look at the values themselves
    assert not list(non_finite({"records": records, "summary": summary}))
    text = orjson.dumps({"records": records, "summary": summary})
    assert orjson.loads(text)["records"][0]["iteration"] == 0


def test_divergence_stops_cleanly_and_is_reported() -> None:
    records, summary = run({"dataset": {"name": "circle"}, "init": {"method": "standard_normal"},
                            "model": {"hidden": [64] * 6, "activation": "linear"},
                            "optimizer": {"learning_rate": 50.0},
                            "training": {"iterations": 500}})  # fmt: skip
    assert summary["diverged"] is True
    assert summary["diverged_at"] == records[-1]["iteration"] < 500
    assert records[-1]["cost"] is None and summary["final_cost"] is None
    assert not list(non_finite(records))


def test_nine_linear_layers_scale_activations_by_exactly_a() -> None:
    records, _ = run({"preset": "nine_layers", "training": {"iterations": 0}})
    layers = records[0]["layers"]
    for below, above in itertools.pairwise(layers[:9]):  # the nine hidden layers
        ratio = above["activations"]["max"] / below["activations"]["max"]
        assert ratio == pytest.approx(1.5, rel=1e-6)


def test_nine_layers_costs_behave_as_the_article_says_for_each_a() -> None:
    def costs(a: float) -> list[float]:
        records, _ = run({"preset": "nine_layers", "init": {"scale": a}})
        return [r["cost"] for r in records]

    small, right, large = costs(0.5), costs(1.0), costs(1.5)
    assert small[-1] == pytest.approx(small[0], rel=0.01)  # vanishing: it barely moves
    assert all(b <= a for a, b in itertools.pairwise(right)) and right[-1] < 0.5 * right[0]
    rises = sum(b > a for a, b in itertools.pairwise(large))
    assert large[0] > 10 * math.log(2) and rises >= 10  # exploding: far off, then bouncing
    assert large[-1] > right[-1]


def test_should_stop_ends_the_run_and_keeps_the_state() -> None:
    training = Training(resolve({"training": {"iterations": 1000}, "record": {"every": 7}}))
    calls = iter(range(10**6))
    records = list(training.run(lambda: next(calls) >= 40))
    assert training.summary is not None and training.summary["stopped"] is True
    assert records[-1]["iteration"] == 40 == training.summary["iterations_run"]


@pytest.mark.parametrize("every", [1, 5, 7])
def test_a_stopped_run_keeps_the_iteration_it_stopped_at_in_full(every: int) -> None:
    spec = {"training": {"iterations": 1000}, "record": {"every": every}}
    training = Training(resolve(spec))
    calls = iter(range(10**6))
    recorded = list(training.run_with_snapshots(lambda: next(calls) >= 35))  # once per iteration
    records = [r.record for r in recorded]
    last, snapshot = recorded[-1]
    assert last["iteration"] == 35 and [r["iteration"] for r in records].count(35) == 1
    assert snapshot is not None and snapshot["iteration"] == 35  # the last is always kept, like 0
    assert "boundary" in last and "histogram" in last["layers"][0]["weights"]


def test_boundary_covers_the_grid_and_predictions_refer_to_images() -> None:
    records, _ = run({"training": {"iterations": 10}, "record": {"boundary": {"every": 5,
                      "resolution": 11}}})  # fmt: skip
    boundary = records[5]["boundary"]
    assert len(boundary["p"]) == 11 and all(len(row) == 11 for row in boundary["p"])
    assert "boundary" not in records[3]
    images, _ = run({"preset": "mnist", "dataset": {"n_samples": 300},
                     "training": {"iterations": 3}})  # fmt: skip
    pred = images[1]["predictions"]
    assert pred["indices"] == list(range(100, 200))
    assert [p == y for p, y in zip(pred["predicted"], pred["labels"], strict=True)] == pred[
        "correct"
    ]


def test_histograms_are_exact_and_only_when_due() -> None:
    records, _ = run({"preset": "mnist", "dataset": {"n_samples": 200},
                      "training": {"iterations": 1}})  # fmt: skip
    hist = records[0]["layers"][0]["activations"]["histogram"]
    assert hist["range"] == [-1.2, 1.2] and len(hist["counts"]) == 200
    assert sum(hist["counts"]) == 100 * 300  # tanh stays inside [-1.2, 1.2]
    assert "histogram" not in records[0]["layers"][0]["weights"]


def test_in_order_batches_and_shuffled_epochs() -> None:
    ordered = Batches(10, 4, False, np.random.default_rng(0))
    assert [ordered.indices(i) for i in range(4)] == [slice(0, 4), slice(4, 8), slice(8, 10),
                                                      slice(0, 4)]  # fmt: skip
    shuffled = Batches(10, 5, True, np.random.default_rng(0))
    epoch = np.concatenate([shuffled.indices(0), shuffled.indices(1)])
    assert sorted(epoch.tolist()) == list(range(10)) and epoch.tolist() != list(range(10))
