"""Lloyd k-means on the CPU at matrix-multiply speed: the `gemm` backend, and the chunked `assign` it shares.

Why it beats `faiss.Kmeans`: one Lloyd iteration is a distance GEMM plus an argmin plus a centroid update.
The faiss-cpu wheel ships an old OpenBLAS (0.3.15) that falls back to an SSE3 kernel on newer Xeons. Here the
nearest centroids come from whichever of three kernels is fastest for the fit's exact shape: the GEMM in
torch's MKL or in numpy's OpenBLAS followed by an argmin, or the compiled kernel that fuses the two
(`src/cluster/fused_argmin.py`; the distance block never goes to memory). MKL runs slower code paths on AMD
CPUs, the numpy wheel's newer OpenBLAS has AVX-512 kernels there, and the fused kernel needs a C compiler.
`fastest_assign` times the available ones once per process and shape and picks one, so the choice holds on
every CPU type instead of being tuned to one. The rest is arranged so nothing else costs a pass over memory:

- the bias ``‖c‖²`` is folded into the GEMM by augmenting each point with a constant 1 and each centroid with
  ``‖c‖²`` (``[x, 1] · [-2c, ‖c‖²] = ‖c‖² − 2x·c``), so the distance block needs no separate add;
- on the BLAS path the block is small (``chunk`` rows × k, ~1 MiB) so the argmin reads it from L2 right after
  the GEMM wrote it;
- one worker thread per core, each with single-threaded BLAS over its own contiguous rows (the GEMM, the
  argmin, the fused kernel and the sparse scatter-add all release the GIL), so every step runs on every core;
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

from src.cluster import fused_argmin
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


FUSED = "fused"  # the compiled GEMM + argmin kernel, next to the BLAS names in GEMMS


def kernels() -> list[str]:
    """The nearest-centroid kernels this process can run: both BLAS, and the fused one when it builds here."""
    return [*GEMMS, FUSED] if fused_argmin.load() is not None else list(GEMMS)


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


class RowAssigner:
    """Nearest centroid for row ranges of `X` with one kernel (a BLAS name in GEMMS, or FUSED): `set_centroids`
    once per iteration, then call it on ranges from any number of threads."""

    def __init__(self, X: np.ndarray, kernel: str, chunk: int) -> None:
        self.X, self.kernel, self.chunk = X, kernel, chunk
        self.fused = fused_argmin.load() if kernel == FUSED else None
        if kernel == FUSED and self.fused is None:
            raise RuntimeError("the fused argmin kernel is not available on this machine")
        self.Xa = None if self.fused else augment(X)  # the BLAS path's [X, 1] copy; the kernel reads X
        self.C: np.ndarray | fused_argmin.Prepared | None = None

    def set_centroids(self, C: np.ndarray) -> None:
        self.C = self.fused.prepare(C) if self.fused else augment_centroids(C)

    def __call__(self, labels: np.ndarray, lo: int, hi: int) -> None:
        if self.fused:
            self.fused(self.X, self.C, labels, lo, hi)
        else:
            _assign_rows(self.Xa, self.C, labels, lo, hi, self.chunk, GEMMS[self.kernel])


_CHOSEN: dict[tuple[int, int, int, int], str] = {}


def fastest_assign(
    rows: int,
    d: int,
    k: int,
    pool: ThreadPoolExecutor | _Inline | None = None,
    workers: int = 1,
    rounds: int = 3,
    calls: int = 8,
) -> str:
    """The fastest kernel (`kernels()`) for assigning rows of `d` floats to `k` centroids in blocks of `rows`,
    timed the way the fit runs: on `workers` threads of `pool` at once, each over its own rows, under the
    caller's thread limits (torch.mm called from several threads at once can be much slower than one call alone
    suggests). Interleaved rounds, the best kept; measured once per process, shape and worker count (a few
    milliseconds)."""
    key = (rows, d, k, workers)
    if key not in _CHOSEN:
        pool = pool or _Inline()
        rng = np.random.default_rng(0)
        X = rng.standard_normal((workers * calls * rows, d), dtype=np.float32)
        C = rng.standard_normal((k, d), dtype=np.float32)
        labels = np.empty(len(X), dtype=np.int64)
        assigners = {name: RowAssigner(X, name, rows) for name in kernels()}
        for assigner in assigners.values():
            assigner.set_centroids(C)

        def run(assigner: RowAssigner, worker: int) -> None:
            assigner(labels, worker * calls * rows, (worker + 1) * calls * rows)

        best = {name: np.inf for name in assigners}
        for round_ in range(rounds + 1):  # round 0 is a warm-up (packing buffers, thread pools)
            for name, assigner in assigners.items():
                start = time.perf_counter()
                list(pool.map(lambda w, a=assigner: run(a, w), range(workers)))
                if round_:
                    best[name] = min(best[name], time.perf_counter() - start)
        _CHOSEN[key] = min(best, key=best.__getitem__)
    return _CHOSEN[key]


CALIBRATE_BLOCKS = 16  # fits of fewer blocks than this per worker keep torch (the calibration would not pay)


def pick_kernel(n: int, chunk: int, d: int, k: int, pool: ThreadPoolExecutor | _Inline, workers: int) -> str:
    """The kernel for `n` rows in blocks of `chunk`: calibrated (`fastest_assign`) when the fit is large enough."""
    workers = max(1, min(workers, n // chunk))
    if n < CALIBRATE_BLOCKS * chunk * workers:
        return "torch"
    return fastest_assign(chunk, d, k, pool, workers)


def kernel_choices() -> dict[tuple[int, int, int, int], str]:
    """What `fastest_assign` chose so far in this process: (rows, d, k, workers) → kernel (benchmarks log it)."""
    return dict(_CHOSEN)


def cluster_sums(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Σ of the rows of X per label, as a sparse one-hot (k × n) times X: one sequential scatter-add."""
    n = len(labels)
    onehot = sp.csc_matrix((np.ones(n, dtype=np.float32), labels, np.arange(n + 1)), shape=(k, n))
    return np.asarray(onehot @ X, dtype=np.float64)


