"""The memory budget of one job: what a resolved spec asks of a worker's memory and of the
store, beside the compute budget (``ExperimentSpec.work_flops`` in engine/experiment.py).

Pure functions of a resolved spec, and the limits they are held to:

- ``parameters``: weights and biases of the network (each held with its gradient and, for
  adam, two moments);
- ``largest_activation``: values in the widest layer's output for the largest set of rows a
  pass computes at once (the batch, the evaluation chunk or the decision-boundary grid);
- ``snapshot_bytes``: the parameter snapshots a run stores (iteration 0, the last, and every
  ``record.parameters.every``).
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol


class Resolved(Protocol):
    """What the budget reads of an ``engine.experiment.ExperimentSpec`` (which calls it)."""

    dataset: Any
    model: Any
    training: Any
    record: Any

    @property
    def sizes(self) -> list[int]: ...

    @property
    def batch_size(self) -> int: ...


# 40 MB of float32 weights: a thousand times the MNIST figure's 0.5 M, enough for every preset
MAX_PARAMETERS = 10_000_000
# 128 MB as float32: e.g. a batch of 10,000 through layers of 3,200 units
MAX_ACTIVATION_VALUES = 32_000_000
# what one job's parameter snapshots may take in Redis
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
EVALUATION_CHUNK = 2000  # rows per pass when the summary evaluates a whole split (engine/train.py)


def parameters(spec: Resolved) -> int:
    """Weights and biases of every layer."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(spec.sizes))


def largest_rows(spec: Resolved) -> int:
    """The most rows one pass takes at once: a batch, an evaluation chunk, or the grid."""
    rows = max(spec.batch_size, min(spec.dataset.n_samples, EVALUATION_CHUNK))
    boundary = spec.record.boundary
    if not spec.dataset.is_image and boundary.every:
        rows = max(rows, boundary.resolution**2)
    return rows


def largest_activation(spec: Resolved) -> int:
    """Values in the largest layer's activations for :func:`largest_rows` rows."""
    return largest_rows(spec) * max(spec.sizes)


def snapshots(spec: Resolved) -> int:
    """How many parameter snapshots a run to its last iteration stores."""
    last, every = spec.training.iterations, spec.record.parameters.every
    if every <= 0:
        return 1 if last == 0 else 2
    return len(range(0, last + 1, every)) + (last % every != 0)


def snapshot_bytes(spec: Resolved) -> int:
    itemsize = 8 if spec.model.dtype == "float64" else 4
    return snapshots(spec) * parameters(spec) * itemsize


def over_budget(spec: Resolved) -> tuple[tuple[str, ...], str] | None:
    """The field to change first and why, when ``spec`` is over the memory budget; else None."""
    n = parameters(spec)
    if n > MAX_PARAMETERS:
        return ("model", "hidden"), (
            f"this network has {n:,} parameters, over the per-job budget of "
            f"{MAX_PARAMETERS:,}; use fewer or narrower layers"
        )
    values = largest_activation(spec)
    if values > MAX_ACTIVATION_VALUES:
        rows, width = largest_rows(spec), max(spec.sizes)
        return ("optimizer", "batch_size"), (
            f"the largest activation holds {rows:,} rows x {width:,} "
            f"units = {values:,} values, over the per-job budget of {MAX_ACTIVATION_VALUES:,}; "
            "use smaller batches, a coarser record.boundary.resolution or narrower layers"
        )
    stored = snapshot_bytes(spec)
    if stored > MAX_SNAPSHOT_BYTES:
        return ("record", "parameters", "every"), (
            f"{snapshots(spec):,} parameter snapshots would take "
            f"{stored:,} bytes, over the per-job budget of {MAX_SNAPSHOT_BYTES:,}; keep fewer "
            "(a larger every, 0 for the first and last only) or use a smaller network"
        )
    return None
