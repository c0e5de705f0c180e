"""One k-means interface over several engines: same inputs, same outputs (labels, centroids, inertia, n_iter).

Every engine starts from the same k-means++ (or random) centroids for a given seed, so results are
comparable across engines and reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus


@dataclass
class KMeansResult:
    """Outcome of one k-means fit. `inertia` is the sum of squared distances to the assigned centroid."""

    labels: np.ndarray
    centroids: np.ndarray
    inertia: float
    n_iter: int
    engine: str

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])


def init_centroids(X: np.ndarray, k: int, seed: int, init: str = "k-means++") -> np.ndarray:
    """Initial centroids shared by every engine (k-means++ from scikit-learn, or k random points)."""
    rng = np.random.default_rng(seed)
    if init == "random":
        return X[rng.choice(len(X), size=k, replace=False)].astype(np.float32, copy=True)
    if init != "k-means++":
        raise ValueError(f"unknown init {init!r}: use 'k-means++' or 'random'")
    sample = X
    if len(X) > 100_000:  # k-means++ is O(N·k); seeding from a sample keeps it cheap at scale
        sample = X[np.sort(rng.choice(len(X), size=100_000, replace=False))]
    centers, _ = kmeans_plusplus(sample.astype(np.float64), k, random_state=int(seed))
    return centers.astype(np.float32)


def assign(X: np.ndarray, centroids: np.ndarray, chunk: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid and squared distance per row (FAISS flat search, chunked for bounded memory)."""
    import faiss

    index = faiss.IndexFlatL2(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    labels = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X), dtype=np.float32)
    for start in range(0, len(X), chunk):
        block = np.ascontiguousarray(X[start : start + chunk], dtype=np.float32)
        d, i = index.search(block, 1)
        labels[start : start + chunk] = i[:, 0]
        dist[start : start + chunk] = np.maximum(d[:, 0], 0.0)
    return labels, dist


def _sklearn_engine(X, k, start, n_iter, tol, seed, **_):
    model = KMeans(k, init=start, n_init=1, max_iter=n_iter, tol=tol, random_state=seed, algorithm="lloyd")
    model.fit(X)
    return model.cluster_centers_.astype(np.float32), int(model.n_iter_)


def _faiss_engine(X, k, start, n_iter, tol, seed, max_points_per_centroid=None, **_):
    import faiss

    mppc = max_points_per_centroid or max(1, int(np.ceil(len(X) / k)) + 1)
    km = faiss.Kmeans(
        X.shape[1], k, niter=n_iter, seed=int(seed), max_points_per_centroid=int(mppc), verbose=False
    )
    km.train(np.ascontiguousarray(X, dtype=np.float32), init_centroids=np.ascontiguousarray(start))
    return np.asarray(km.centroids, dtype=np.float32), int(n_iter)


ENGINES: dict[str, Callable[..., tuple[np.ndarray, int]]] = {
    "sklearn": _sklearn_engine,
    "faiss": _faiss_engine,
}


def available_engines() -> list[str]:
    return sorted(ENGINES)


def resolve_engine(engine: str) -> str:
    """`auto` picks FAISS on CPU (it is the fastest engine installed by default)."""
    if engine == "auto":
        return "faiss" if "faiss" in ENGINES else "sklearn"
    if engine not in ENGINES:
        raise ValueError(f"unknown k-means engine {engine!r}: choose from {available_engines()} or 'auto'")
    return engine


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
) -> KMeansResult:
    """Cluster the rows of `X` into `k` groups; the best of `n_init` seeded starts (lowest inertia) wins."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"fit_kmeans needs a non-empty 2-D matrix, got shape {X.shape}")
    if not 1 <= k <= len(X):
        raise ValueError(f"k={k} must be between 1 and the number of points ({len(X)})")
    name = resolve_engine(engine)
    best: KMeansResult | None = None
    for run in range(max(1, n_init)):
        run_seed = int(seed) + run
        start = init_centroids(X, k, run_seed, init)
        centroids, iterations = ENGINES[name](
            X,
            k,
            start,
            n_iter=n_iter,
            tol=tol,
            seed=run_seed,
            max_points_per_centroid=max_points_per_centroid,
            device=device,
        )
        labels, dist = assign(X, centroids)
        inertia = float(dist.astype(np.float64).sum())
        if best is None or inertia < best.inertia:
            best = KMeansResult(labels, centroids, inertia, iterations, name)
    assert best is not None
    return best
