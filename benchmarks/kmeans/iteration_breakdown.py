"""Where one Lloyd iteration of the `gemm` backend goes at case (a)'s shape (1M × 32, K = 256), and whether a
bfloat16 GEMM could cut it. Prints, for torch's and numpy's BLAS and three block sizes, the GEMM alone and the
GEMM plus argmin over all rows with the worker threads the backend uses; the fused GEMM + argmin kernel
(`src/cluster/fused_argmin.py`) over the same rows; then six whole backend iterations with each kernel.

    env -u OPENBLAS_CORETYPE PYTHONPATH=. .venv/bin/python benchmarks/kmeans/iteration_breakdown.py

Timing loops, best of five; run on an idle machine (benchmarks/kmeans/README.md, case (a)).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from benchmarks.kmeans.bench import _best_time, make_data
from src.cluster.gemm_kmeans import (
    FUSED,
    GEMMS,
    SLICES,
    GemmBackend,
    RowAssigner,
    _ranges,
    augment,
    augment_centroids,
    kernels,
    n_threads,
    worker_pool,
)

N, D, K = 1_000_000, 32, 256


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    """Milliseconds of the fastest of `repeats` calls after one warm-up call."""
    return 1e3 * _best_time(fn, repeats)


def on_row_slices(job: Callable[[int, int], object], n: int, workers: int) -> float:
    """Milliseconds of one pass of `job(lo, hi)` over the backend's row slices, on `workers` threads."""
    parts = _ranges(n, workers * SLICES)
    with worker_pool(workers) as pool:
        return best_of(lambda: list(pool.map(lambda p: job(*p), parts)))


def gemm_time(Xa: np.ndarray, Ca: np.ndarray, gemm_name: str, workers: int, chunk: int) -> float:
    """One pass over all rows: the distance GEMM alone, block by block."""
    gemm = GEMMS[gemm_name]

    def job(lo: int, hi: int) -> None:
        out = np.empty((chunk, Ca.shape[1]), dtype=np.float32)
        for s in range(lo, hi, chunk):
            e = min(s + chunk, hi)
            gemm(Xa[s:e], Ca, out[: e - s])

    return on_row_slices(job, len(Xa), workers)


def kernel_time(X: np.ndarray, C: np.ndarray, kernel: str, workers: int, chunk: int) -> float:
    """One pass over all rows with a nearest-centroid kernel as the backend runs it (BLAS GEMM + argmin per
    block, or the fused kernel)."""
    assigner = RowAssigner(X, kernel, chunk)
    assigner.set_centroids(C)
    labels = np.empty(len(X), dtype=np.int64)
    return on_row_slices(lambda lo, hi: assigner(labels, lo, hi), len(X), workers)


def bf16_gemm_time(Xa: np.ndarray, Ca: np.ndarray, chunk: int) -> tuple[float, float]:
    """(fp32, bf16) milliseconds of torch.mm over all rows, torch's own threads. On CPU torch returns the bf16
    product in bf16 (no float32 output), which rounds every distance to 8 significant bits."""
    x32, c32 = torch.from_numpy(Xa), torch.from_numpy(Ca)
    x16, c16 = x32.bfloat16(), c32.bfloat16()

    def run(x: torch.Tensor, c: torch.Tensor) -> None:
        for s in range(0, len(x), chunk):
            torch.mm(x[s : s + chunk], c)

    return best_of(lambda: run(x32, c32)), best_of(lambda: run(x16, c16))


def main() -> None:
    X = make_data(N, D, 64, 2.0, 0, N)
    C = X[np.random.default_rng(0).choice(N, K, replace=False)].copy()
    Xa, Ca = augment(X), augment_centroids(C)
    workers = n_threads()
    print(f"{N} × {D}, K = {K}, {workers} worker threads; ms per pass over all rows (best of 5)")
    for name in GEMMS:
        for chunk in (512, 1024, 2048):
            gemm_only = gemm_time(Xa, Ca, name, workers, chunk)
            with_argmin = kernel_time(X, C, name, workers, chunk)
            print(
                f"{name:6s} block {chunk:5d}: GEMM {gemm_only:6.1f}  GEMM + argmin {with_argmin:6.1f}"
                f"  (argmin {with_argmin - gemm_only:5.1f}; GEMM {2 * N * (D + 1) * K / gemm_only / 1e6:5.0f} GFLOP/s)"
            )
    if FUSED in kernels():
        fused = kernel_time(X, C, FUSED, workers, 1024)
        print(f"fused GEMM + argmin kernel: {fused:6.1f}  ({2 * N * D * K / fused / 1e6:5.0f} GFLOP/s)")
    fp32, bf16 = bf16_gemm_time(Xa, Ca, 16384)
    print(f"torch.mm fp32 {fp32:.1f} ms, bf16 {bf16:.1f} ms (bf16/fp32 {bf16 / fp32:.2f})")
    for kernel in kernels():
        with GemmBackend(X, K, kernel=kernel) as backend:
            Cc = C.copy()
            for it in range(6):
                t0 = time.perf_counter()
                _, sums, counts = backend.assign_and_sum(Cc)
                ms = 1e3 * (time.perf_counter() - t0)
                nz = counts > 0
                Cc[nz] = (sums[nz] / counts[nz, None]).astype(np.float32)
                print(f"backend iteration {it}: {ms:.1f} ms ({kernel})")


if __name__ == "__main__":
    main()
