"""Lloyd k-means on the CPU at matrix-multiply speed: the `gemm` backend, and the chunked `assign` it shares.

Why it beats `faiss.Kmeans` on this kind of machine: one Lloyd iteration is a distance GEMM plus an argmin
plus a centroid update. The faiss-cpu wheel ships an old OpenBLAS that falls back to an SSE3 kernel on newer
Xeons, so its GEMM runs at a third of the machine's peak. Here the GEMM goes to torch's MKL (AVX-512), and
the rest is arranged so nothing else costs a pass over memory:

- the bias ``‖c‖²`` is folded into the GEMM by augmenting each point with a constant 1 and each centroid with
  ``‖c‖²`` (``[x, 1] · [-2c, ‖c‖²] = ‖c‖² − 2x·c``), so the distance block needs no separate add;
- the block is small (``chunk`` rows × k, ~1 MiB) so the argmin reads it from L2 right after the GEMM wrote it;
- one worker thread per core, each with single-threaded BLAS over its own contiguous rows (the GEMM, the
  argmin and the sparse scatter-add all release the GIL), so every step runs on every core;
- centroid sums are one sparse (k × n) @ X product per worker (a sequential scatter-add), and the inertia of
  the iteration comes from those sums in closed form — ``Σ‖x‖² + Σ_c (n_c‖c‖² − 2 c·S_c)`` — without
  another pass over the data.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import torch
from threadpoolctl import ThreadpoolController

from src.cluster.lloyd import column_moments

SLICES = 4  # row slices per worker thread and iteration
BLOCK_BYTES = 1 << 20  # one distance block (rows × k × 4 bytes) sized to stay in a core's L2 cache


def block_rows(k: int) -> int:
    """Rows per distance block for `k` centroids: 1024 at k=256, 256 at k=1024."""
    return int(min(4096, max(64, BLOCK_BYTES // (4 * k))))


def n_threads() -> int:
    """Cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@functools.cache
def _controller() -> ThreadpoolController:
    """Discovering the loaded BLAS/OpenMP libraries is slow (ms); do it once per process."""
    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS and torch intra-op threads set to 1 while our own worker threads split the rows."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _controller().limit(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


class _Inline:
    """The `map` of a pool of one: runs in the calling thread (no pool start-up, no BLAS limits touched)."""

    @staticmethod
    def map(fn: Callable, items: Iterable) -> Iterator:
        return map(fn, items)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ThreadPoolExecutor | _Inline]:
    """`workers` threads with single-threaded BLAS, or the calling thread alone when `workers` is 1.

    `threads=1` is what a caller that parallelises over many small fits itself (two-level reclustering) asks
    for: it has already limited BLAS to one thread, and each fit then costs no thread or limit start-up.
    """
    if workers <= 1:
        yield _Inline()
        return
    with single_threaded_blas(), ThreadPoolExecutor(workers) as pool:
        yield pool


def augment(X: np.ndarray) -> np.ndarray:
    """``[X, 1]`` as float32, so the GEMM against ``[-2C, ‖c‖²]`` yields distances up to ``‖x‖²``."""
    Xa = np.empty((len(X), X.shape[1] + 1), dtype=np.float32)
    Xa[:, :-1] = X
    Xa[:, -1] = 1.0
    return Xa


def augment_centroids(C: np.ndarray) -> np.ndarray:
    """``[-2C, ‖c‖²]ᵀ`` as a (d+1) × k float32 matrix."""
    C64 = C.astype(np.float64)
    Ca = np.empty((C.shape[1] + 1, len(C)), dtype=np.float32)
    Ca[:-1] = (-2.0 * C64).T
    Ca[-1] = np.einsum("ij,ij->i", C64, C64)
    return Ca


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _assign_rows(Xa: np.ndarray, Ca: np.ndarray, labels: np.ndarray, lo: int, hi: int, chunk: int) -> None:
    """labels[lo:hi] = argmin over centroids, one L2-resident block at a time."""
    Ct = torch.from_numpy(Ca)
    block = np.empty((chunk, Ca.shape[1]), dtype=np.float32)
    bt = torch.from_numpy(block)
    Xt = torch.from_numpy(Xa)
    for start in range(lo, hi, chunk):
        stop = min(start + chunk, hi)
        n = stop - start
        torch.mm(Xt[start:stop], Ct, out=bt[:n])
        np.argmin(block[:n], axis=1, out=labels[start:stop])


