"""How many bytes of Redis a job may take, from its resolved spec alone (admission control).

A pure function of the spec, counted from what the store keeps (store/packing.py): one packed
record per recorded iteration, its histograms, boundary grids and predictions as binary
arrays, the parameter snapshots as float32/float64 arrays, the 2D dataset as JSON, and the
job's hash. Arrays are counted at their uncompressed binary size (boundary grids at a byte a
cell: see :data:`GRID_CELL`), records at a bound on their compressed skeleton, so the estimate
stays above what a job stores; tests/store/test_estimate.py and bench/store_bytes.py compare
it with real jobs.
"""

from __future__ import annotations

import itertools

from engine.experiment import ExperimentSpec

JOB_HASH = 8_000  # the job's hash: its spec, summary, timestamps
KEY_OVERHEAD = 1_000  # per key and per stream node, Redis's own bookkeeping
RECORD_BASE = 200  # a record's skeleton: iteration, epoch, cost, accuracies
LAYER_SKELETON = 300  # a layer's six summaries and unit spread in a compressed skeleton
# a boundary grid's cell: 2 bytes raw, but stored as zigzagged differences of a smooth surface
# (store/arrays.py) its high byte is zero and zstd takes it to ~0.25 byte; 1 byte is the bound
GRID_CELL = 1
ENTRY_OVERHEAD = 40  # a stream entry's id and field names in a listpack
ARRAY_HEADER = 16  # kind, shape, and its share of a zstd frame
POINT_JSON = 50  # one 2D point of the dataset as JSON (two coordinates and a label)
# record.signal: its theory and xi_c, and per hidden layer four full-precision floats in JSON
SIGNAL_BASE = 600
SIGNAL_LAYER = 120


def recorded(iterations: int, every: int) -> int:
    """How many iterations of 0..iterations are due every ``every`` (and the last always)."""
    if every <= 0:
        return 0
    return iterations // every + 1 + (iterations % every != 0)


def storage_bytes(spec: ExperimentSpec) -> int:
    """Bytes of Redis the job's keys may take once it has run to the end."""
    rec, iterations = spec.record, spec.training.iterations
    layers = len(spec.sizes) - 1
    records = recorded(iterations, rec.every)
    total = JOB_HASH + 4 * KEY_OVERHEAD
    total += records * (RECORD_BASE + ENTRY_OVERHEAD + layers * LAYER_SKELETON)
    # items due on their own period are also written on every recorded iteration that is
    # the last: counted as due on min(records, their own count)
    histograms = min(records, recorded(iterations, rec.histograms.every))
    per_histogram = ARRAY_HEADER + 4 * rec.histograms.bins
    total += histograms * layers * len(rec.histograms.fields) * per_histogram
    if not spec.dataset.is_image:
        grids = min(records, recorded(iterations, rec.boundary.every))
        cells = rec.boundary.resolution**2
        per_grid = GRID_CELL * cells * (2 if spec.n_classes > 2 else 1) + ARRAY_HEADER
        total += grids * per_grid + spec.dataset.n_samples * POINT_JSON
    else:
        predictions = min(records, recorded(iterations, rec.predictions.every))
        count = min(rec.predictions.count, spec.batch_size)
        total += predictions * (4 * ARRAY_HEADER + count * (4 + 1 + 1 + 1))
    signals = min(records, recorded(iterations, rec.signal.every))
    per_signal = SIGNAL_BASE + len(spec.model.hidden) * SIGNAL_LAYER + 4 * rec.signal.bins
    total += signals * (per_signal + ARRAY_HEADER)
    snapshots = 2 + (iterations // rec.parameters.every if rec.parameters.every else 0)
    itemsize = 4 if spec.model.dtype == "float32" else 8
    parameters = sum(a * b + b for a, b in itertools.pairwise(spec.sizes))
    total += snapshots * (parameters * itemsize + layers * 2 * ARRAY_HEADER + KEY_OVERHEAD)
    return int(total)
