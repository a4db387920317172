"""What every ``init.method`` is: its family, formula, variance, parameters and source.

The data behind ``GET /v1/catalog`` (``INITIALIZERS``) and the one table of which
``InitSpec`` fields each method reads (``SPEC_FIELDS``), which family each of the article's
names stands for (``ARTICLE_NAMES``) and each family's default gain (``DEFAULT_GAINS``);
``family_and_params`` turns a spec into the call ``engine.init`` makes. Parameter defaults
and bounds come from ``InitSpec``'s own schema, so the catalog cannot drift from the
validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.experiment import InitSpec

SQRT2 = math.sqrt(2.0)

# the InitSpec fields each family reads; None values fall back to the family's default
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "zeros": (),
    "constant": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "std"),
    "variance_scaling": ("scale", "mode", "distribution"),
    "xavier_uniform": ("gain",),
    "xavier_normal": ("gain",),
    "he_uniform": ("gain",),
    "he_normal": ("gain",),
    "lecun_uniform": (),
    "lecun_normal": (),
    "orthogonal": ("gain",),
    "identity": ("scale",),
    "lsuv": ("lsuv_tolerance", "lsuv_max_iter"),
    "mean_field": ("weight_variance", "bias_variance", "distribution"),
}

# the article's names: family and fixed arguments (the spec's scale etc. do not apply)
_ARTICLE_N = {"mode": "fan_in", "distribution": "normal"}  # N(0, s / fan_in)
ARTICLE_NAMES: dict[str, tuple[str, dict[str, Any]]] = {
    "zero": ("zeros", {}),
    "too_small": ("variance_scaling", {"scale": 0.01, **_ARTICLE_N}),
    "appropriate": ("variance_scaling", {"scale": 1.0, **_ARTICLE_N}),
    "too_large": ("variance_scaling", {"scale": 100.0, **_ARTICLE_N}),
    "xavier": ("lecun_normal", {}),
    "standard_normal": ("normal", {"mean": 0.0, "std": 1.0}),
}

# the gain a family multiplies its standard deviation by when the spec gives none
# (He's sqrt(2) makes up for the half of the signal a ReLU zeroes)
DEFAULT_GAINS: dict[str, float] = {
    "xavier_uniform": 1.0, "xavier_normal": 1.0, "orthogonal": 1.0,
    "he_uniform": SQRT2, "he_normal": SQRT2,
}  # fmt: skip


def family_and_params(spec: InitSpec) -> tuple[str, dict[str, Any]]:
    """The family a spec's method draws from and its keyword arguments (None fields omitted)."""
    if spec.method in ARTICLE_NAMES:
        family, fixed = ARTICLE_NAMES[spec.method]
        return family, dict(fixed)
    params = {f: getattr(spec, f) for f in SPEC_FIELDS[spec.method]}
    return spec.method, {k: v for k, v in params.items() if v is not None}


_DESCRIPTIONS = {
    "scale": "multiplies the variance (variance_scaling) or the identity (identity)",
    "mode": "n in scale / n: fan_in, fan_out or (fan_in + fan_out) / 2",
    "distribution": "normal (untruncated), truncated_normal (at 2 std, same variance), uniform; "
    "mean_field: normal or orthogonal",
    "weight_variance": "s_w: Var(W) = s_w / fan_in (normal), or sqrt(s_w) times an orthogonal Q",
    "bias_variance": "s_b: biases ~ N(bias, s_b)",
    "gain": "multiplies the standard deviation; null: the method's default",
    "mean": "mean of the normal",
    "std": "standard deviation of the normal",
    "low": "lower bound; null: -1 / sqrt(fan_in)",
    "high": "upper bound; null: 1 / sqrt(fan_in)",
    "value": "every weight's value",
    "lsuv_tolerance": "stop when |Var(z) - 1| < tolerance",
    "lsuv_max_iter": "at most this many rescalings per layer",
    "bias": "every bias's value (all methods)",
    "seed": "seed of the generator the weights are drawn from (all methods)",
}


