"""Initializers: every family's moments against its closed form, the article's names, LSUV,
the catalog. Shapes are (fan_out, fan_in) and deliberately non-square, so a swapped fan or
LeCun's 1/fan_in in place of Glorot's 2/(fan_in + fan_out) fails the variance check."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest
from pydantic import ValidationError

from engine import init
from engine.experiment import InitMethod, InitSpec
from engine.init import calc_fan, calculate_gain, init_parameters, variance_of
from engine.initializers import INITIALIZERS, family_and_params

SHAPE = (400, 600)  # (fan_out, fan_in)
FAN_IN, FAN_OUT, FAN_SUM = 600, 400, 1000
RANDOM = sorted(set(INITIALIZERS) - {"zeros", "constant", "identity", "zero"})


def draw(name: str, **params: object) -> np.ndarray:
    return init.FAMILIES[name](SHAPE, np.random.default_rng(0), np.float64, **params)


def assert_moments(w: np.ndarray, var: float, wrong: tuple[float, ...] = (), mean: float = 0.0):
    """Mean within 5 standard errors; variance within 2% (about 7 standard errors at this
    size), which each wrong alternative variance misses."""
    assert abs(w.mean() - mean) < 5 * math.sqrt(var / w.size)
    assert w.var() == pytest.approx(var, rel=0.02)
    for alternative in wrong:
        assert alternative != pytest.approx(var, rel=0.05), "the alternative is no test"
        assert w.var() != pytest.approx(alternative, rel=0.02)


MOMENTS = [  # name, params, Var(W), wrong alternatives, mean
    ("uniform", {}, 1 / (3 * FAN_IN), (1 / (3 * FAN_OUT), 1 / FAN_IN), 0.0),
    ("uniform", {"low": -0.5, "high": 1.5}, 4 / 12, (), 0.5),
    ("normal", {"mean": 2.0, "std": 3.0}, 9.0, (3.0,), 2.0),
    ("variance_scaling", {"scale": 2.0}, 2 / FAN_IN, (2 / FAN_OUT, 4 / FAN_SUM), 0.0),
    ("variance_scaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"},
     2 / FAN_OUT, (2 / FAN_IN, 4 / FAN_SUM), 0.0),
    # without Keras's 0.8796 correction the truncated variance would be 0.7737 of the target
    ("variance_scaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "truncated_normal"},
     4 / FAN_SUM, (0.7737 * 4 / FAN_SUM, 2 / FAN_IN), 0.0),
    ("xavier_uniform", {}, 2 / FAN_SUM, (1 / FAN_IN, 1 / FAN_OUT), 0.0),
    ("xavier_uniform", {"gain": 2.0}, 8 / FAN_SUM, (2 / FAN_SUM,), 0.0),
    ("xavier_normal", {}, 2 / FAN_SUM, (1 / FAN_IN, 1 / FAN_OUT), 0.0),
    ("he_uniform", {}, 2 / FAN_IN, (2 / FAN_OUT, 1 / FAN_IN), 0.0),
    ("he_normal", {}, 2 / FAN_IN, (2 / FAN_OUT, 1 / FAN_IN), 0.0),
    ("he_normal", {"gain": 1.0}, 1 / FAN_IN, (2 / FAN_IN,), 0.0),
    ("lecun_uniform", {}, 1 / FAN_IN, (1 / FAN_OUT, 2 / FAN_SUM), 0.0),
    ("lecun_normal", {}, 1 / FAN_IN, (1 / FAN_OUT, 2 / FAN_SUM), 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params", "var", "wrong", "mean"), MOMENTS)
def test_sample_moments_match_the_formula(name, params, var, wrong, mean):
    assert_moments(draw(name, **params), var, wrong, mean)


@pytest.mark.parametrize(
    ("name", "params", "limit"),
    [
        ("uniform", {}, 1 / math.sqrt(FAN_IN)),
        ("variance_scaling", {"scale": 2.0, "distribution": "uniform"}, math.sqrt(6 / FAN_IN)),
        ("xavier_uniform", {}, math.sqrt(6 / FAN_SUM)),
        ("he_uniform", {}, math.sqrt(6 / FAN_IN)),
        ("lecun_uniform", {}, math.sqrt(3 / FAN_IN)),
    ],
)
def test_uniform_samples_fill_their_bounds(name, params, limit):
    w = draw(name, **params)
    assert -limit <= w.min() < -0.999 * limit
    assert 0.999 * limit < w.max() <= limit


def test_truncated_normal_stays_within_two_std():
    w = draw("variance_scaling", scale=2.0, distribution="truncated_normal")
    bound = 2 * math.sqrt(2 / FAN_IN) / init.TRUNCATED_NORMAL_STD
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound


@pytest.mark.parametrize("name", ["normal", "variance_scaling", "xavier_normal", "he_normal",
                                  "lecun_normal"])  # fmt: skip
def test_normal_families_are_untruncated(name):
    w = draw(name)
    assert np.abs(w).max() > 4 * w.std()  # 240,000 draws: a normal's maximum is ~4.6 std


@pytest.mark.parametrize("shape", [(60, 40), (40, 60), (50, 50)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_singular_values_equal_the_gain(shape, gain):
    w = init.orthogonal(shape, np.random.default_rng(0), np.float64, gain=gain)
    assert w.shape == shape
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), gain, atol=1e-6)


@pytest.mark.parametrize("shape", [(60, 40), (40, 60)])
def test_orthogonal_is_torchs_sign_fixed_qr_of_one_normal_draw(shape):
    a = np.random.default_rng(3).standard_normal(shape)
    w = init.orthogonal(shape, np.random.default_rng(3), np.float64, gain=2.0) / 2.0
    wide = shape[0] < shape[1]
    r = (w @ a.T) if wide else (w.T @ a)  # Q^T A of the tall factorization
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-10)
    assert (np.diag(r) > 0).all()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_identity_is_a_scaled_rectangular_eye(shape):
    w = init.identity(shape, np.random.default_rng(0), np.float64, scale=1.5)
    np.testing.assert_array_equal(w, 1.5 * np.eye(*shape))


def test_calc_fan_reads_fan_out_by_fan_in():
    assert calc_fan((400, 600)) == (600, 400)
    for bad in [(3,), (0, 4), (2, 3, 4)]:
        with pytest.raises(ValueError, match="fan_out, fan_in"):
            calc_fan(bad)


@pytest.mark.parametrize(
    ("nonlinearity", "param", "gain"),
    [
        ("linear", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, 1.4142135623730951),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_matches_torchs_table(nonlinearity, param, gain):
    assert calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-12)


def test_calculate_gain_rejects_unknown_nonlinearities():
    with pytest.raises(ValueError, match="softplus"):
        calculate_gain("softplus")


SIZES = [30, 20, 10]
X = np.random.default_rng(99).standard_normal((64, SIZES[0]))


def params_for(method: str, seed: int, dtype: type = np.float32, **fields: object):
    spec = InitSpec(method=method, **fields)
    extra = {"activation": np.tanh, "x": X} if method == "lsuv" else {}
    return init_parameters(spec, SIZES, np.random.default_rng(seed), dtype=dtype, **extra)


@pytest.mark.parametrize("method", sorted(INITIALIZERS))
def test_same_seed_same_arrays_and_float32_shares_float64s_draws(method):
    w32, b32 = params_for(method, 7, bias=0.25)
    w64, b64 = params_for(method, 7, np.float64, bias=0.25)
    again, _ = params_for(method, 7, bias=0.25)
    assert [w.shape for w in w32] == [(20, 30), (10, 20)]
    assert all(w.dtype == np.float32 for w in w32 + b32)
    assert all(w.dtype == np.float64 for w in w64 + b64)
    for a, b, c in zip(w32, again, w64, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c.astype(np.float32))
    assert [b.shape for b in b32] == [(20,), (10,)]
    assert all((b == np.float32(0.25)).all() for b in b32)


@pytest.mark.parametrize("method", RANDOM)
def test_a_different_seed_draws_different_weights(method):
    assert not np.array_equal(params_for(method, 7)[0][0], params_for(method, 8)[0][0])


@pytest.mark.parametrize("method", RANDOM)
def test_draws_are_float64_before_the_cast(method):
    w = params_for(method, 7, np.float64)[0][0]
    assert not np.array_equal(w, w.astype(np.float32))  # not float32 draws widened


def test_layers_are_drawn_in_order_from_the_one_generator():
    rng = np.random.default_rng(5)
    expected = [init.he_normal((20, 30), rng), init.he_normal((10, 20), rng)]
    for got, want in zip(params_for("he_normal", 5)[0], expected, strict=True):
        np.testing.assert_array_equal(got, want)


ARTICLE = [  # name, Var(W) on SHAPE, wrong alternatives
    ("zero", 0.0, ()),
    ("too_small", 0.01 / FAN_IN, (0.01 / FAN_OUT,)),
    ("appropriate", 1 / FAN_IN, (1 / FAN_OUT, 2 / FAN_SUM)),
    ("too_large", 100 / FAN_IN, (100 / FAN_OUT,)),
    ("xavier", 1 / FAN_IN, (2 / FAN_SUM, 1 / FAN_OUT)),  # LeCun's, not Glorot's
    ("standard_normal", 1.0, (1 / FAN_IN,)),
]


@pytest.mark.parametrize(("method", "var", "wrong"), ARTICLE)
def test_the_articles_names_fix_their_variance(method, var, wrong):
    # the spec's scale, gain, mean and std must not move the article's variance
    spec = InitSpec(method=method, scale=5.0, gain=3.0, mean=1.0, std=4.0, value=2.0)
    (w,), _ = init_parameters(spec, [FAN_IN, FAN_OUT], np.random.default_rng(0), dtype=np.float64)
    assert w.shape == SHAPE
    if var == 0.0:
        assert not w.any()
    else:
        assert_moments(w, var, wrong)
    assert variance_of(spec, SHAPE) == pytest.approx(var, rel=1e-12)


@pytest.mark.parametrize("method", sorted(set(INITIALIZERS) - {"lsuv"}))
def test_variance_of_predicts_the_sampled_mean_square(method):
    spec = InitSpec(method=method, scale=2.0, gain=1.5, mean=0.5, std=2.0, value=0.3, high=0.3)
    (w,), _ = init_parameters(spec, [FAN_IN, FAN_OUT], np.random.default_rng(1), dtype=np.float64)
    expected = variance_of(spec, SHAPE)
    assert expected is not None
    assert np.mean(w**2) == pytest.approx(expected, rel=0.02, abs=1e-15)


@pytest.mark.parametrize("tolerance", [0.1, 0.01])
def test_lsuv_brings_every_preactivation_variance_to_one(tolerance):
    sizes = [20, 64, 64, 64, 10]
    x = 3.0 * np.random.default_rng(4).standard_normal((500, 20)) + 1.0
    spec = InitSpec(method="lsuv", lsuv_tolerance=tolerance, bias=0.1)
    weights, biases = init_parameters(
        spec, sizes, np.random.default_rng(0), dtype=np.float64, activation=np.tanh, x=x
    )
    a = x
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = a @ w.T + b
        assert abs(z.var() - 1.0) < tolerance, f"layer {layer + 1}"
        singular = np.linalg.svd(w, compute_uv=False)  # still a scaled orthogonal matrix
        np.testing.assert_allclose(singular, singular[0], rtol=1e-10)
        a = np.tanh(z)
    assert abs(np.linalg.svd(weights[0], compute_uv=False)[0] - 1.0) > 0.1  # it did rescale


def test_lsuv_needs_the_activation_and_a_matching_batch():
    spec = InitSpec(method="lsuv")
    with pytest.raises(ValueError, match="lsuv"):
        init_parameters(spec, SIZES, np.random.default_rng(0), x=X)
    with pytest.raises(ValueError, match="lsuv"):
        init_parameters(spec, SIZES, np.random.default_rng(0), activation=np.tanh, x=X[:, :5])
    assert variance_of(spec, SHAPE) is None


def test_init_parameters_rejects_a_network_without_layers():
    with pytest.raises(ValueError, match="sizes"):
        init_parameters(InitSpec(), [4], np.random.default_rng(0))


def test_catalog_covers_every_init_method_with_its_family():
    assert set(INITIALIZERS) == set(get_args(InitMethod))
    fields = set(InitSpec.model_fields)
    for name, info in INITIALIZERS.items():
        assert info.name == name
        assert info.formula and info.variance and info.reference
        assert info.family == family_and_params(InitSpec(method=name))[0]
        assert info.family in init.FAMILIES or info.family in ("lsuv", "mean_field")
        assert {p.name for p in info.parameters} <= fields
    assert "nn.Linear" in INITIALIZERS["uniform"].note
    assert "lecun_normal" in INITIALIZERS["xavier"].note
    assert INITIALIZERS["he_normal"].parameters[0].default == pytest.approx(math.sqrt(2))


def test_mean_field_draws_weights_of_variance_s_w_over_fan_in_and_biases_of_variance_s_b():
    spec = InitSpec(method="mean_field", weight_variance=2.5, bias_variance=0.4, bias=0.3)
    sizes = [FAN_IN, FAN_OUT, 4000]
    weights, biases = init_parameters(spec, sizes, np.random.default_rng(2), dtype=np.float64)
    assert [w.shape for w in weights] == [SHAPE, (4000, FAN_OUT)]
    assert_moments(weights[0], 2.5 / FAN_IN, wrong=(2.5 / FAN_OUT, 1 / FAN_IN))
    assert_moments(weights[1], 2.5 / FAN_OUT, wrong=(2.5 / 4000,))
    # 4000 biases: the variance's standard error is about 2.2 %, so 10 % is 4.5 of them
    assert biases[1].var() == pytest.approx(0.4, rel=0.1)
    assert abs(biases[1].mean() - 0.3) < 5 * math.sqrt(0.4 / 4000)
    assert variance_of(spec, SHAPE) == pytest.approx(2.5 / FAN_IN)


def test_mean_field_orthogonal_rows_are_orthonormal_times_sigma_w():
    spec = InitSpec(method="mean_field", weight_variance=2.0, distribution="orthogonal")
    (w,), (b,) = init_parameters(spec, [FAN_IN, FAN_OUT], np.random.default_rng(3),
                                 dtype=np.float64)  # fmt: skip
    np.testing.assert_allclose(w @ w.T, 2.0 * np.eye(FAN_OUT), atol=1e-12)
    assert not b.any()  # bias_variance 0 and bias 0
    assert np.mean(w**2) == pytest.approx(variance_of(spec, SHAPE))


def test_mean_field_distributions_are_validated_against_the_method():
    with pytest.raises(ValidationError, match="mean_field draws normal or orthogonal"):
        InitSpec(method="mean_field", distribution="uniform")
    with pytest.raises(ValidationError, match="distribution"):
        InitSpec(method="variance_scaling", distribution="orthogonal")
    with pytest.raises(ValidationError, match="bias_variance"):
        InitSpec(method="mean_field", bias_variance=-1.0)
