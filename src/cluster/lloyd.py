"""One Lloyd loop for every k-means backend (the shape of faiss's ``contrib/clustering.py``).

A backend wraps the training rows and answers one question per iteration: given centroids ``C``, what is
the inertia of the nearest-centroid assignment, and what are the per-cluster sums and counts of the rows?
Everything else — the centroid update, the repair of empty clusters and the stopping rule — happens here,
once, for all of them:

- ``gemm``: CPU, worker threads over row slices, the nearest centroids from the fastest kernel for the shape: a
  compiled fused GEMM + argmin, or a BLAS GEMM (torch's MKL or numpy's OpenBLAS) and an argmin
  (`src/cluster/gemm_kmeans.py`, `src/cluster/fused_argmin.py`);
- ``torch``: chunked GEMM + argmin + ``index_add_`` on CUDA (fp32/TF32/bf16) or the CPU
  (`src/cluster/torch_kmeans.py`);
- ``faiss``: nearest centroid through a flat faiss index, on the GPU when faiss has one
  (`src/cluster/faiss_kmeans.py`).

- ``distributed=True`` wraps any of them in `src/cluster/distributed.py`: each process holds only its shard of
  the rows, and the sums, counts and inertia are all-reduced over torch.distributed, so every rank runs the
  same update on the same numbers.

A backend is a context manager (it may hold a thread pool or set a matmul precision while the loop runs)
with two methods: ``assign_and_sum(C) -> (inertia, sums (k × d, float64), counts (k, int64))``, and
``moments() -> (rows, Σx, Σx²)`` per column, which the stopping rule needs only when ``tol > 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

BACKENDS = ("faiss", "gemm", "torch")


class Backend(Protocol):
    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Inertia of the nearest-centroid assignment to `C`, and per-cluster row sums and counts."""
        ...

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Rows, per-column sum and per-column sum of squares (float64) of the rows the backend holds."""
        ...


MOMENT_ROWS = 65_536  # rows per float64 block in `column_moments` (bounded memory whatever N is)


def column_moments(X: np.ndarray, chunk: int = MOMENT_ROWS) -> tuple[int, np.ndarray, np.ndarray]:
    """(rows, Σx, Σx²) per column in float64, `chunk` rows at a time: no float64 copy of the whole matrix."""
    total = np.zeros(X.shape[1], dtype=np.float64)
    squares = np.zeros(X.shape[1], dtype=np.float64)
    for s in range(0, len(X), chunk):
        block = np.asarray(X[s : s + chunk], dtype=np.float64)
        total += block.sum(axis=0)
        squares += np.einsum("ij,ij->j", block, block)
    return len(X), total, squares


def mean_variance(rows: int, total: np.ndarray, squares: np.ndarray) -> float:
    """Mean over columns of the (population) variance, from `column_moments` (possibly summed over shards)."""
    if rows == 0:
        return 0.0
    mean = total / rows
    return float(np.mean(np.maximum(squares / rows - mean * mean, 0.0)))


def make_backend(
    name: str,
    X: np.ndarray,
    k: int,
    device: str | None = None,
    precision: str = "fp32",
    threads: int | None = None,
    chunk: int | None = None,
    distributed: bool = False,
) -> Backend:
    """The backend called `name` over the rows of `X` (float32, C-contiguous) for `k` centroids; with
    `distributed`, `X` is this process's shard and the statistics are all-reduced over the process group."""
    if distributed:
        from src.cluster.distributed import DistributedBackend

        return DistributedBackend(make_backend(name, X, k, device, precision, threads, chunk))
    if name == "gemm":
        from src.cluster.gemm_kmeans import GemmBackend

        return GemmBackend(X, k, threads=threads, chunk=chunk)
    if name == "torch":
        from src.cluster.torch_kmeans import TorchBackend

        return TorchBackend(X, k, device=device, precision=precision, chunk=chunk)
    if name == "faiss":
        from src.cluster.faiss_kmeans import FaissBackend

        return FaissBackend(X, k, device=device)
    raise ValueError(f"unknown Lloyd backend {name!r}: choose from {list(BACKENDS)}")


def repair_empty(C: np.ndarray, counts: np.ndarray, eps: float = 1.0 / 1024) -> int:
    """Give every empty cluster half of the currently largest one (FAISS's split), in place; returns how many."""
    repaired = 0
    for e in np.flatnonzero(counts == 0):
        big = int(np.argmax(counts))
        if counts[big] < 2:
            break
        C[e] = C[big] * (1 + eps)
        C[big] = C[big] * (1 - eps)
        counts[e] = counts[big] // 2
        counts[big] -= counts[e]
        repaired += 1
    return repaired


def lloyd(
    X: np.ndarray,
    start: np.ndarray,
    n_iter: int,
    tol: float = 1e-4,
    backend: str = "gemm",
    device: str | None = None,
    precision: str = "fp32",
    threads: int | None = None,
    chunk: int | None = None,
    progress: Callable[[int, float], None] | None = None,
    distributed: bool = False,
) -> tuple[np.ndarray, int, list[float]]:
    """Lloyd iterations from `start`; returns centroids, iterations run and the inertia before each update.

    Stops early when the centroids move less than ``tol × mean feature variance`` in total squared
    distance (scikit-learn's rule); ``tol=0`` runs exactly `n_iter` iterations. `device` and `precision`
    are the torch (and faiss) backend's, `threads` and `chunk` the gemm backend's. With `distributed`, `X` is
    this rank's shard, every rank passes the same `start`, and all ranks return the same centroids.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    k = len(start)
    C = np.array(start, dtype=np.float32, copy=True)
    history: list[float] = []
    it = 0
    with make_backend(backend, X, k, device, precision, threads, chunk, distributed) as engine:
        # the variance only matters to the stopping rule: not computed at all with tol=0, in blocks otherwise
        threshold = tol * mean_variance(*engine.moments()) if tol > 0 else 0.0
        for it in range(1, n_iter + 1):  # noqa: B007 - `it` is the iteration count returned
            inertia, sums, counts = engine.assign_and_sum(C)
            history.append(inertia)
            new = C.copy()
            nz = counts > 0
            new[nz] = (sums[nz] / counts[nz, None]).astype(np.float32)
            repair_empty(new, counts.copy())
            shift = float(np.sum((new.astype(np.float64) - C.astype(np.float64)) ** 2))
            C = new
            if progress is not None:
                progress(it, inertia)
            if tol > 0 and shift <= threshold:
                break
    return C, it, history
