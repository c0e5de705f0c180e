"""k-means at catalogue scale (10M+ tracks): train on a subsample, assign everything in bounded memory.

The recipe is FAISS's: centroids barely change once each has a few hundred training points, so Lloyd runs on
``k × max_points_per_centroid`` seeded rows and every row is then assigned once, block by block. The same
holds for choosing k (elbow + silhouette on a sample) and for the second level of two-level reclustering
(each cluster is split on its own rows only). Embeddings on disk are read from parquet in batches.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from src.cluster.choose_k import KChoice, find_knee, silhouette_sample
from src.cluster.gemm_kmeans import n_threads, single_threaded_blas
from src.cluster.kmeans import KMeansResult, assign, fit_kmeans
from src.embeddings.store import iter_embedding_batches

log = logging.getLogger(__name__)


def sample_indices(n: int, size: int, seed: int) -> np.ndarray:
    """`size` distinct row numbers out of `n`, seeded and sorted (so reads stay sequential)."""
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def fit_large(
    X: np.ndarray,
    k: int,
    engine: str = "auto",
    n_iter: int = 20,
    tol: float = 1e-4,
    seed: int = 0,
    max_points_per_centroid: int = 256,
    init: str = "k-means++",
    device: str | None = None,
    precision: str = "fp32",
) -> KMeansResult:
    """k-means on a (possibly huge, possibly memory-mapped) matrix: subsample-train, then chunked assign."""
    return fit_kmeans(
        X,
        k,
        engine=engine,
        n_iter=n_iter,
        tol=tol,
        seed=seed,
        init=init,
        max_points_per_centroid=max_points_per_centroid,
        device=device,
        precision=precision,
    )


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


def choose_k_sampled(
    X: np.ndarray,
    ks: list[int],
    sample: int = 50_000,
    engine: str = "auto",
    n_iter: int = 20,
    seed: int = 0,
    silhouette_size: int = 5_000,
    threads: int | None = None,
) -> KChoice:
    """Elbow (knee of inertia over `ks`) and silhouette, both measured on a seeded sample of `sample` rows.

    `ks` may be any increasing grid (e.g. powers of two), so the cost is len(ks) fits on the sample whatever N.
    """
    rows = X[sample_indices(len(X), sample, seed)]
    ks = sorted({int(k) for k in ks if 1 <= int(k) <= len(rows)})
    if not ks:
        raise ValueError(f"no k in {ks} fits a sample of {len(rows)} rows")
    inertias, silhouettes = [], []
    for k in ks:
        result = fit_kmeans(rows, k, engine=engine, n_iter=n_iter, seed=seed, threads=threads)
        inertias.append(result.inertia)
        silhouettes.append(
            silhouette_sample(rows, result.labels, silhouette_size, seed) if k > 1 else float("nan")
        )
    knee = find_knee(ks, inertias)
    if knee is not None:
        k, method = knee, "knee"
        reason = f"knee of the sampled inertia curve over k∈{ks} ({len(rows)} of {len(X)} rows) at k={k}"
    elif np.isfinite(silhouettes).any():
        k, method = ks[int(np.nanargmax(silhouettes))], "silhouette"
        reason = f"no knee over k∈{ks}; best sampled silhouette at k={k}"
    else:
        k, method, reason = ks[0], "trivial", f"one candidate k={ks[0]}"
    return KChoice(ks, inertias, silhouettes, int(k), method, reason)


@dataclass
class TwoLevel:
    """Level-1 clusters, level-2 sub-clusters (0-based inside each cluster) and per-cluster details."""

    labels: np.ndarray
    sublabels: np.ndarray
    centroids: np.ndarray
    subcentroids: dict[int, np.ndarray]
    inertia: float
    subinertia: float
    info: dict[int, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


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
    """Cluster into `k1`, then split each cluster into at most `k2` (an int, or "auto": sampled elbow on
    `k2_grid`), never leaving a sub-cluster with fewer than `min_size` points on average.

    Level-1 `centroids` already trained elsewhere (e.g. by a benchmark) are only used to assign, not retrained.
    """
    t0 = time.perf_counter()
    if centroids is None:
        top = fit_large(
            X, k1, engine=engine, n_iter=n_iter, seed=seed, max_points_per_centroid=max_points_per_centroid
        )
    else:
        if len(centroids) != k1:
            raise ValueError(f"{len(centroids)} level-1 centroids given for k1={k1}")
        labels, dist = assign(X, centroids)
        inertia = float(dist.astype(np.float64).sum())
        top = KMeansResult(labels, np.asarray(centroids, dtype=np.float32), inertia, 0, "given")
    t1 = time.perf_counter()
    order = np.argsort(top.labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(top.labels, minlength=k1))])
    sub = np.zeros(len(X), dtype=np.int64)
    subcentroids: dict[int, np.ndarray] = {}
    info: dict[int, dict] = {}
    subinertia = 0.0

    def split(c: int) -> tuple[int, np.ndarray | None, KMeansResult | None, dict]:
        idx = order[bounds[c] : bounds[c + 1]]
        upper = len(idx) // max(1, min_size)
        if upper < 2:
            return (
                c,
                None,
                None,
                {"size": len(idx), "k": 1, "reason": f"{len(idx)} points < 2 × min_size={min_size}"},
            )
        Xc = X[idx]
        if k2 == "auto":
            grid = [k for k in k2_grid if k <= upper]
            choice = choose_k_sampled(
                Xc, grid, sample=5_000, engine=engine, n_iter=n_iter, seed=seed, threads=1
            )
            kc, reason = choice.k, choice.reason
        else:
            kc = min(int(k2), upper)
            reason = f"fixed k2={k2}" + (f" (bounded to {kc} by min_size={min_size})" if kc < int(k2) else "")
        result = fit_kmeans(
            Xc,
            kc,
            engine=engine,
            n_iter=n_iter,
            seed=seed,
            max_points_per_centroid=max_points_per_centroid,
            threads=1,
        )
        return c, idx, result, {"size": len(idx), "k": int(kc), "reason": reason}

    # many small fits: one per thread, each single-threaded, instead of threads inside each small fit
    with single_threaded_blas(), ThreadPoolExecutor(n_threads()) as pool:
        jobs = pool.map(split, range(k1))
        for c, idx, result, details in tqdm(
            jobs, total=k1, desc="two-level: split", disable=not progress, leave=False
        ):
            info[c] = details
            if result is None:
                subcentroids[c] = top.centroids[c : c + 1]
                continue
            sub[idx] = result.labels
            subcentroids[c] = result.centroids
            subinertia += result.inertia
    unsplit = [c for c, v in info.items() if v["k"] == 1]
    if unsplit:  # unsplit clusters keep their level-1 distances
        _, dist = assign(X[np.isin(top.labels, unsplit)], top.centroids)
        subinertia += float(dist.astype(np.float64).sum())
    t2 = time.perf_counter()
    n_sub = sum(v["k"] for v in info.values())
    log.info("two-level: k1=%d in %.1fs, %d sub-clusters in %.1fs", k1, t1 - t0, n_sub, t2 - t1)
    seconds = {"level1": t1 - t0, "level2": t2 - t1}
    return TwoLevel(top.labels, sub, top.centroids, subcentroids, top.inertia, subinertia, info, seconds)
