"""One k-means interface over several engines: same inputs, same outputs (labels, centroids, inertia, n_iter).

Every engine starts from the same k-means++ (or random) centroids for a given seed, so results are
comparable across engines and reproducible. Engines:

- ``gemm``, ``torch``, ``faiss``: backends of one Lloyd loop (`src/cluster/lloyd.py`) — GEMM with worker
  threads on the CPU (the CPU default), PyTorch on CUDA (fp32/TF32/bf16) or the CPU, a faiss flat index
  (on the GPU when a faiss GPU build and ``device="cuda"`` are present);
- ``sklearn``: ``sklearn.cluster.KMeans(algorithm="lloyd")``, the reference (the pipeline's default).

Whatever the engine, the final labels and inertia come from the same chunked `assign` over every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from src.cluster.faiss_kmeans import faiss_gpu_available
from src.cluster.gemm_kmeans import assign_gemm
from src.cluster.lloyd import BACKENDS, lloyd

EngineOutput = tuple[np.ndarray, int, list[float]]  # centroids, iterations run, inertia per iteration


@dataclass
class KMeansResult:
    """Outcome of one k-means fit. `inertia` is the sum of squared distances to the assigned centroid."""

    labels: np.ndarray
    centroids: np.ndarray
    inertia: float
    n_iter: int
    engine: str
    history: list[float] = field(default_factory=list, repr=False)  # inertia per iteration (training points)

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])


def seed_sample_size(n: int, k: int, init: str = "k-means++") -> int:
    """Rows the seeding looks at: k for `random`; for k-means++ (O(rows·k·log k)) a sample whose size shrinks
    as k grows (≥ 20 rows per centre). The distributed fit gathers exactly these rows to one rank."""
    if init == "random":
        return k
    if init != "k-means++":
        raise ValueError(f"unknown init {init!r}: use 'k-means++' or 'random'")
    return min(n, max(100_000 if k <= 64 else 6_400_000 // k, 20 * k))


def init_centroids(X: np.ndarray, k: int, seed: int, init: str = "k-means++") -> np.ndarray:
    """Initial centroids shared by every engine (k-means++ from scikit-learn, or k random points), drawn from
    the rows `sample_indices(len(X), seed_sample_size(...), seed)`."""
    sample = X[sample_indices(len(X), seed_sample_size(len(X), k, init), seed)]
    if init == "random":
        return sample.astype(np.float32, copy=True)
    centers, _ = kmeans_plusplus(sample.astype(np.float64), k, random_state=int(seed))
    return centers.astype(np.float32)


def assign(
    X: np.ndarray, centroids: np.ndarray, chunk: int = 262_144, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid and squared distance per row, `chunk` rows at a time (bounded memory)."""
    return assign_gemm(X, centroids, block=chunk, threads=threads)


def _sklearn(X: np.ndarray, start: np.ndarray, n_iter: int, tol: float, seed: int) -> EngineOutput:
    model = KMeans(
        len(start), init=start, n_init=1, max_iter=n_iter, tol=tol, random_state=seed, algorithm="lloyd"
    )
    model.fit(X)
    return model.cluster_centers_.astype(np.float32), int(model.n_iter_), []


ENGINES = ("sklearn", *BACKENDS)


def run_engine(
    name: str,
    X: np.ndarray,
    start: np.ndarray,
    n_iter: int,
    tol: float,
    seed: int = 0,
    device: str | None = None,
    precision: str = "fp32",
    threads: int | None = None,
) -> EngineOutput:
    """Centroids, iterations run and inertia per iteration of engine `name` from `start` on the rows of `X`.

    ``sklearn`` is scikit-learn's own Lloyd (the reference; no per-iteration inertia); every other engine
    is a backend of the shared loop `src.cluster.lloyd.lloyd`.
    """
    if name == "sklearn":
        return _sklearn(X, start, n_iter, tol, seed)
    return lloyd(X, start, n_iter, tol, backend=name, device=device, precision=precision, threads=threads)


def available_engines() -> list[str]:
    return sorted(ENGINES)


def cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch broken
        return False


def resolve_engine(engine: str, device: str | None = None) -> str:
    """`auto` picks the fastest engine: faiss GPU or torch on CUDA, the `gemm` engine on the CPU.

    On CPU `gemm` is measured faster than faiss-cpu (see benchmarks/); on CUDA faiss's GPU build wins when
    installed, torch otherwise.
    """
    if engine == "auto":
        wants_gpu = device is None or str(device).startswith("cuda")
        if wants_gpu and cuda_available():
            return "faiss" if faiss_gpu_available() else "torch"
        return "gemm"
    if engine not in ENGINES:
        raise ValueError(f"unknown k-means engine {engine!r}: choose from {available_engines()} or 'auto'")
    return engine


def sample_indices(n: int, size: int, seed: int) -> np.ndarray:
    """`size` distinct row numbers out of `n`, seeded and sorted (so reads stay sequential)."""
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def training_sample(X: np.ndarray, k: int, max_points_per_centroid: int | None, seed: int) -> np.ndarray:
    """At most ``k × max_points_per_centroid`` rows, seeded and in original order (FAISS's subsampling)."""
    if not max_points_per_centroid or len(X) <= k * max_points_per_centroid:
        return X
    return X[sample_indices(len(X), k * int(max_points_per_centroid), seed)]


def fit_kmeans(
    X: np.ndarray,
    k: int,
    engine: str = "auto",
    n_iter: int = 300,
    tol: float = 1e-4,
    seed: int = 0,
    init: str = "k-means++",
    n_init: int = 1,
    max_points_per_centroid: int | None = None,
    device: str | None = None,
    precision: str = "fp32",
    threads: int | None = None,
) -> KMeansResult:
    """Cluster the rows of `X` into `k` groups; the best of `n_init` seeded starts (lowest inertia) wins.

    `max_points_per_centroid` trains on a seeded subsample of ``k × max_points_per_centroid`` rows and then
    assigns every row; `precision` (``fp32``/``tf32``/``bf16``) only affects the torch engine on CUDA;
    `threads` caps the gemm engine's worker threads (1 = run in the calling thread).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"fit_kmeans needs a non-empty 2-D matrix, got shape {X.shape}")
    if not 1 <= k <= len(X):
        raise ValueError(f"k={k} must be between 1 and the number of points ({len(X)})")
    name = resolve_engine(engine, device)
    best: KMeansResult | None = None
    for run in range(max(1, n_init)):
        run_seed = int(seed) + run
        train = training_sample(X, k, max_points_per_centroid, run_seed)
        start = init_centroids(train, k, run_seed, init)
        centroids, iterations, history = run_engine(
            name, train, start, n_iter, tol, run_seed, device=device, precision=precision, threads=threads
        )
        labels, dist = assign(X, centroids, threads=threads)
        inertia = float(dist.astype(np.float64).sum())
        if best is None or inertia < best.inertia:
            best = KMeansResult(labels, centroids, inertia, iterations, name, list(history))
    assert best is not None
    return best


def kmeans_centroids(
    X: np.ndarray, k: int, n_init: int = 1, seed: int = 0, engine: str = "sklearn"
) -> np.ndarray:
    """The centroids of `fit_kmeans` (best of `n_init` seeded starts): the k-means DEC/IDEC start from."""
    return fit_kmeans(X, k, engine=engine, n_init=n_init, seed=seed).centroids
