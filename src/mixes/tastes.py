"""A listener's tastes: k-means over their own tracks, with k chosen for that listener.

How many tastes a history holds depends on its size: 12 tracks hold one or two, 2,000 hold several. k ranges
from ceil(n / max_size) (no taste larger than `max_size` tracks) to min(max_tastes, n // min_size) (every taste
at least `min_size` tracks), and within that range the silhouette on cosine geometry picks it; a split is kept
only when its silhouette clears `min_silhouette`, so a history with no structure stays one taste.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits


@dataclass
class TasteSpec:
    """How a listener's history is split into tastes (the arguments of `find_tastes`)."""

    min_size: int = 5
    max_size: int = 200
    max_tastes: int = 6
    min_silhouette: float = 0.05


def k_range(n: int, min_size: int, max_size: int, max_tastes: int) -> tuple[int, int]:
    """The smallest and largest number of tastes a history of `n` tracks may be split into."""
    hi = max(1, min(max_tastes, n // max(1, min_size)))
    lo = min(hi, max(1, math.ceil(n / max(1, max_size))))
    return lo, hi


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float64)


def merge_small(X: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Give the tracks of tastes smaller than `min_size` to the nearest remaining taste; relabel 0..k-1 by size."""
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= 1 or counts.min() >= min_size:
            break
        small = ids[np.argmin(counts)]
        keep = ids[ids != small]
        centres = np.stack([X[labels == c].mean(axis=0) for c in keep])
        moved = labels == small
        labels[moved] = keep[np.argmax(X[moved] @ centres.T, axis=1)]
    ids, counts = np.unique(labels, return_counts=True)
    remap = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    remap[ids[np.lexsort((ids, -counts))]] = np.arange(len(ids))  # largest taste first
    return remap[labels]


def find_tastes(
    vectors: np.ndarray,
    min_size: int = 5,
    max_size: int = 200,
    max_tastes: int = 6,
    min_silhouette: float = 0.05,
    seed: int = 0,
    silhouette_sample: int = 2000,
) -> np.ndarray:
    """Taste label (0 = the largest) of each of a listener's tracks, given their embedding rows."""
    n = len(vectors)
    lo, hi = k_range(n, min_size, max_size, max_tastes)
    if hi <= 1 or n < 2:
        return np.zeros(n, dtype=np.int64)
    X = _unit(np.asarray(vectors, dtype=np.float64))
    best_labels, best_score = np.zeros(n, dtype=np.int64), -np.inf
    with threadpool_limits(1):  # one listener is a tiny problem: thread start-up costs 10x the work
        for k in range(max(2, lo), hi + 1):
            labels = KMeans(k, n_init=4, random_state=seed).fit_predict(X)
            if len(np.unique(labels)) < 2:
                continue
            score = silhouette_score(
                X, labels, sample_size=min(n, silhouette_sample), random_state=seed, metric="euclidean"
            )
            if score > best_score:
                best_labels, best_score = labels, score
    if lo <= 1 and best_score < min_silhouette:
        return np.zeros(n, dtype=np.int64)
    return merge_small(X, best_labels, min_size)
