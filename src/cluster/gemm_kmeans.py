"""Lloyd k-means on the CPU at matrix-multiply speed: the `gemm` backend, and the chunked `assign` it shares.

Why it beats `faiss.Kmeans`: one Lloyd iteration is a distance GEMM plus an argmin plus a centroid update.
The faiss-cpu wheel ships an old OpenBLAS (0.3.15) that falls back to an SSE3 kernel on newer Xeons. Here the
GEMM goes to whichever of the two BLAS this process has is faster for the exact block shape: torch's MKL or
numpy's OpenBLAS. MKL runs slower code paths on AMD CPUs, and the numpy wheel's newer OpenBLAS has AVX-512
kernels there. `fastest_gemm` times both once per process and shape and picks one, so the choice holds on
every CPU type instead of being tuned to one. The rest is arranged so nothing else costs a pass over memory:

- the bias ``‖c‖²`` is folded into the GEMM by augmenting each point with a constant 1 and each centroid with
  ``‖c‖²`` (``[x, 1] · [-2c, ‖c‖²] = ‖c‖² − 2x·c``), so the distance block needs no separate add;
- the block is small (``chunk`` rows × k, ~1 MiB) so the argmin reads it from L2 right after the GEMM wrote it;
- one worker thread per core, each with single-threaded BLAS over its own contiguous rows (the GEMM, the
  argmin and the sparse scatter-add all release the GIL), so every step runs on every core;
- centroid sums are one sparse (k × n) @ X product per worker (a sequential scatter-add) in the first
  iteration; after that only the rows that changed cluster are moved between sums (a few per cent once Lloyd
  settles). The inertia of the iteration comes from the sums in closed form —
  ``Σ‖x‖² + Σ_c (n_c‖c‖² − 2 c·S_c)`` — without another pass over the data.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
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


Gemm = Callable[[np.ndarray, np.ndarray, np.ndarray], object]


def _torch_gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    torch.mm(torch.from_numpy(a), torch.from_numpy(b), out=torch.from_numpy(out))


def _numpy_gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    np.matmul(a, b, out=out)


GEMMS: dict[str, Gemm] = {"torch": _torch_gemm, "numpy": _numpy_gemm}


_CHOSEN: dict[tuple[int, int, int, int], str] = {}


def fastest_gemm(
    rows: int,
    inner: int,
    cols: int,
    pool: ThreadPoolExecutor | _Inline | None = None,
    workers: int = 1,
    rounds: int = 3,
    calls: int = 8,
) -> str:
    """The faster BLAS for (rows × inner) @ (inner × cols) float32 blocks, timed the way the blocks run: on
    `workers` threads of `pool` at once, each over its own rows, under the caller's thread limits (torch.mm
    called from several threads at once can be much slower than one call alone suggests). Interleaved rounds,
    the best kept; measured once per process, shape and worker count (a few milliseconds)."""
    key = (rows, inner, cols, workers)
    if key not in _CHOSEN:
        pool = pool or _Inline()
        rng = np.random.default_rng(0)
        a = rng.standard_normal((workers * calls * rows, inner), dtype=np.float32)
        b = rng.standard_normal((inner, cols), dtype=np.float32)

        def run(gemm: Gemm, worker: int) -> None:
            out = np.empty((rows, cols), dtype=np.float32)
            for call in range(calls):
                lo = (worker * calls + call) * rows
                gemm(a[lo : lo + rows], b, out)

        best = {name: np.inf for name in GEMMS}
        for round_ in range(rounds + 1):  # round 0 is a warm-up (packing buffers, thread pools)
            for name, gemm in GEMMS.items():
                start = time.perf_counter()
                list(pool.map(lambda w, gemm=gemm: run(gemm, w), range(workers)))
                if round_:
                    best[name] = min(best[name], time.perf_counter() - start)
        _CHOSEN[key] = min(best, key=best.__getitem__)
    return _CHOSEN[key]


CALIBRATE_BLOCKS = 16  # fits of fewer blocks than this per worker keep torch (the calibration would not pay)


def pick_gemm(
    n: int, chunk: int, inner: int, cols: int, pool: ThreadPoolExecutor | _Inline, workers: int
) -> Gemm:
    """The GEMM for `n` rows in blocks of `chunk`: calibrated (`fastest_gemm`) when the fit is large enough."""
    workers = max(1, min(workers, n // chunk))
    if n < CALIBRATE_BLOCKS * chunk * workers:
        return _torch_gemm
    return GEMMS[fastest_gemm(chunk, inner, cols, pool, workers)]


def gemm_choices() -> dict[tuple[int, int, int, int], str]:
    """What `fastest_gemm` chose so far in this process: (rows, inner, cols, workers) → BLAS (benchmarks log it)."""
    return dict(_CHOSEN)


def _assign_rows(
    Xa: np.ndarray, Ca: np.ndarray, labels: np.ndarray, lo: int, hi: int, chunk: int, gemm: Gemm = _torch_gemm
) -> None:
    """labels[lo:hi] = argmin over centroids, one L2-resident block at a time."""
    block = np.empty((chunk, Ca.shape[1]), dtype=np.float32)
    for start in range(lo, hi, chunk):
        stop = min(start + chunk, hi)
        n = stop - start
        gemm(Xa[start:stop], Ca, block[:n])
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
        self.sums: np.ndarray | None = None  # per-cluster sums of the rows (float64), kept across iterations
        self.gemm: Gemm = _torch_gemm
        self.workers = threads or n_threads()
        # several slices per worker: a worker slowed by another process does not hold up the iteration
        self.parts = _ranges(len(self.X), min(self.workers * SLICES, max(1, len(self.X) // self.chunk)))

    def __enter__(self) -> GemmBackend:
        self._stack = contextlib.ExitStack()
        self.pool = self._stack.enter_context(worker_pool(min(self.workers, len(self.parts))))
        # chosen under the pool's BLAS thread limits, the conditions the blocks run under
        workers = min(self.workers, len(self.parts))
        self.gemm = pick_gemm(len(self.X), self.chunk, self.Xa.shape[1], self.k, self.pool, workers)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        return column_moments(self.X)

    def _step(self, part: tuple[int, int], Ca: np.ndarray, first: bool) -> np.ndarray:
        """Assign rows lo…hi; their per-cluster sums (first call) or the change of the sums since the last."""
        lo, hi = part
        old = None if first else self.labels[lo:hi].copy()
        _assign_rows(self.Xa, Ca, self.labels, lo, hi, self.chunk, self.gemm)
        new = self.labels[lo:hi]
        if old is None:
            return cluster_sums(self.X[lo:hi], new, self.k)
        moved = np.flatnonzero(old != new)
        rows = self.X[lo + moved]
        return cluster_sums(rows, new[moved], self.k) - cluster_sums(rows, old[moved], self.k)

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        Ca = augment_centroids(C)
        first = self.sums is None
        parts = np.sum(list(self.pool.map(lambda p: self._step(p, Ca, first), self.parts)), axis=0)
        self.sums = parts if self.sums is None else self.sums + parts
        counts = np.bincount(self.labels, minlength=self.k)
        C64 = C.astype(np.float64)
        inertia = self.total_sq + float(
            counts @ np.einsum("ij,ij->i", C64, C64) - 2.0 * np.sum(C64 * self.sums)
        )
        return max(inertia, 0.0), self.sums.copy(), counts


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
        _assign_rows(Xa, Ca, lab, lo, hi, chunk, gemm)
        diff = Xb[lo:hi] - C[lab[lo:hi]]  # exact distances: no ‖x‖² − 2x·c + ‖c‖² cancellation
        out[lo:hi] = np.einsum("ij,ij->i", diff, diff)

    pool_size = min(workers, max(1, len(X) // chunk))
    with worker_pool(pool_size) as pool:
        gemm = pick_gemm(len(X), chunk, C.shape[1] + 1, len(C), pool, pool_size)
        for lo in range(0, len(X), block):
            hi = min(lo + block, len(X))
            Xb = np.ascontiguousarray(X[lo:hi], dtype=np.float32)
            Xa = augment(Xb)
            parts = _ranges(hi - lo, min(workers * SLICES, max(1, (hi - lo) // chunk)))
            args = (Xb, Xa, labels[lo:hi], dist[lo:hi])
            list(pool.map(lambda p, args=args: work(*args, *p), parts))
    return labels, dist
