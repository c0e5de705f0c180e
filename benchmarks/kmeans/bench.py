"""The measurements behind `scripts/benchmark_kmeans.py`: GEMM peak, engines side by side, the 10M path.

Every engine gets the same float32 data and the same initial centroids, runs a fixed number of Lloyd
iterations (tol = 0) through the project's `run_engine` (gemm, torch and faiss are backends of the same
Lloyd loop, sklearn is scikit-learn's own), and is timed in this process, interleaved over
`repeats` rounds so that load from other processes hits every engine alike. Final inertia is recomputed
exactly for every engine with the same assignment code, so the comparison does not trust each engine's
own bookkeeping.
"""

from __future__ import annotations

import logging
import resource
import statistics
import time
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_info
from tqdm.auto import tqdm

from benchmarks.kmeans.large import two_level
from src.cluster.faiss_kmeans import faiss_gpu_available
from src.cluster.gemm_kmeans import kernel_choices
from src.cluster.kmeans import assign, init_centroids, resolve_engine, run_engine, training_sample

log = logging.getLogger(__name__)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def blas_info() -> list[dict[str, Any]]:
    """Which BLAS libraries are loaded and which kernel each runs (e.g. SkylakeX = AVX-512, Prescott = SSE3)."""
    keys = ("prefix", "architecture", "version", "num_threads", "filepath")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info() if lib.get("user_api") == "blas"]


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up: thread pools, page faults, kernel selection
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_peak(n: int, repeats: int, device: str = "cpu") -> dict[str, float]:
    """GFLOP/s of an n×n×n fp32 matrix product: numpy (OpenBLAS) and torch (MKL) on CPU, torch on CUDA."""
    flops = 2.0 * n**3
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    if device.startswith("cuda"):
        At = torch.from_numpy(A).to(device)
        out = {}
        for name, tf32 in (("torch_cuda_fp32", False), ("torch_cuda_tf32", True)):
            torch.backends.cuda.matmul.allow_tf32 = tf32

            def run(At: torch.Tensor = At) -> None:
                At @ At
                torch.cuda.synchronize()

            out[name] = flops / _best_time(run, repeats) / 1e9
        torch.backends.cuda.matmul.allow_tf32 = False
        return out
    At = torch.from_numpy(A)
    return {
        "numpy_openblas": flops / _best_time(lambda: A @ A, repeats) / 1e9,
        "torch_mkl": flops / _best_time(lambda: At @ At, repeats) / 1e9,
    }


def make_data(n: int, d: int, centers: int, spread: float, seed: int, chunk_rows: int) -> np.ndarray:
    """A Gaussian mixture written chunk by chunk into one float32 array (no float64 copy of the whole)."""
    rng = np.random.default_rng(seed)
    means = (rng.standard_normal((centers, d)) * spread).astype(np.float32)
    noise = torch.Generator().manual_seed(seed)  # torch's vectorised, multi-threaded normal sampler
    X = np.empty((n, d), dtype=np.float32)
    for start in tqdm(range(0, n, chunk_rows), desc="data", leave=False, disable=n < 4 * chunk_rows):
        stop = min(start + chunk_rows, n)
        torch.randn((stop - start, d), generator=noise, out=torch.from_numpy(X[start:stop]))
        X[start:stop] += means[rng.integers(0, centers, stop - start)]
    return X


