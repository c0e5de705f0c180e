"""Two ranks on one machine against one process: the distributed Lloyd loop's overhead, measured side by side.

The same data (a .npy of N × d float32, a Gaussian mixture), the same k, seed and iteration count run through
`scripts/kmeans_distributed.py` twice: one process with all the cores (`threads=C`), then
`torchrun --nproc_per_node=2` with C/2 threads per rank. Lloyd runs on every row (`max_points_per_centroid=null`,
`tol=0`), so both do the same arithmetic; the ratio of their `fit_seconds` is the cost of distributing, and each
rank's `allreduce_seconds` (time inside the per-iteration all-reduce, waiting for the slower rank included) says
how much of it is communication. Prints one JSON object; issue 13 asks for a ratio ≤ 1.3.

    PYTHONPATH=. .venv/bin/python benchmarks/kmeans/distributed_2proc.py [N] [d] [k] [iterations]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def data(path: Path, n: int, d: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 3, (256, d)).astype(np.float32)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for lo in range(0, n, 200_000):
        m = min(200_000, n - lo)
        X[lo : lo + m] = means[rng.integers(0, 256, m)] + rng.normal(size=(m, d)).astype(np.float32)
    X.flush()


def run(command: list[str], run_dir: Path, args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*command, str(ROOT / "scripts" / "kmeans_distributed.py"), *args, f"hydra.run.dir={run_dir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"{command}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return json.loads((run_dir / "metrics.json").read_text())


def main() -> None:
    n, d, k, iterations = (
        int(a) for a in (sys.argv[1:] + ["2000000", "32", "256", "20"][len(sys.argv) - 1 :])
    )
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="kmeans_2proc_") as tmp:
        path = Path(tmp) / "X.npy"
        data(path, n, d)
        common = [f"input={path}", f"k={k}", f"n_iter={iterations}", "tol=0", "max_points_per_centroid=null"]
        common += ["write_assignments=false", "seed=0"]
        python = [sys.executable]
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
        one = run(python, Path(tmp) / "one", [*common, f"threads={cores}"])
        two = run(torchrun, Path(tmp) / "two", [*common, f"threads={max(1, cores // 2)}"])
    out = {
        "n": n,
        "d": d,
        "k": k,
        "iterations": iterations,
        "cores": cores,
        "one_process_fit_s": one["fit_seconds"],
        "two_ranks_fit_s": two["fit_seconds"],
        "ratio_two_over_one": two["fit_seconds"] / one["fit_seconds"],
        "rank0_allreduce_s": two["allreduce_seconds"],
        "allreduce_share_of_fit": two["allreduce_seconds"] / two["fit_seconds"],
        "inertia_relative_difference": abs(two["inertia"] - one["inertia"]) / one["inertia"],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
