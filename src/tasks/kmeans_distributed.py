"""`scripts/kmeans_distributed.py`: join the process group, read this rank's shard, fit one or two levels of
k-means across the ranks, write the run's files (rank 0 the shared ones, every rank its own assignments)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import DictConfig

from src.cluster.collectives import (
    all_gather_ints,
    close_process_group,
    init_process_group,
    rank,
    reduce_seconds,
    world_size,
)
from src.cluster.distributed import fit_distributed
from src.cluster.hierarchical import fit_two_level
from src.data.errors import DataError
from src.embeddings.shards import read_shard
from src.utils.io import atomic_path, write_json

log = logging.getLogger(__name__)


def _check_shapes(X: np.ndarray, k: int) -> int:
    """Every rank has rows of one width, and there are at least k rows in all (else one clear error)."""
    table = all_gather_ints(np.array([len(X), X.shape[1] if X.size else -1]))
    widths = {int(w) for w in table[:, 1] if w >= 0}
    if len(widths) != 1:
        raise DataError(f"the shards disagree on the vector width ({sorted(widths)})")
    rows = int(table[:, 0].sum())
    if not 1 <= k <= rows or (table[:, 0] == 0).any():
        raise DataError(f"k={k} needs 1 ≤ k ≤ rows ({rows}) and rows on every rank ({table[:, 0].tolist()})")
    return rows


def _write_assignments(path: Path, first: int, ids, labels, sublabels, dist) -> None:
    columns = {"row": pa.array(first + np.arange(len(labels), dtype=np.int64))}
    if ids is not None:
        columns["track_id"] = pa.array(np.asarray(ids).astype(str))
    columns |= {"cluster": labels, "subcluster": sublabels, "distance": np.asarray(dist, np.float32)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(columns), tmp)


def slurm_environment() -> None:
    """Under SLURM without torchrun (Hydra's submitit launcher, one task per rank), export RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR/PORT from the SLURM variables, as torchrun would set them."""
    if "RANK" not in os.environ and "SLURM_PROCID" in os.environ:  # pragma: no cover - needs SLURM
        from submitit.helpers import TorchDistributedEnvironment

        TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


def run_distributed_kmeans(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Fit across the ranks of the torchrun job (or alone, as one rank); rank 0 returns the metrics."""
    slurm_environment()
    if "RANK" not in os.environ:  # a plain `python scripts/kmeans_distributed.py`: a group of one
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(29500 + os.getpid() % 1000))
    backend = init_process_group(float(cfg.timeout_s))
    try:
        me, world = rank(), world_size()
        began = time.perf_counter()
        ids, X, first = read_shard(cfg.input, me, world)
        rows = _check_shapes(X, int(cfg.k))
        loaded = time.perf_counter()
        reduce_before = reduce_seconds()
        options = {
            "seed": int(cfg.seed),
            "backend": str(cfg.engine),
            "max_points_per_centroid": cfg.max_points_per_centroid,
            "threads": cfg.threads,
        }
        extra = {"init": str(cfg.init), "device": cfg.device, "precision": str(cfg.precision), "tol": cfg.tol}
        if int(cfg.k2) > 0:
            two = fit_two_level(
                X, int(cfg.k), int(cfg.k2), int(cfg.min_size), int(cfg.n_iter), **options, **extra
            )
            top, sublabels, inertia2 = two.level1, two.sublabels, two.inertia
        else:
            top = fit_distributed(X, int(cfg.k), n_iter=int(cfg.n_iter), **options, **extra)
            sublabels, inertia2, two = np.zeros(len(X), dtype=np.int64), top.inertia, None
        fitted = time.perf_counter()
        if cfg.write_assignments:
            path = run_dir / "assignments" / f"part-{me:05d}.parquet"
            _write_assignments(path, first, ids, top.labels, sublabels, top.distances)
        metrics = {
            "world_size": float(world),
            "rows": float(rows),
            "inertia": top.inertia,
            "inertia_level2": float(inertia2),
            "n_iter": float(top.n_iter),
            "load_seconds": loaded - began,
            "fit_seconds": fitted - loaded,
            "allreduce_seconds": reduce_seconds() - reduce_before,
            "empty_clusters": float((top.counts == 0).sum()),
        }
        if me != 0:
            return {}
        np.save(run_dir / "centroids.npy", top.centroids)
        if two is not None:
            np.savez(run_dir / "subcentroids.npz", *two.subcentroids, owners=two.owners)
            metrics["subclusters"] = float(sum(len(c) for c in two.subcentroids))
        write_json(run_dir / "metrics.json", metrics)
        log.info("distributed k-means over %d %s ranks: %s", world, backend, metrics)
        return metrics
    finally:
        close_process_group()
