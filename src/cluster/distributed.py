"""K-means over torch.distributed: each rank holds one shard of the rows, the Lloyd loop is the shared one.

Per iteration a rank assigns its own rows with any local backend (gemm, torch, faiss) and the per-cluster
sums (k × d, float64), counts (k, int64) and inertia are all-reduced; every rank then runs the same update,
empty-cluster repair and stopping rule of `src/cluster/lloyd.py` on the same numbers, so the centroids stay
identical everywhere without being sent. Network volume per iteration: one all-reduce of k × (d + 1) + 1
numbers, whatever N is.

Sampling is defined over *global* row numbers (`sample_indices(N, size, seed)`, the single-process rule), and
each rank keeps the sampled rows that fall in its shard, so the seeding sample gathered to rank 0 (and the
`max_points_per_centroid` training subsample) is exactly the one a single process would draw from the
concatenated shards: same seed, same start, same centroids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from src.cluster.collectives import all_gather_ints, all_reduce_sum, broadcast_array, gather_rows, rank
from src.cluster.kmeans import assign, init_centroids, sample_indices, seed_sample_size
from src.cluster.lloyd import Backend, lloyd


class DistributedBackend:
    """Wraps a local backend over this rank's shard; its statistics are summed over the process group."""

    def __init__(self, local: Backend) -> None:
        self.local = local

    def __enter__(self) -> DistributedBackend:
        self.local.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.local.__exit__(*exc)

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        inertia, sums, counts = self.local.assign_and_sum(C)
        total, sums, counts = all_reduce_sum(
            np.array([inertia], dtype=np.float64), sums.astype(np.float64), counts.astype(np.int64)
        )
        return float(total[0]), sums, counts

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        rows, total, squares = self.local.moments()
        rows_all, total, squares = all_reduce_sum(np.array([rows], dtype=np.int64), total, squares)
        return int(rows_all[0]), total, squares


def shard_offsets(n_local: int) -> tuple[int, int]:
    """(first global row of this rank's shard, total rows): shards are concatenated in rank order."""
    sizes = all_gather_ints(np.array([n_local]))[:, 0]
    return int(sizes[: rank()].sum()), int(sizes.sum())


def local_part(global_rows: np.ndarray, offset: int, n_local: int) -> np.ndarray:
    """The sorted global row numbers that fall in [offset, offset + n_local), as local row numbers."""
    lo, hi = np.searchsorted(global_rows, [offset, offset + n_local])
    return global_rows[lo:hi] - offset


def seed_centroids(X: np.ndarray, k: int, seed: int, init: str = "k-means++") -> np.ndarray:
    """The single-process start (`init_centroids` on the concatenated shards), computed on rank 0 from a
    sample gathered there, then broadcast."""
    offset, total = shard_offsets(len(X))
    rows = local_part(sample_indices(total, seed_sample_size(total, k, init), seed), offset, len(X))
    parts = gather_rows(X[rows], X.shape[1], dst=0)
    start = None
    if parts is not None:
        sample = np.concatenate(parts)
        start = init_centroids(sample, k, seed, init)  # the whole sample: its size is the seeding size
    return broadcast_array(start, src=0)


@dataclass
class DistributedKMeans:
    """A distributed fit: the same centroids on every rank, this rank's labels and distances, global totals."""

    centroids: np.ndarray
    labels: np.ndarray  # of this rank's rows
    distances: np.ndarray  # squared, of this rank's rows
    counts: np.ndarray  # rows per cluster, over all ranks
    inertia: float  # over all ranks
    n_iter: int
    history: list[float] = field(default_factory=list, repr=False)


def assign_distributed(X: np.ndarray, centroids: np.ndarray, threads: int | None = None) -> tuple:
    """Local labels and distances, with the global counts and inertia."""
    labels, dist = assign(X, centroids, threads=threads)
    counts, inertia = all_reduce_sum(
        np.bincount(labels, minlength=len(centroids)).astype(np.int64),
        np.array([dist.astype(np.float64).sum()]),
    )
    return labels, dist, counts, float(inertia[0])


def fit_distributed(
    X: np.ndarray,
    k: int,
    n_iter: int = 300,
    tol: float = 1e-4,
    seed: int = 0,
    init: str = "k-means++",
    backend: str = "gemm",
    max_points_per_centroid: int | None = None,
    start: np.ndarray | None = None,
    device: str | None = None,
    precision: str = "fp32",
    threads: int | None = None,
) -> DistributedKMeans:
    """K-means over the shards of every rank (`X` is this rank's); all ranks call it with the same arguments.

    `max_points_per_centroid` trains on the global subsample a single process would draw, then assigns all
    rows; `start` (the same on every rank) replaces the k-means++ seeding.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    train = X
    if max_points_per_centroid:
        offset, total = shard_offsets(len(X))
        if total > k * int(max_points_per_centroid):
            keep = sample_indices(total, k * int(max_points_per_centroid), seed)
            train = X[local_part(keep, offset, len(X))]
    if start is None:
        start = seed_centroids(train, k, seed, init)
    centroids, iterations, history = lloyd(
        train,
        start,
        n_iter,
        tol,
        backend=backend,
        device=device,
        precision=precision,
        threads=threads,
        distributed=True,
    )
    labels, dist, counts, inertia = assign_distributed(X, centroids, threads)
    return DistributedKMeans(centroids, labels, dist, counts, inertia, iterations, history)