@dataclass(frozen=True)
class ParamInfo:
    """One InitSpec field a method reads, with InitSpec's default and bounds."""

    name: str
    default: float | int | str | None
    minimum: float | None
    maximum: float | None
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class InitializerInfo:
    """One ``init.method``: what it draws and why it is called what it is."""

    name: str
    family: str  # the engine.init function that draws it
    formula: str
    variance: str  # Var(W) as text
    parameters: tuple[ParamInfo, ...]
    reference: str
    note: str = ""


def _param(name: str, method: str = "") -> ParamInfo:
    """ParamInfo from InitSpec's JSON schema (an optional field's bounds sit in anyOf)."""
    schema = InitSpec.model_json_schema()["properties"][name]
    bounds = {k: v for option in schema.get("anyOf", [schema]) for k, v in option.items()}
    default = DEFAULT_GAINS.get(method) if name == "gain" else schema.get("default")
    return ParamInfo(
        name=name,
        default=default,
        minimum=bounds.get("minimum", bounds.get("exclusiveMinimum")),
        maximum=bounds.get("maximum", bounds.get("exclusiveMaximum")),
        description=_DESCRIPTIONS[name],
        choices=tuple(schema.get("enum", ())),
    )


_N = "n = fan_in, fan_out or (fan_in + fan_out) / 2 by mode"
_TORCH, _KERAS = "torch.nn.init", "keras.initializers"
_GLOROT = "Glorot & Bengio 2010, Understanding the difficulty of training deep FNNs"
_HE = "He et al. 2015, Delving deep into rectifiers; torch.nn.init.kaiming_*"
_LECUN = "LeCun et al. 1998, Efficient BackProp; keras.initializers.LecunNormal/Uniform"
_ARTICLE = "Katanforoosh & Kunin 2019, Initializing neural networks (deeplearning.ai)"

