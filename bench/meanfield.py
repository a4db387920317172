"""Time the mean-field phase diagram: a 50 x 50 grid of (s_w, s_b), every cell's q*, c*,
chi_1, chi_c, xi_q, xi_c and phase, plus the critical line along s_b (issue 15: at most 1 s).

Each activation's grid runs a warm-up, then ``--rounds`` times; the report gives the median
and the fastest wall time and the median CPU time of this process (on a machine shared with
other work, CPU time is the steadier of the two), each as a ratio to the 1 s target. Nothing
passes or fails here.

    .venv/bin/python -m bench.meanfield [--rounds 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from bench.engine import blas_line, cpu_model
from engine.meanfield import phase_diagram

TARGET_S = 1.0  # issue 15: a 50 x 50 phase diagram in at most 1 s
GRIDS = {  # activation -> (s_w range, s_b range): each spans its critical line
    "tanh": ((0.1, 5.0), (0.0, 0.5)),
    "relu": ((0.1, 4.0), (0.0, 0.5)),
}
# sigmoid is left out: its critical line sits at s_w ~ 103 (q* ~ 57), where the 2D rule
# needs 350-512 nodes per axis for each chaotic cell; its grid takes minutes, not seconds


def time_grid(activation: str, size: int, rounds: int) -> tuple[list[float], list[float], int]:
    """(wall seconds, CPU seconds) per round, and the grid's chaotic cells."""
    (w_lo, w_hi), (b_lo, b_hi) = GRIDS[activation]
    sw, sb = np.linspace(w_lo, w_hi, size), np.linspace(b_lo, b_hi, size)
    grid = phase_diagram(activation, sw, sb)  # warm-up: rule caches, page faults
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        phase_diagram(activation, sw, sb)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, int(np.sum(grid.statistics["phase"] == "chaotic"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args()
    print(f"bench.meanfield: {cpu_model()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with threadpool_limits(limits=args.threads):
        print(f"numpy {np.__version__}, {blas_line()}")
        print(f"{args.size} x {args.size} grid, {args.rounds} rounds; ratio = time / {TARGET_S} s")
        for activation in GRIDS:
            walls, cpus, chaotic = time_grid(activation, args.size, args.rounds)
            median, best, cpu = statistics.median(walls), min(walls), statistics.median(cpus)
            print(f"  {activation:8s} ({chaotic:4d} chaotic cells): wall median {median:.3f} s "
                  f"({median / TARGET_S:.2f}x), fastest {best:.3f} s ({best / TARGET_S:.2f}x); "
                  f"CPU median {cpu:.3f} s ({cpu / TARGET_S:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
