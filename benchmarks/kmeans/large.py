"""Catalogue-scale helpers used by the k-means benchmark: embedding parquets and two-level clustering.

The library's large-N path is `fit_kmeans(..., max_points_per_centroid=...)` (subsample training, then a
chunked assignment of every row), `choose_k(..., ks=..., sample=...)` and `recluster(..., workers=...)`.
Here: the same recipe over an embedding parquet read in batches, and `two_level`, which clusters into `k1`
and splits every cluster with `recluster`, timing both levels.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from src.cluster.gemm_kmeans import cluster_sums, n_threads
from src.cluster.kmeans import KMeansResult, assign, fit_kmeans, sample_indices
from src.cluster.recluster import recluster
from src.embeddings.store import iter_embedding_batches

log = logging.getLogger(__name__)


def parquet_rows(path: str | Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def sample_parquet(path: str | Path, size: int, seed: int = 0, batch_size: int = 1_000_000) -> np.ndarray:
    """A seeded sample of `size` vectors from an embedding parquet, streaming it once."""
    keep = sample_indices(parquet_rows(path), size, seed)
    parts, offset = [], 0
    for _, vectors in iter_embedding_batches(path, batch_size):
        lo, hi = np.searchsorted(keep, [offset, offset + len(vectors)])
        parts.append(vectors[keep[lo:hi] - offset])
        offset += len(vectors)
    return np.concatenate(parts) if parts else np.empty((0, 0), dtype=np.float32)


@dataclass
class ParquetClusters:
    """Assignment of every row of an embedding parquet (row order as in the file)."""

    track_ids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    centroids: np.ndarray
    inertia: float
    engine: str


def fit_parquet(
    path: str | Path,
    k: int,
    engine: str = "auto",
    n_iter: int = 20,
    seed: int = 0,
    max_points_per_centroid: int = 256,
    batch_size: int = 1_000_000,
    progress: bool = True,
) -> ParquetClusters:
    """k-means over an embedding parquet without loading it: sample → train → assign batch by batch."""
    n = parquet_rows(path)
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must be between 1 and the number of rows in {path} ({n})")
    train = sample_parquet(path, k * max_points_per_centroid, seed, batch_size)
    model = fit_kmeans(train, k, engine=engine, n_iter=n_iter, seed=seed)
    ids, labels, dist = [], np.empty(n, dtype=np.int64), np.empty(n, dtype=np.float32)
    offset = 0
    batches = iter_embedding_batches(path, batch_size)
    for batch_ids, vectors in tqdm(batches, desc="assign (parquet)", disable=not progress, leave=False):
        lab, d = assign(vectors, model.centroids)
        labels[offset : offset + len(lab)], dist[offset : offset + len(lab)] = lab, d
        ids.append(batch_ids)
        offset += len(lab)
    return ParquetClusters(
        np.concatenate(ids), labels, dist, model.centroids, float(dist.astype(np.float64).sum()), model.engine
    )


@dataclass
class TwoLevel:
    """Level-1 clusters, level-2 sub-clusters (0-based inside each cluster) and per-cluster details."""

    labels: np.ndarray
    sublabels: np.ndarray
    centroids: np.ndarray
    inertia: float
    subinertia: float
    info: dict[int, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def group_inertia(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per group, Σ of squared distances of its rows to their mean (``Σ‖x‖² − ‖S‖²/n``, no copy of X)."""
    size = int(groups.max()) + 1
    counts = np.bincount(groups, minlength=size)
    sq = np.bincount(groups, weights=np.einsum("ij,ij->i", X, X, dtype=np.float64), minlength=size)
    sums = cluster_sums(X, groups, size)
    return sq - np.einsum("ij,ij->i", sums, sums) / np.maximum(counts, 1)


def two_level(
    X: np.ndarray,
    k1: int,
    k2: int | str = 16,
    min_size: int = 32,
    engine: str = "auto",
    n_iter: int = 20,
    seed: int = 0,
    max_points_per_centroid: int = 256,
    k2_grid: tuple[int, ...] = (2, 4, 8, 16),
    progress: bool = True,
    centroids: np.ndarray | None = None,
) -> TwoLevel:
    """Cluster into `k1`, then `recluster` each cluster into at most `k2` (an int, or "auto": sampled elbow on
    `k2_grid`), every sub-cluster keeping at least `min_size` points, clusters split in parallel threads.

    Level-1 `centroids` already trained elsewhere (e.g. by a benchmark) are only used to assign, not retrained.
    `subinertia` is measured to the mean of each sub-cluster; unsplit clusters keep their level-1 distances.
    """
    t0 = time.perf_counter()
    if centroids is None:
        top = fit_kmeans(
            X, k1, engine=engine, n_iter=n_iter, seed=seed, max_points_per_centroid=max_points_per_centroid
        )
    else:
        if len(centroids) != k1:
            raise ValueError(f"{len(centroids)} level-1 centroids given for k1={k1}")
        labels, dist = assign(X, centroids)
        inertia = float(dist.astype(np.float64).sum())
        top = KMeansResult(labels, np.asarray(centroids, dtype=np.float32), inertia, 0, "given")
    t1 = time.perf_counter()
    sub, info = recluster(
        X,
        top.labels,
        min_size=min_size,
        k_max=max(k2_grid) if k2 == "auto" else int(k2),
        k=k2,
        engine=engine,
        seed=seed,
        progress=progress,
        n_iter=n_iter,
        k_grid=k2_grid,
        sample=5_000,
        max_points_per_centroid=max_points_per_centroid,
        workers=n_threads(),
    )
    width = int(sub.max()) + 1
    per_group = group_inertia(X, top.labels * width + sub)
    split = [c for c, v in info.items() if v["k"] > 1]
    subinertia = float(sum(per_group[c * width : c * width + info[c]["k"]].sum() for c in split))
    unsplit = ~np.isin(top.labels, split)
    if unsplit.any():  # unsplit clusters keep their level-1 distances
        _, dist = assign(X[unsplit], top.centroids)
        subinertia += float(dist.astype(np.float64).sum())
    t2 = time.perf_counter()
    n_sub = sum(v["k"] for v in info.values())
    log.info("two-level: k1=%d in %.1fs, %d sub-clusters in %.1fs", k1, t1 - t0, n_sub, t2 - t1)
    seconds = {"level1": t1 - t0, "level2": t2 - t1}
    return TwoLevel(top.labels, sub, top.centroids, top.inertia, subinertia, info, seconds)
