"""The record's opt-in ``signal`` section: signal propagation measured on the job's network.

Measured with engine.propagation on the network's current parameters, in float64:

- per hidden layer l, q[l], the pre-activations' mean square averaged over 2 P training
  inputs, and c[l], the correlation of the pairs (x[0], x[1]), (x[2], x[3]), ... averaged
  over the P pairs;
- the Jacobian of the hidden stack, d a[L-1] / d a[1] (from the first hidden layer's
  activations to the last's, at the first input): the deep part of the network, square when
  the hidden layers are equally wide; its singular values' histogram, mean square, largest and
  smallest (absent with fewer than two hidden layers);
- xi_c fitted to the measured c[l] (engine.propagation.fit_depth_scale) beside theory's.

For ``init.method: mean_field``, mean field's values sit beside the measurement: the fixed
points, chi_1, the depth scales and the phase, q[l] and c[l] from the same inputs, and the
Jacobian's mean squared singular value chi_1^(L-2). A nonzero ``init.bias`` counts as bias
variance (both inputs share the same biases, so b's mean square is what enters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.activations import activation_forward
from engine.experiment import ExperimentSpec
from engine.init import bias_mean_square
from engine.meanfield import SignalPropagation, signal_propagation
from engine.propagation import (
    Array,
    fit_depth_scale,
    input_output_jacobian,
    jacobian_spectrum,
    layer_statistics,
    maps_from_inputs,
)
from engine.stats import finite_or_none


class SignalRecorder:
    """Measures the signal section of a job's network; theory is computed once, here."""

    def __init__(self, spec: ExperimentSpec, x_train: Array) -> None:
        settings = spec.record.signal
        n = min(2 * settings.pairs, len(x_train) - len(x_train) % 2)
        self.x = np.asarray(x_train[:n], dtype=np.float64)
        self.activation = spec.model.activation
        self.bins = settings.bins
        self.hidden = len(spec.model.hidden)
        self.theory: SignalPropagation | None = None
        self.theory_q: Array | None = None
        self.theory_c: Array | None = None
        if spec.init.method == "mean_field" and n >= 2:
            sw, sb = spec.init.weight_variance, bias_mean_square(spec.init)
            self.theory = signal_propagation(self.activation, sw, sb)
            # per pair, then averaged over the pairs as the measurement is
            squares = np.mean(self.x**2, axis=1)
            cross = np.mean(self.x[0::2] * self.x[1::2], axis=1)
            q, c = maps_from_inputs(self.activation, sw, sb, squares[0::2], squares[1::2], cross,
                                    self.hidden)  # fmt: skip
            self.theory_q, self.theory_c = q.mean(axis=1), c.mean(axis=1)

    def measure(self, weights: Sequence[Array], biases: Sequence[Array]) -> dict[str, Any]:
        """The section for the given parameters (the output layer is left out); with no hidden
        layer, or fewer than two training inputs, there is nothing to measure: theory only."""
        theory = self.theory.to_json() if self.theory is not None else None
        if len(self.x) < 2 or self.hidden == 0:
            xi_c = {"measured": None, "theory": theory["xi_c"] if theory else None}
            return {"pairs": 0, "layers": [], "jacobian": None, "xi_c": xi_c, "theory": theory}
        ws = [np.asarray(w, dtype=np.float64) for w in weights[: self.hidden]]
        bs = [np.asarray(b, dtype=np.float64) for b in biases[: self.hidden]]
        # a dead layer (q = 0: c is 0 / 0) or an exploding one (inf) is reported as null
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            stats = layer_statistics(ws, bs, self.activation, self.x)
            q, c = stats.q.mean(axis=1), stats.c.mean(axis=1)
            jacobian = self._jacobian(ws, bs)
        layers = []
        for index in range(self.hidden):
            layer = {"layer": index + 1, "q": finite_or_none(q[index]),
                     "c": finite_or_none(c[index]), "q_theory": None, "c_theory": None}  # fmt: skip
            if self.theory_q is not None and self.theory_c is not None:
                layer["q_theory"] = finite_or_none(self.theory_q[index])
                layer["c_theory"] = finite_or_none(self.theory_c[index])
            layers.append(layer)
        c_star = self.theory.c_star if self.theory is not None else float("nan")
        return {
            "pairs": len(self.x) // 2,
            "layers": layers,
            "jacobian": jacobian,
            "xi_c": {
                "measured": finite_or_none(fit_depth_scale(c, c_star)),
                "theory": theory["xi_c"] if theory else None,
            },
            "theory": theory,
        }

    def _jacobian(self, ws: Sequence[Array], bs: Sequence[Array]) -> dict[str, Any] | None:
        if self.hidden < 2:
            return None
        a1 = layer_input(ws[0], bs[0], self.activation, self.x[0])
        jac = input_output_jacobian(ws[1:], bs[1:], self.activation, a1)
        if not np.isfinite(jac).all():  # overflowed: no spectrum to take
            return None
        spectrum = jacobian_spectrum(jac, self.bins)
        chi_1 = self.theory.chi_1 if self.theory is not None else float("nan")
        return {
            "histogram": {
                "range": [float(spectrum.edges[0]), float(spectrum.edges[-1])],
                "counts": spectrum.counts.tolist(),
            },
            "mean_squared": finite_or_none(spectrum.mean_squared),
            "largest": finite_or_none(spectrum.largest),
            "smallest": finite_or_none(spectrum.smallest),
            "mean_squared_theory": finite_or_none(chi_1 ** (self.hidden - 1)),
        }


def layer_input(w: Array, b: Array, activation: str, x: Array) -> Array:
    """f(W x + b): the first hidden layer's activations, where the hidden stack begins."""
    return activation_forward(activation, w @ x + b)[0]  # type: ignore[no-any-return]