def cluster_sums(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Σ of the rows of X per label, as a sparse one-hot (k × n) times X: one sequential scatter-add."""
    n = len(labels)
    onehot = sp.csc_matrix((np.ones(n, dtype=np.float32), labels, np.arange(n + 1)), shape=(k, n))
    return np.asarray(onehot @ X, dtype=np.float64)


class GemmBackend:
    """The `gemm` backend of `src.cluster.lloyd.lloyd`: worker threads over row slices, each assigning its rows
    (GEMM + argmin per L2-sized block) and summing them per cluster; the inertia comes from the sums.
    """

    def __init__(self, X: np.ndarray, k: int, threads: int | None = None, chunk: int | None = None) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.k = k
        self.chunk = chunk or block_rows(k)
        self.Xa = augment(self.X)
        self.total_sq = float(np.einsum("ij,ij->", self.X, self.X, dtype=np.float64))
        self.labels = np.empty(len(self.X), dtype=np.int64)
        self.workers = threads or n_threads()
        # several slices per worker: a worker slowed by another process does not hold up the iteration
        self.parts = _ranges(len(self.X), min(self.workers * SLICES, max(1, len(self.X) // self.chunk)))

    def __enter__(self) -> GemmBackend:
        self._stack = contextlib.ExitStack()
        self.pool = self._stack.enter_context(worker_pool(min(self.workers, len(self.parts))))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        return column_moments(self.X)

    def _step(self, part: tuple[int, int], Ca: np.ndarray) -> np.ndarray:
        lo, hi = part
        _assign_rows(self.Xa, Ca, self.labels, lo, hi, self.chunk)
        return cluster_sums(self.X[lo:hi], self.labels[lo:hi], self.k)

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        Ca = augment_centroids(C)
        sums = np.sum(list(self.pool.map(lambda p: self._step(p, Ca), self.parts)), axis=0)
        counts = np.bincount(self.labels, minlength=self.k)
        C64 = C.astype(np.float64)
        inertia = self.total_sq + float(counts @ np.einsum("ij,ij->i", C64, C64) - 2.0 * np.sum(C64 * sums))
        return max(inertia, 0.0), sums, counts


def assign_gemm(
    X: np.ndarray,
    centroids: np.ndarray,
    chunk: int | None = None,
    threads: int | None = None,
    block: int = 262_144,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid and exact squared distance per row, in bounded memory (`block` rows at a time)."""
    C = np.ascontiguousarray(centroids, dtype=np.float32)
    chunk = chunk or block_rows(len(C))
    Ca = augment_centroids(C)
    labels = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X), dtype=np.float32)
    workers = threads or n_threads()

    def work(Xb: np.ndarray, Xa: np.ndarray, lab: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        _assign_rows(Xa, Ca, lab, lo, hi, chunk)
        diff = Xb[lo:hi] - C[lab[lo:hi]]  # exact distances: no ‖x‖² − 2x·c + ‖c‖² cancellation
        out[lo:hi] = np.einsum("ij,ij->i", diff, diff)

    with worker_pool(min(workers, max(1, len(X) // chunk))) as pool:
        for lo in range(0, len(X), block):
            hi = min(lo + block, len(X))
            Xb = np.ascontiguousarray(X[lo:hi], dtype=np.float32)
            Xa = augment(Xb)
            parts = _ranges(hi - lo, min(workers * SLICES, max(1, (hi - lo) // chunk)))
            args = (Xb, Xa, labels[lo:hi], dist[lo:hi])
            list(pool.map(lambda p, args=args: work(*args, *p), parts))
    return labels, dist
