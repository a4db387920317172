"""The vocabulary: every name it gives has its implementation, and nothing else has one."""

from __future__ import annotations

from typing import get_args

from engine.activations import ACTIVATIONS
from engine.datasets import GENERATORS
from engine.experiment import OptimizerSpec
from engine.optim import build_optimizer
from engine.vocabulary import (
    ACTIVATION_FORMULAS,
    DATASETS_2D,
    OPTIMIZERS,
    ActivationName,
    OptimizerName,
    max_samples,
)


def test_every_activation_name_has_a_formula_and_a_forward_backward_pair() -> None:
    assert set(get_args(ActivationName)) == set(ACTIVATION_FORMULAS) == set(ACTIVATIONS)


def test_every_optimizer_name_has_facts_that_name_spec_fields_and_builds() -> None:
    assert set(get_args(OptimizerName)) == set(OPTIMIZERS)
    for name, facts in OPTIMIZERS.items():
        assert set(facts.parameters) <= set(OptimizerSpec.model_fields)
        build_optimizer(OptimizerSpec(name=name))


def test_every_2d_dataset_has_a_generator() -> None:
    assert set(GENERATORS) == set(DATASETS_2D)


def test_max_samples_is_the_mnist_split_size_or_the_2d_cap() -> None:
    assert max_samples("mnist", "train") == 60_000 and max_samples("mnist", "test") == 10_000
    assert max_samples("circle", "train") == max_samples("circle", "test") == 10_000
