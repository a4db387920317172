"""Spec resolution, presets and limits."""

import pytest
from pydantic import ValidationError

from engine.experiment import ExperimentSpec
from engine.presets import PRESETS
from engine.spec import resolve


def locs(error: ValidationError) -> list[tuple]:
    return [tuple(e["loc"]) for e in error.errors()]


def test_empty_request_is_the_article_playground() -> None:
    spec = resolve({})
    assert spec.sizes == [2, 6, 3, 1] and spec.init.method == "appropriate"
    assert spec.optimizer.name == "gd" and spec.optimizer.learning_rate == 0.1
    assert spec.record.boundary.resolution == 101 and spec.dataset.n_samples == 100


def test_preset_is_the_base_and_fields_override_it() -> None:
    spec = resolve({"preset": "mnist", "init": {"method": "zero"}})
    assert spec.sizes == [784, 300, 300, 300, 300, 10]
    assert spec.init.method == "zero" and spec.optimizer.batch_size == 100
    assert spec.record.histograms.bins == 200


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_resolves_within_budget(name: str) -> None:
    spec = resolve({"preset": name})
    assert isinstance(spec, ExperimentSpec) and PRESETS[name].public()["spec"]["model"]


def test_hash_is_stable_and_sensitive() -> None:
    assert resolve({}).spec_hash() == resolve({"preset": "playground"}).spec_hash()
    assert resolve({}).spec_hash() != resolve({"training": {"seed": 1}}).spec_hash()


@pytest.mark.parametrize(
    ("request_", "loc"),
    [
        ({"init": {"method": "glorious"}}, ("init", "method")),
        ({"optimizer": {"learning_rate": -0.1}}, ("optimizer", "learning_rate")),
        ({"model": {"hidden": [4] * 10_000}}, ("model", "hidden")),
        ({"model": {"hidden": "wide"}}, ("model", "hidden")),
        ({"training": {"iterations": 100_001}}, ("training", "iterations")),
        ({"preset": "nope"}, ("preset",)),
        ({"dataset": {"colour": "red"}}, ("dataset", "colour")),
    ],
)
def test_bad_fields_are_named(request_: dict, loc: tuple) -> None:
    with pytest.raises(ValidationError) as caught:
        resolve(request_)
    assert loc in locs(caught.value)


def test_over_budget_spec_is_refused_with_the_budget() -> None:
    with pytest.raises(ValidationError, match="budget"):
        resolve({"preset": "mnist", "model": {"hidden": [4096] * 8},
                 "training": {"iterations": 100_000}})  # fmt: skip
