"""Initializers where the moment checks of test_init.py cannot look: a family's defaults
against the catalog's, an empty uniform interval, the article's normal names as one draw
rescaled, torch's orthogonal for square shapes, and ``variance_of`` with one uniform bound
given. Shapes are (fan_out, fan_in)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import init
from engine.experiment import InitSpec
from engine.init import bias_mean_square, init_parameters, variance_of
from engine.initializers import INITIALIZERS
from engine.propagation import sample_parameters

SHAPE = (40, 60)  # (fan_out, fan_in)
FAN_IN = 60


def rng() -> np.random.Generator:
    return np.random.default_rng(11)


@pytest.mark.parametrize("family", ["constant", "normal", "variance_scaling", "identity"])
def test_a_family_called_without_parameters_draws_the_catalogs_defaults(family: str) -> None:
    # the catalog's defaults are InitSpec's; a direct caller of the family gets the same
    defaults = {p.name: p.default for p in INITIALIZERS[family].parameters}
    assert defaults and None not in defaults.values()
    bare = init.FAMILIES[family](SHAPE, rng(), np.float64)
    explicit = init.FAMILIES[family](SHAPE, rng(), np.float64, **defaults)
    np.testing.assert_array_equal(bare, explicit)


@pytest.mark.parametrize(("low", "high"), [(0.5, 0.5), (1.0, -1.0)])
def test_uniform_refuses_an_empty_interval_saying_which_bounds(low: float, high: float) -> None:
    with pytest.raises(ValueError, match=f"low < high, got low={low}, high={high}"):
        init.uniform(SHAPE, rng(), np.float64, low=low, high=high)


def test_the_articles_normal_names_are_one_draw_at_different_scales() -> None:
    """With one seed the article's figures compare scale and nothing else: each name's
    weights are the same standard normal matrix times sqrt(Var(W))."""
    std = {  # sqrt(Var(W)) of each name, from the article (fan_in = 60)
        "too_small": math.sqrt(0.01 / FAN_IN),
        "appropriate": math.sqrt(1 / FAN_IN),
        "xavier": math.sqrt(1 / FAN_IN),
        "too_large": math.sqrt(100 / FAN_IN),
        "standard_normal": 1.0,
    }
    sizes = [SHAPE[1], SHAPE[0]]
    unit = np.random.default_rng(5).standard_normal(SHAPE)
    for name, s in std.items():
        (w,), _ = init_parameters(
            InitSpec(method=name), sizes, np.random.default_rng(5), dtype=np.float64
        )
        np.testing.assert_allclose(w, s * unit, rtol=1e-12, err_msg=name)


def test_a_square_orthogonal_is_torchs_untransposed_sign_fixed_qr() -> None:
    # torch.nn.init.orthogonal_ transposes only when rows < cols: a square draw is A = QR as is
    shape = (30, 30)
    a = np.random.default_rng(3).standard_normal(shape)
    q = init.orthogonal(shape, np.random.default_rng(3), np.float64)
    r = q.T @ a
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-10)
    assert (np.diag(r) > 0).all()


@pytest.mark.parametrize(("low", "high"), [(-0.3, None), (None, 0.4), (-0.05, 0.3)])
def test_variance_of_uniform_reads_each_given_bound(low: float | None, high: float | None) -> None:
    spec = InitSpec(method="uniform", low=low, high=high)
    bound = 1 / math.sqrt(FAN_IN)
    lo, hi = (-bound if low is None else low), (bound if high is None else high)
    # E[W^2] of U(lo, hi) = Var + mean^2, worked out apart from the engine's formula
    expected = (hi - lo) ** 2 / 12 + ((lo + hi) / 2) ** 2
    assert variance_of(spec, SHAPE) == pytest.approx(expected, rel=1e-12)
    shape = (400, FAN_IN)
    (w,), _ = init_parameters(spec, [FAN_IN, 400], rng(), dtype=np.float64)
    assert w.shape == shape
    assert np.mean(w**2) == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("method", sorted(set(INITIALIZERS) - {"lsuv"}))
def test_variance_of_a_spec_with_every_default_predicts_the_sampled_mean_square(
    method: str,
) -> None:
    # test_init.py sets gain, scale, mean... explicitly; here each method's own defaults apply
    spec = InitSpec(method=method)
    shape = (300, 500)
    (w,), _ = init_parameters(spec, [shape[1], shape[0]], rng(), dtype=np.float64)
    expected = variance_of(spec, shape)
    assert expected is not None
    assert np.mean(w**2) == pytest.approx(expected, rel=0.02, abs=1e-15)


def test_variance_scaling_refuses_an_unknown_mode_or_distribution_naming_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"one of \['fan_avg', 'fan_in', 'fan_out'\], got 'fan_sum'"
    ):
        init.variance_scaling(SHAPE, rng(), mode="fan_sum")
    with pytest.raises(ValueError, match="unknown distribution 'cauchy'"):
        init.variance_scaling(SHAPE, rng(), distribution="cauchy")


@pytest.mark.parametrize("method", ["appropriate", "he_normal", "mean_field"])
def test_bias_mean_square_is_the_drawn_biases_mean_square(method: str) -> None:
    # bias_variance is mean_field's alone: another method given one still draws constant biases
    spec = InitSpec(method=method, bias=0.5, bias_variance=2.0)
    sizes = [1, 4000, 1, 4000, 1]  # 8,002 biases, few weights
    _, biases = init_parameters(spec, sizes, rng(), dtype=np.float64)
    drawn = np.mean(np.concatenate(biases) ** 2)
    assert bias_mean_square(spec) == pytest.approx(drawn, rel=0.06)  # 4 standard errors


def test_a_mean_field_init_is_the_signal_samplers_network_shifted_by_the_bias() -> None:
    # the catalog says mean_field is drawn by engine.propagation.sample_parameters: a job's
    # network is then one of the networks POST /v1/theory/signal describes, plus the bias
    sizes = [5, 7, 3]
    spec = InitSpec(method="mean_field", weight_variance=1.7, bias_variance=0.4, bias=0.25)
    ws, bs = init_parameters(spec, sizes, rng(), dtype=np.float64)
    sample_ws, sample_bs = sample_parameters(rng(), sizes, 1.7, 0.4)
    for w, b, sample_w, sample_b in zip(ws, bs, sample_ws, sample_bs, strict=True):
        np.testing.assert_array_equal(w, sample_w)
        np.testing.assert_allclose(b, 0.25 + sample_b, rtol=1e-15)


def test_lsuv_refusals_say_what_is_missing_and_the_batch_shape_it_needs() -> None:
    spec = InitSpec(method="lsuv")
    x = np.ones((5, 2))
    with pytest.raises(ValueError, match=r"^init\.method lsuv needs the hidden activation and a"):
        init_parameters(spec, [3, 4, 1], rng(), x=x)
    with pytest.raises(ValueError, match=r"^lsuv: x must be shaped \(N, 3\), got \(5, 2\)$"):
        init_parameters(spec, [3, 4, 1], rng(), activation=np.tanh, x=x)
