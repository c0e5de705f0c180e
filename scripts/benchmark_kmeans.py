"""k-means engines side by side: `python scripts/benchmark_kmeans.py case=a|b|c [overrides]`.

Same data, same initial centroids, same process. Reports seconds (median of `repeats`), achieved GFLOP/s of
the distance GEMM (2·N·K·D per iteration), the fraction of the fp32 GEMM peak measured in this run, final
inertia (exact, recomputed for every engine) and its relative difference to each reference, and peak RSS.
Case b adds the large-N path (subsample training, chunked assignment of all N) and two-level reclustering;
case c runs on CUDA and is skipped without one. Writes `benchmark.json` into the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="benchmark_kmeans")
@clean_errors
def main(cfg: DictConfig) -> float:
    from benchmarks.kmeans.bench import format_table, run_benchmark
    from src.utils.io import write_json

    result = run_benchmark(cfg)
    path = write_json(run_dir() / "benchmark.json", result)
    print(format_table(result))
    print(f"benchmark: {path.resolve()}")
    return float(result.get("default_vs_faiss", float("nan")))


if __name__ == "__main__":
    main()
