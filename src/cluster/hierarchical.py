"""Two-level (hierarchical) k-means across ranks, as large-scale data-curation pipelines cluster a catalogue.

Level 1 is `fit_distributed` over every rank's shard. Level 2 splits each cluster again, and the per-cluster
fits are spread over the ranks: cluster c goes to one owner rank (largest clusters first, each to the least
loaded rank, decided from the all-reduced counts so every rank computes the same plan), which receives a
bounded training sample of the cluster's rows from every rank (at most k_c × `max_points_per_centroid`, drawn
over the cluster's global row order), fits it, and shares the k_c sub-centroids. Every rank then assigns its
own rows to the sub-centroids of their cluster: the data never moves, only samples and centroids do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.cluster.collectives import all_gather_ints, all_gather_rows, all_reduce_sum, gather_rows, rank
from src.cluster.collectives import world_size as get_world_size
from src.cluster.distributed import DistributedKMeans, fit_distributed, local_part
from src.cluster.kmeans import assign, fit_kmeans, sample_indices


@dataclass
class TwoLevel:
    """Level-1 fit, this rank's sub-cluster labels (0-based within the cluster) and every cluster's
    sub-centroids (the same on every rank)."""

    level1: DistributedKMeans
    sublabels: np.ndarray
    subcentroids: list[np.ndarray]
    owners: np.ndarray  # rank that fitted each cluster's split
    inertia: float  # level 2, over all ranks


def sub_k(counts: np.ndarray, k2: int, min_size: int) -> np.ndarray:
    """Sub-clusters per cluster: `k2`, lowered so each keeps ≥ `min_size` rows on average; 1 = not split."""
    return np.clip(counts // max(1, int(min_size)), 1, int(k2)).astype(np.int64)


def plan_owners(counts: np.ndarray, world: int) -> np.ndarray:
    """Owner rank per cluster: largest first to the least loaded rank (ties: lowest cluster, lowest rank)."""
    owners = np.zeros(len(counts), dtype=np.int64)
    load = np.zeros(world, dtype=np.int64)
    for c in np.argsort(-counts, kind="stable"):
        owners[c] = int(np.argmin(load))
        load[owners[c]] += counts[c]
    return owners


def sample_plan(local_counts: np.ndarray, kc: np.ndarray, mppc: int, seed: int) -> list[list[np.ndarray]]:
    """plan[r][c]: positions, within rank r's rows of cluster c, of c's level-2 training sample — at most
    kc[c] × `mppc` rows drawn over the cluster's global row order (ranks concatenated), the same on every rank."""
    totals = local_counts.sum(axis=0)
    before = np.cumsum(local_counts, axis=0) - local_counts
    picks = [sample_indices(int(totals[c]), int(kc[c]) * mppc, seed + c) for c in range(len(totals))]
    return [
        [local_part(picks[c], int(before[r, c]), int(local_counts[r, c])) for c in range(len(totals))]
        for r in range(len(local_counts))
    ]


def fit_two_level(
    X: np.ndarray,
    k1: int,
    k2: int,
    min_size: int = 32,
    n_iter: int = 20,
    seed: int = 0,
    backend: str = "gemm",
    max_points_per_centroid: int = 256,
    threads: int | None = None,
    **level1: object,
) -> TwoLevel:
    """Two-level k-means of the rows of every rank (`X` is this rank's shard); all ranks call it alike."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    d, world = X.shape[1], get_world_size()
    top = fit_distributed(
        X,
        k1,
        n_iter=n_iter,
        seed=seed,
        backend=backend,
        max_points_per_centroid=max_points_per_centroid,
        threads=threads,
        **level1,
    )
    local_counts = all_gather_ints(np.bincount(top.labels, minlength=k1))  # world × k1
    kc = sub_k(top.counts, k2, min_size)
    owners = plan_owners(np.where(kc > 1, top.counts, 0), world)
    order = np.argsort(top.labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(local_counts[rank()])])
    members = [order[starts[c] : starts[c + 1]] for c in range(k1)]  # this rank's rows per cluster
    plan = sample_plan(local_counts, kc, int(max_points_per_centroid), seed)
    picks = plan[rank()]
    split = [c for c in range(k1) if kc[c] > 1]

    # each owner receives, from every rank, the sampled rows of the clusters it owns (in cluster order)
    received: list[np.ndarray] | None = None
    for dst in range(world):
        ours = [X[members[c][picks[c]]] for c in split if owners[c] == dst]
        block = np.concatenate(ours) if ours else np.zeros((0, d), np.float32)
        got = gather_rows(block, d, dst=dst)
        if got is not None:
            received = got
    fitted = []
    if received is not None:
        sizes = np.array([[len(p) for p in plan[r]] for r in range(world)])
        cursor = np.zeros(world, dtype=np.int64)
        for c in split:
            if owners[c] != rank():
                continue
            pieces = []
            for r in range(world):
                pieces.append(received[r][cursor[r] : cursor[r] + sizes[r, c]])
                cursor[r] += sizes[r, c]
            Xc = np.concatenate(pieces)
            kfit = int(min(kc[c], len(Xc)))
            C = fit_kmeans(Xc, kfit, engine=backend, n_iter=n_iter, seed=seed + c, threads=threads).centroids
            if kfit < kc[c]:  # fewer sampled rows than sub-clusters (tiny cluster): repeat centres
                C = C[np.arange(kc[c]) % kfit]
            fitted.append(C)
    shared = all_gather_rows(np.concatenate(fitted) if fitted else np.zeros((0, d), np.float32), d)
    subcentroids: list[np.ndarray] = [top.centroids[c : c + 1].copy() for c in range(k1)]
    cursor = np.zeros(world, dtype=np.int64)
    for c in split:
        r = int(owners[c])
        subcentroids[c] = shared[r][cursor[r] : cursor[r] + kc[c]]
        cursor[r] += kc[c]

    sublabels = np.zeros(len(X), dtype=np.int64)
    dist = np.zeros(len(X), dtype=np.float64)
    for c in range(k1):
        rows = members[c]
        if len(rows):
            sublabels[rows], dist[rows] = assign(X[rows], subcentroids[c], threads=threads)
    (inertia,) = all_reduce_sum(np.array([dist.sum()]))
    return TwoLevel(top, sublabels, subcentroids, owners, float(inertia[0]))