def compare_engines(
    X: np.ndarray,
    start: np.ndarray,
    engines: list[str],
    n_iter: int,
    repeats: int,
    device: str,
    precision: str,
    seed: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Time every engine from the same start (interleaved rounds, median time); also returns the centroids."""
    k, d = start.shape
    flops = 2.0 * len(X) * k * d * n_iter
    times: dict[str, list[float]] = {e: [] for e in engines}
    fits: dict[str, tuple[np.ndarray, int]] = {}
    for round_ in range(max(1, repeats)):
        for engine in engines:
            t0 = time.perf_counter()
            centroids, iters, _ = run_engine(
                engine, X, start, n_iter, tol=0.0, seed=seed, device=device, precision=precision
            )
            times[engine].append(time.perf_counter() - t0)
            fits[engine] = (centroids, iters)
            log.info("round %d %-8s %.3fs", round_, engine, times[engine][-1])
    out = {}
    for engine in engines:
        centroids, iters = fits[engine]
        _, dist = assign(X, centroids)
        seconds = statistics.median(times[engine])
        out[engine] = {
            "seconds": seconds,
            "times": times[engine],
            "n_iter": iters,
            "gflops": flops / seconds / 1e9 * (iters / n_iter),
            "inertia": float(dist.astype(np.float64).sum()),
            "peak_rss_mib": peak_rss_mib(),
        }
    return out, {engine: fit[0] for engine, fit in fits.items()}


def _add_comparisons(result: dict[str, Any], references: list[str], peak: float) -> None:
    engines = result["engines"]
    default = result["default_engine"]
    for name, row in engines.items():
        row["fraction_of_peak"] = row["gflops"] / peak
        for ref in references:
            if ref in engines and ref != name:
                row[f"inertia_rel_diff_vs_{ref}"] = (row["inertia"] - engines[ref]["inertia"]) / engines[ref][
                    "inertia"
                ]
    if default in engines:
        for ref in references:
            if ref in engines and ref != default:
                result[f"default_vs_{ref}"] = engines[default]["seconds"] / engines[ref]["seconds"]


def run_benchmark(cfg: DictConfig) -> dict[str, Any]:
    """Run the case named by `cfg.case` and return everything measured (JSON-ready)."""
    t_start = time.perf_counter()
    if cfg.case not in cfg.cases:
        raise KeyError(f"unknown benchmark case {cfg.case!r}: choose one of {sorted(cfg.cases)}")
    case = cfg.cases[cfg.case]
    device = str(case.get("device", "cpu"))
    engines = list(case.engines)
    result: dict[str, Any] = {"case": cfg.case, "config": OmegaConf.to_container(case, resolve=True)}
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            result["skipped"] = "needs a CUDA GPU; torch sees none on this machine"
            return result
        if "faiss" in engines and not faiss_gpu_available():
            engines.remove("faiss")
            result["note"] = "faiss has no GPU build here: compared torch only"
        result["gpu"] = torch.cuda.get_device_name()
    result["blas"] = blas_info()
    result["torch_threads"] = torch.get_num_threads()
    peaks = gemm_peak(int(cfg.peak.n), int(cfg.peak.repeats), device)
    result["gemm_peak_gflops"] = peaks
    peak = max(peaks.values())
    n, d, k, n_iter = int(case.n), int(case.d), int(case.k), int(case.n_iter)
    t0 = time.perf_counter()
    X = make_data(
        n, d, int(cfg.data.centers), float(cfg.data.spread), int(cfg.seed), int(cfg.data.chunk_rows)
    )
    result["data_seconds"] = time.perf_counter() - t0
    train = training_sample(X, k, case.get("max_points_per_centroid"), int(cfg.seed))
    t0 = time.perf_counter()
    start = init_centroids(train, k, int(cfg.seed), str(case.get("init", "k-means++")))
    result["init_seconds"] = time.perf_counter() - t0
    result["train_rows"] = len(train)
    result["default_engine"] = resolve_engine("auto", device)
    precision = str(case.get("precision", "fp32"))
    repeats = int(case.get("repeats", cfg.repeats))
    result["engines"], fits = compare_engines(
        train, start, engines, n_iter, repeats, device, precision, int(cfg.seed)
    )
    _add_comparisons(result, list(case.reference), peak)
    # which kernel the gemm engine's calibration chose per shape (block rows, d, k, worker threads)
    result["gemm_kernel"] = {" × ".join(map(str, key)): name for key, name in kernel_choices().items()}
    if "k2" in case:
        t0 = time.perf_counter()
        levels = two_level(
            X,
            k,
            k2=case.k2,
            min_size=int(case.min_size),
            engine="auto",
            n_iter=n_iter,
            seed=int(cfg.seed),
            max_points_per_centroid=int(case.max_points_per_centroid),
            centroids=fits.get(result["default_engine"]),
        )
        sizes = [v["k"] for v in levels.info.values()]
        result["two_level"] = {
            "seconds": time.perf_counter() - t0,
            "level_seconds": levels.seconds,
            "clusters": k,
            "subclusters": int(sum(sizes)),
            "max_subclusters_per_cluster": int(max(sizes)),
            "inertia_level1": levels.inertia,
            "inertia_level2": levels.subinertia,
            "peak_rss_mib": peak_rss_mib(),
        }
    result["total_seconds"] = time.perf_counter() - t_start
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of the engines (and the two-level run) for the terminal."""
    if "skipped" in result:
        return f"case {result['case']}: skipped — {result['skipped']}"
    c = result["config"]
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in result["gemm_peak_gflops"].items())
    lines = [
        f"case {result['case']}: N={c['n']:,} (trained on {result['train_rows']:,}) D={c['d']} K={c['k']} "
        f"iters={c['n_iter']} device={c.get('device', 'cpu')}",
        f"fp32 GEMM peak (GFLOP/s, this run): {peaks}",
        f"{'engine':<9}{'seconds':>9}{'GFLOP/s':>9}{'% peak':>8}{'inertia':>16}  rel. diff",
    ]
    for name, row in result["engines"].items():
        diffs = " ".join(
            f"{k.removeprefix('inertia_rel_diff_vs_')} {v:+.2e}"
            for k, v in row.items()
            if k.startswith("inertia_rel")
        )
        lines.append(
            f"{name:<9}{row['seconds']:>9.3f}{row['gflops']:>9.1f}{100 * row['fraction_of_peak']:>7.1f}%"
            f"{row['inertia']:>16.6g}  {diffs}"
        )
    for key, value in result.items():
        if key.startswith("default_vs_"):
            lines.append(
                f"{result['default_engine']} / {key.removeprefix('default_vs_')} time ratio: {value:.3f}"
            )
    if "two_level" in result:
        t = result["two_level"]
        lines.append(
            f"two-level: {t['clusters']} clusters → {t['subclusters']} sub-clusters (≤ {t['max_subclusters_per_cluster']} "
            f"each) in {t['seconds']:.1f}s (level 1 {t['level_seconds']['level1']:.1f}s, level 2 "
            f"{t['level_seconds']['level2']:.1f}s)"
        )
    lines.append(f"total {result['total_seconds']:.1f}s, peak RSS {result['peak_rss_mib']:.0f} MiB")
    return "\n".join(lines)
