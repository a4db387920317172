"""Time the ``trainable_depth`` preset's whole grid (issue 15: at most 10 minutes on two
cores) and print what it shows: test accuracy per (depth, s_w) beside theory's 6 xi_c.

Every variation of the preset runs through the engine's training loop, as a worker would,
in ``--processes`` processes (two: the machine's cores); BLAS is held to one thread per
process. The report gives the grid's wall time as a ratio to the 10-minute target and the
summed CPU time. Nothing passes or fails here.

    .venv/bin/python -m bench.trainable_depth [--processes 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from threadpoolctl import threadpool_limits

from engine.meanfield import signal_propagation
from engine.presets import PRESETS
from engine.spec import resolve
from engine.sweep import SweepCreate, variations
from engine.train import Training

TARGET_S = 600.0  # issue 15: the whole grid in at most 10 minutes on two cores


def run_one(request: dict[str, Any]) -> tuple[float, float | None, float]:
    """(CPU seconds, test accuracy or None if it diverged, wall seconds) of one variation."""
    with threadpool_limits(1):
        wall, cpu = time.perf_counter(), time.process_time()
        run = Training(resolve(request))
        for _ in run.run():
            pass
        assert run.summary is not None
        return time.process_time() - cpu, run.summary["test_accuracy"], time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    preset = PRESETS["trainable_depth"]
    sweep = SweepCreate(base={"preset": preset.name}, vary=preset.variants)  # type: ignore[arg-type]
    chosen, requests = zip(*variations(sweep), strict=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(args.processes) as pool:
        results = list(pool.map(run_one, requests))
    wall = time.perf_counter() - start
    cpu = sum(r[0] for r in results)
    print(f"trainable_depth: {len(results)} runs in {wall:.0f} s wall "
          f"({wall / TARGET_S:.2f}x the 600 s target), {cpu:.0f} s CPU, "
          f"{args.processes} processes")  # fmt: skip
    accuracy = {
        (len(c["model.hidden"]), c["init.weight_variance"]): r[1]
        for c, r in zip(chosen, results, strict=True)
    }
    sb = preset.spec["init"]["bias_variance"]
    depths = sorted({d for d, _ in accuracy})
    weights = sorted({w for _, w in accuracy})
    print("s_w     " + "".join(f"{w:>7g}" for w in weights))
    six_xi = [6 * signal_propagation("tanh", w, sb).xi_c for w in weights]
    print("6 xi_c  " + "".join(f"{x:>7.1f}" for x in six_xi))
    for depth in depths:
        row = (accuracy[depth, w] for w in weights)
        print(f"L = {depth:<4}" + "".join(f"{a:>7.2f}" if a is not None else "   div" for a in row))


if __name__ == "__main__":
    main()
