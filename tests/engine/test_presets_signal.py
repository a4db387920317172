"""The signal-propagation presets: their constants sit where theory says, their variants are
one sweep each, and dynamical_isometry shows what it claims on a short network."""

from __future__ import annotations

import numpy as np
import pytest

from engine.meanfield import critical_weight_variance, signal_propagation
from engine.presets import PRESETS, TANH_CRITICAL
from engine.spec import resolve
from engine.sweep import SweepCreate, variations
from engine.train import Training

SIGNAL_PRESETS = ("edge_of_chaos", "trainable_depth", "dynamical_isometry")


@pytest.mark.parametrize(("sb", "sw"), list(TANH_CRITICAL.items()))
def test_the_tanh_critical_points_are_on_the_critical_line(sb, sw):
    assert critical_weight_variance("tanh", sb) == pytest.approx(sw, rel=1e-5)
    assert signal_propagation("tanh", sw, sb).phase == "critical"


@pytest.mark.parametrize("name", SIGNAL_PRESETS)
def test_each_presets_variants_run_as_one_sweep_of_valid_specs(name):
    preset = PRESETS[name]
    sweep = SweepCreate.model_validate({"base": {"preset": name}, "vary": preset.variants})
    for _, request in variations(sweep):
        resolve(request)


def test_trainable_depth_spans_both_phases_and_depths_past_6_xi_c():
    preset = PRESETS["trainable_depth"]
    sb = preset.spec["init"]["bias_variance"]
    phases = {signal_propagation("tanh", sw, sb).phase
              for sw in preset.variants["init.weight_variance"]}  # fmt: skip
    assert phases == {"ordered", "chaotic"}
    deepest = max(len(h) for h in preset.variants["model.hidden"])
    assert deepest > 6 * signal_propagation("tanh", 1.0, sb).xi_c


def spectrum(distribution: str) -> dict:
    request = {"preset": "dynamical_isometry", "model": {"hidden": [100] * 30},
               "init": {"distribution": distribution}}  # fmt: skip
    [record] = Training(resolve(request)).records()
    return record["signal"]["jacobian"]  # type: ignore[no-any-return]


def test_dynamical_isometry_orthogonal_weights_keep_the_spectrum_narrower():
    gaussian, orthogonal = spectrum("normal"), spectrum("orthogonal")
    for jac in (gaussian, orthogonal):  # both near chi_1^29 = 1 at the critical point
        assert jac["mean_squared_theory"] == pytest.approx(1.0, abs=1e-3)
        assert 0.3 < jac["mean_squared"] < 3.0  # seen: 0.60 and 0.67
    spread = {name: jac["largest"] / jac["smallest"]
              for name, jac in (("normal", gaussian), ("orthogonal", orthogonal))}  # fmt: skip
    assert spread["orthogonal"] * 1e3 < spread["normal"]  # seen: 53 against 4e17
    assert np.isfinite(list(spread.values())).all()
