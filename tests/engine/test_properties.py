"""Property tests: any spec that validates trains without error into JSON-safe records."""

import typing
import warnings

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.experiment import InitMethod
from engine.spec import resolve
from engine.train import Training
from engine.vocabulary import DATASETS_2D, ActivationName, OptimizerName
from tests.json_safety import non_finite

requests = st.fixed_dictionaries({
    "dataset": st.fixed_dictionaries({
        "name": st.sampled_from(DATASETS_2D),
        "n_samples": st.integers(2, 60),
        "noise": st.sampled_from([0.0, 0.3, 2.0]),
        "test_fraction": st.sampled_from([0.0, 0.25, 0.5]),
    }),
    "model": st.fixed_dictionaries({
        "hidden": st.lists(st.integers(1, 6), max_size=4),
        "activation": st.sampled_from(typing.get_args(ActivationName)),
        "dtype": st.sampled_from(["float32", "float64"]),
        "l2": st.sampled_from([0.0, 0.01]),
    }),
    "init": st.fixed_dictionaries({
        "method": st.sampled_from(typing.get_args(InitMethod)),
        "scale": st.sampled_from([0.0, 1.0, 1e4]),
        "distribution": st.sampled_from(["normal", "uniform", "truncated_normal"]),
        "seed": st.integers(0, 2**32 - 1),
    }),
    "optimizer": st.fixed_dictionaries({
        "name": st.sampled_from(typing.get_args(OptimizerName)),
        "learning_rate": st.sampled_from([1e-3, 0.1, 100.0]),
    }),
    "training": st.fixed_dictionaries({"iterations": st.integers(0, 6)}),
    "record": st.just({"histograms": {"every": 2, "bins": 4},
                       "boundary": {"every": 3, "resolution": 5}, "parameters": {"every": 4},
                       "signal": {"every": 3, "pairs": 2, "bins": 4}}),
})  # fmt: skip


DIVERGED_WIDE = {  # found under mutation testing: weights past 1e308 apart, a histogram of them
    "dataset": {"name": "moons", "n_samples": 2, "noise": 0.3, "test_fraction": 0.0},
    "model": {"hidden": [], "activation": "relu", "dtype": "float64"},
    "init": {"method": "zeros"},
    "optimizer": {"name": "rmsprop", "learning_rate": 100.0},
    "training": {"iterations": 1},
    "record": {"histograms": {"every": 2, "bins": 4}, "boundary": {"every": 3, "resolution": 5},
               "parameters": {"every": 4}, "signal": {"every": 3, "pairs": 2, "bins": 4}},
}  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
@example(DIVERGED_WIDE)
def test_valid_specs_train_into_json_safe_records(request: dict) -> None:
    try:
        spec = resolve(request)
    except ValidationError:
        return
    training = Training(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow must be handled, not leak as warnings
        records = training.records()
    assert records[0]["iteration"] == 0
    assert records[-1]["iteration"] == training.summary["iterations_run"]  # type: ignore[index]
    assert not list(non_finite({"records": records, "summary": training.summary}))
    orjson.loads(orjson.dumps(records))


def test_non_finite_finds_nested_nan() -> None:
    assert list(non_finite({"a": [1.0, {"b": float("nan")}]})) == [".a[1].b"]
