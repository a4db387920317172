"""The catalog's parameter table against the validation it describes.

A frontend builds its inputs from ``INITIALIZERS[...].parameters``: each default, bound and
choice must be what ``InitSpec`` itself uses and enforces, checked here by submitting
values to ``InitSpec`` rather than by reading its schema a second time.
"""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from engine.experiment import InitSpec
from engine.initializers import DEFAULT_GAINS, INITIALIZERS

PARAMS = sorted({(name, p.name) for name, info in INITIALIZERS.items() for p in info.parameters})
# zero gain would draw all-zero weights; a zero LSUV tolerance could never be met
EXCLUSIVE_MINIMUM = {"gain", "lsuv_tolerance"}
NUMERIC = [(m, p) for m, p in PARAMS if p not in ("mode", "distribution")]


def info(method: str, param: str):
    return next(p for p in INITIALIZERS[method].parameters if p.name == param)


def accepted(method: str, param: str, value: object) -> bool:
    try:
        InitSpec(method=method, **{param: value})
    except ValidationError as error:
        assert error.errors()[0]["loc"] == (param,)
        return False
    return True


@pytest.mark.parametrize(("method", "param"), PARAMS)
def test_each_default_is_what_a_spec_without_the_field_uses(method: str, param: str) -> None:
    p = info(method, param)
    unset = getattr(InitSpec(method=method), param)
    expected = DEFAULT_GAINS.get(method) if unset is None and param == "gain" else unset
    assert p.default == expected
    assert p.description and p.description != param


@pytest.mark.parametrize(("method", "param"), NUMERIC)
def test_each_numeric_bound_is_where_validation_starts_refusing(method: str, param: str) -> None:
    p = info(method, param)
    assert p.minimum is not None and p.maximum is not None, "every number has both bounds"
    integer = isinstance(p.default, int)  # lsuv_max_iter counts rescalings
    step = 1 if integer else 1e-6 * max(1.0, abs(p.maximum - p.minimum))
    assert not accepted(method, param, p.minimum - step)
    assert not accepted(method, param, p.maximum + step)
    assert accepted(method, param, p.maximum)
    assert accepted(method, param, p.minimum + step)
    assert accepted(method, param, p.minimum) == (param not in EXCLUSIVE_MINIMUM)


def test_he_defaults_to_sqrt2_and_xavier_to_one() -> None:
    assert info("he_normal", "gain").default == pytest.approx(math.sqrt(2))
    assert info("xavier_normal", "gain").default == 1.0


@pytest.mark.parametrize("param", ["mode", "distribution"])
def test_each_choice_list_is_what_validation_accepts(param: str) -> None:
    p = info("variance_scaling", param)
    assert p.minimum is None and p.maximum is None
    assert len(p.choices) >= 3
    for choice in p.choices:
        method = "mean_field" if choice == "orthogonal" else "variance_scaling"
        assert accepted(method, param, choice), choice
    assert not accepted("variance_scaling", param, "not_a_choice")
