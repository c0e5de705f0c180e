"""Reclustering: split each cluster again with its own k, giving sub-playlists."""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from src.cluster.choose_k import choose_k
from src.cluster.kmeans import fit_kmeans

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
) -> tuple[np.ndarray, dict[int, dict]]:
    """Sub-cluster labels (0-based within each cluster) and, per cluster, the chosen k and why.

    A cluster is split only if every sub-cluster keeps at least `min_size` tracks: k is lowered until it does.
    """
    sub = np.zeros(len(X), dtype=np.int64)
    info: dict[int, dict] = {}
    clusters = np.unique(labels)
    for c in tqdm(clusters, desc="reclustering", disable=not progress, leave=False):
        idx = np.flatnonzero(labels == c)
        upper = min(k_max, len(idx) // max(1, min_size))
        if upper < 2:
            info[int(c)] = {"k": 1, "reason": f"{len(idx)} tracks < 2 × min_size={min_size}: not split"}
            continue
        Xc = X[idx]
        if k == "auto":
            choice = choose_k(Xc, 2, upper, engine=engine, seed=seed, progress=False, silhouette_size=2000)
            kc, reason = choice.k, choice.reason
        else:
            kc, reason = min(int(k), upper), f"fixed k={k} (bounded by min_size to {upper})"
        result = fit_kmeans(Xc, kc, engine=engine, seed=seed)
        while kc > 1 and np.bincount(result.labels, minlength=kc).min() < min_size:
            kc -= 1
            reason += f"; lowered to k={kc} so every sub-cluster has ≥ {min_size} tracks"
            result = fit_kmeans(Xc, kc, engine=engine, seed=seed) if kc > 1 else None
        sub[idx] = result.labels if result is not None else 0
        info[int(c)] = {"k": int(kc), "reason": reason}
        log.info("cluster %d (%d tracks): %d sub-clusters — %s", c, len(idx), kc, reason)
    return sub, info
