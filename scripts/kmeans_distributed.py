"""Distributed k-means (one or two levels) over torch.distributed, one process per rank:

    torchrun --standalone --nproc_per_node=N scripts/kmeans_distributed.py input=EMB.npy|EMB.parquet|DIR k=K [k2=K2]

Each rank reads only its shard of `input`, the Lloyd statistics are all-reduced (gloo on CPU, NCCL on CUDA);
with `k2` > 0 every cluster is split again, the per-cluster fits spread over the ranks. Writes centroids.npy,
subcentroids.npz (two levels), assignments/part-<rank>.parquet and metrics.json into the run directory.
Several machines: docs/scaling.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="kmeans_distributed")
@clean_errors
def main(cfg: DictConfig) -> float:
    from src.tasks.kmeans_distributed import run_distributed_kmeans

    metrics = run_distributed_kmeans(cfg, run_dir())
    if metrics:
        print(
            f"inertia {metrics['inertia']:.6g} over {int(metrics['rows'])} rows on {int(metrics['world_size'])} rank(s)"
        )
        print(f"run dir: {run_dir().resolve()}")
    return float(metrics.get("inertia", float("nan")))


if __name__ == "__main__":
    main()