class GemmBackend:
    """The `gemm` backend of `src.cluster.lloyd.lloyd`: worker threads over row slices, each assigning its rows
    (the fastest kernel for the shape: fused GEMM + argmin, or BLAS GEMM + argmin per L2-sized block) and summing
    them per cluster; the inertia comes from the sums. `kernel` fixes the kernel instead of timing them.
    """

    def __init__(
        self,
        X: np.ndarray,
        k: int,
        threads: int | None = None,
        chunk: int | None = None,
        kernel: str | None = None,
    ) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.k = k
        self.chunk = chunk or block_rows(k)
        self.kernel = kernel
        self.total_sq = float(np.einsum("ij,ij->", self.X, self.X, dtype=np.float64))
        self.labels = np.empty(len(self.X), dtype=np.int64)
        self.sums: np.ndarray | None = None  # per-cluster sums of the rows (float64), kept across iterations
        self.workers = threads or n_threads()
        # several slices per worker: a worker slowed by another process does not hold up the iteration
        self.parts = _ranges(len(self.X), min(self.workers * SLICES, max(1, len(self.X) // self.chunk)))

    def __enter__(self) -> GemmBackend:
        self._stack = contextlib.ExitStack()
        workers = min(self.workers, len(self.parts))
        try:
            self.pool = self._stack.enter_context(worker_pool(workers))
            # chosen under the pool's BLAS thread limits, the conditions the blocks run under
            kernel = self.kernel or pick_kernel(
                len(self.X), self.chunk, self.X.shape[1], self.k, self.pool, workers
            )
            self.assigner = RowAssigner(self.X, kernel, self.chunk)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        return column_moments(self.X)

    def _step(self, part: tuple[int, int], first: bool) -> np.ndarray:
        """Assign rows lo…hi; their per-cluster sums (first call) or the change of the sums since the last."""
        lo, hi = part
        old = None if first else self.labels[lo:hi].copy()
        self.assigner(self.labels, lo, hi)
        new = self.labels[lo:hi]
        if old is None:
            return cluster_sums(self.X[lo:hi], new, self.k)
        moved = np.flatnonzero(old != new)
        rows = self.X[lo + moved]
        return cluster_sums(rows, new[moved], self.k) - cluster_sums(rows, old[moved], self.k)

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        self.assigner.set_centroids(C)
        first = self.sums is None
        parts = np.sum(list(self.pool.map(lambda p: self._step(p, first), self.parts)), axis=0)
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
    labels = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X), dtype=np.float32)
    workers = threads or n_threads()

    def work(assigner: RowAssigner, lab: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        assigner(lab, lo, hi)
        diff = assigner.X[lo:hi] - C[lab[lo:hi]]  # exact distances: no ‖x‖² − 2x·c + ‖c‖² cancellation
        out[lo:hi] = np.einsum("ij,ij->i", diff, diff)

    pool_size = min(workers, max(1, len(X) // chunk))
    with worker_pool(pool_size) as pool:
        kernel = pick_kernel(len(X), chunk, C.shape[1], len(C), pool, pool_size)
        for lo in range(0, len(X), block):
            hi = min(lo + block, len(X))
            assigner = RowAssigner(np.ascontiguousarray(X[lo:hi], dtype=np.float32), kernel, chunk)
            assigner.set_centroids(C)
            parts = _ranges(hi - lo, min(workers * SLICES, max(1, (hi - lo) // chunk)))
            args = (assigner, labels[lo:hi], dist[lo:hi])
            list(pool.map(lambda p, args=args: work(*args, *p), parts))
    return labels, dist
