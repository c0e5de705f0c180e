"""Reclustering: split each cluster again with its own k, giving sub-playlists (or level-2 clusters).

One rule for every size of data: a cluster is split only if every sub-cluster keeps at least `min_size`
points, k being lowered until it does. For large N (two-level clustering of a catalogue), `workers` splits
clusters in parallel threads (each fit single-threaded), `k_grid` + `sample` choose each cluster's k on a
sampled elbow over a grid, and `max_points_per_centroid` trains each split on a subsample.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm.auto import tqdm

from src.cluster.choose_k import choose_k
from src.cluster.gemm_kmeans import single_threaded_blas
from src.cluster.kmeans import KMeansResult, fit_kmeans

log = logging.getLogger(__name__)


def recluster(
    X: np.ndarray,
    labels: np.ndarray,
    min_size: int = 30,
    k_max: int = 8,
    k: int | str = "auto",
    engine: str = "auto",
    seed: int = 0,
    progress: bool = True,
    n_iter: int = 300,
    k_grid: Sequence[int] | None = None,
    sample: int | None = None,
    max_points_per_centroid: int | None = None,
    workers: int = 1,
) -> tuple[np.ndarray, dict[int, dict]]:
    """Sub-cluster labels (0-based within each cluster) and, per cluster, its size, the chosen k and why.

    `k` is an int (bounded by `k_max` and by min_size) or "auto": the knee of the elbow over 2..upper, or
    over the values of `k_grid` up to upper, drawn on at most `sample` rows of the cluster.
    """
    sub = np.zeros(len(X), dtype=np.int64)
    info: dict[int, dict] = {}
    order = np.argsort(labels, kind="stable")
    clusters, starts = np.unique(labels[order], return_index=True)
    bounds = np.append(starts, len(order))
    threads = 1 if workers > 1 else None  # many small fits: parallel over clusters, not inside each fit
    fit_options = {"engine": engine, "seed": seed, "n_iter": n_iter, "threads": threads}

    def fit(Xc: np.ndarray, kc: int) -> KMeansResult:
        return fit_kmeans(Xc, kc, max_points_per_centroid=max_points_per_centroid, **fit_options)

    def split(i: int) -> tuple[int, np.ndarray, np.ndarray | None, dict]:
        c, idx = int(clusters[i]), order[bounds[i] : bounds[i + 1]]
        upper = min(k_max, len(idx) // max(1, min_size))
        if upper < 2:
            reason = f"{len(idx)} tracks < 2 × min_size={min_size}: not split"
            return c, idx, None, {"size": len(idx), "k": 1, "reason": reason}
        Xc = X[idx]
        if k == "auto":
            grid = None if k_grid is None else [g for g in k_grid if 2 <= g <= upper] or [upper]
            choice = choose_k(
                Xc, 2, upper, progress=False, silhouette_size=2000, ks=grid, sample=sample, **fit_options
            )
            kc, reason = choice.k, choice.reason
        else:
            kc, reason = min(int(k), upper), f"fixed k={k} (bounded by min_size to {upper})"
        result = fit(Xc, kc)
        while kc > 1 and np.bincount(result.labels, minlength=kc).min() < min_size:
            kc -= 1
            reason += f"; lowered to k={kc} so every sub-cluster has ≥ {min_size} tracks"
            result = fit(Xc, kc) if kc > 1 else None
        sublabels = None if result is None else result.labels
        return c, idx, sublabels, {"size": len(idx), "k": int(kc), "reason": reason}

    def run() -> Iterator:
        if workers <= 1:
            yield from map(split, range(len(clusters)))
            return
        with single_threaded_blas(), ThreadPoolExecutor(workers) as pool:
            yield from pool.map(split, range(len(clusters)))

    jobs = tqdm(run(), total=len(clusters), desc="reclustering", disable=not progress, leave=False)
    for c, idx, sublabels, details in jobs:
        if sublabels is not None:
            sub[idx] = sublabels
        info[c] = details
        log.info("cluster %d (%d tracks): %d sub-clusters — %s", c, len(idx), details["k"], details["reason"])
    return sub, info