# name: (formula, variance, reference, note)
_TABLE: dict[str, tuple[str, str, str, str]] = {
    "zeros": ("W = 0", "0", _TORCH, "every unit of a layer stays identical: no symmetry breaking"),
    "constant": ("W = value", "0 (mean square value^2)", _TORCH, "symmetric like zeros"),
    "uniform": (
        "W ~ U(low, high); default U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
        "(high - low)^2 / 12; default 1 / (3 fan_in)",
        f"{_GLOROT}, eq. 1; {_TORCH}",
        "With no bounds this is Glorot & Bengio's 'standard' init, PyTorch nn.Linear's "
        "default and the article's MNIST 'Uniform' - not torch.nn.init.uniform_'s U(0, 1).",
    ),
    "normal": ("W ~ N(mean, std^2)", "std^2 (mean square mean^2 + std^2)", _TORCH, ""),
    "variance_scaling": (
        f"W ~ N(0, scale / n) | truncated normal at 2 std with variance scale / n "
        f"| U(-sqrt(3 scale / n), sqrt(3 scale / n)); {_N}",
        "scale / n",
        f"{_KERAS}.VarianceScaling",
        "Unlike Keras, distribution 'normal' is the plain untruncated normal (the "
        "article's N(0, s / fan_in)); 'truncated_normal' is Keras's truncated normal "
        "(older Keras's 'normal').",
    ),
    "xavier_uniform": (
        "W ~ U(-gain sqrt(6 / (fan_in + fan_out)), gain sqrt(6 / (fan_in + fan_out)))",
        "2 gain^2 / (fan_in + fan_out)",
        f"{_GLOROT}, eq. 16; {_TORCH}",
        "",
    ),
    "xavier_normal": (
        "W ~ N(0, 2 gain^2 / (fan_in + fan_out))",
        "2 gain^2 / (fan_in + fan_out)",
        f"{_GLOROT}; {_TORCH}",
        "Glorot's compromise; not the article's 'xavier'.",
    ),
    "he_uniform": (
        "W ~ U(-gain sqrt(3 / fan_in), gain sqrt(3 / fan_in)), gain = sqrt(2)",
        "gain^2 / fan_in = 2 / fan_in",
        _HE,
        "for ReLU: doubles LeCun's variance",
    ),
    "he_normal": (
        "W ~ N(0, gain^2 / fan_in), gain = sqrt(2)",
        "gain^2 / fan_in = 2 / fan_in",
        _HE,
        "untruncated, as torch.nn.init.kaiming_normal_",
    ),
    "lecun_uniform": ("W ~ U(-sqrt(3 / fan_in), sqrt(3 / fan_in))", "1 / fan_in", _LECUN, ""),
    "lecun_normal": (
        "W ~ N(0, 1 / fan_in)",
        "1 / fan_in",
        _LECUN,
        "untruncated (Keras truncates); the article calls this 'xavier'",
    ),
    "orthogonal": (
        "W = gain Q, Q from the QR decomposition of a N(0, 1) matrix, signs fixed "
        "by diag(R); rows (wide) or columns (tall) orthonormal",
        "gain^2 min(fan_in, fan_out) / (fan_in fan_out)",
        f"Saxe et al. 2014, Exact solutions to ... deep linear networks; {_TORCH}",
        "",
    ),
    "identity": (
        "W = scale I (fan_out x fan_in, rectangular allowed)",
        "scale^2 min(fan_in, fan_out) / (fan_in fan_out) (mean square)",
        _TORCH,
        "the article's nine-layer figure: scale 1.5 explodes, 0.5 vanishes",
    ),
    "lsuv": (
        "W = orthogonal Q, then layer by layer W <- W / std(z) on a data batch until "
        "|Var(z) - 1| < tolerance",
        "data-dependent: Var(z[l]) = 1 for every layer",
        "Mishkin & Matas 2016, All you need is a good init",
        "needs a data batch",
    ),
    "mean_field": (
        "W ~ N(0, s_w / fan_in) (normal) | W = sqrt(s_w) Q, Q orthogonal, rescaled so E[W^2] = "
        "s_w / fan_in (orthogonal); b ~ N(bias, s_b)",
        "s_w / fan_in; Var(b) = s_b",
        "Poole et al. 2016; Schoenholz et al. 2017 (mean-field parametrisation); "
        "Pennington et al. 2017 (orthogonal)",
        "the plane of POST /v1/theory/signal: s_w = weight_variance, s_b = bias_variance; "
        "drawn by engine.propagation.sample_parameters",
    ),
    "zero": ("W = 0", "0", _ARTICLE, "the article's 'zero': family zeros"),
    "too_small": (
        "W ~ N(0, 0.01 / fan_in)",
        "0.01 / fan_in",
        _ARTICLE,
        "variance_scaling, normal, fan_in, scale 0.01: the signal vanishes",
    ),
    "appropriate": (
        "W ~ N(0, 1 / fan_in)",
        "1 / fan_in",
        _ARTICLE,
        "variance_scaling, normal, fan_in, scale 1",
    ),
    "too_large": (
        "W ~ N(0, 100 / fan_in)",
        "100 / fan_in",
        _ARTICLE,
        "variance_scaling, normal, fan_in, scale 100: the signal explodes",
    ),
    "xavier": (
        "W ~ N(0, 1 / fan_in)",
        "1 / fan_in",
        _ARTICLE,
        "The article calls N(0, 1 / fan_in) 'Xavier'; it is LeCun's (family lecun_normal). "
        "Glorot's own xavier_normal is N(0, 2 / (fan_in + fan_out)).",
    ),
    "standard_normal": (
        "W ~ N(0, 1)",
        "1",
        _ARTICLE,
        "family normal, mean 0, std 1: far too large for wide layers",
    ),
}


def _info(name: str) -> InitializerInfo:
    formula, variance, reference, note = _TABLE[name]
    family = ARTICLE_NAMES[name][0] if name in ARTICLE_NAMES else name
    fields = () if name in ARTICLE_NAMES else SPEC_FIELDS[name]
    return InitializerInfo(
        name=name,
        family=family,
        formula=formula,
        variance=variance,
        parameters=tuple(_param(field, name) for field in fields),
        reference=reference,
        note=note,
    )


INITIALIZERS: dict[str, InitializerInfo] = {name: _info(name) for name in _TABLE}
