"""Choosing k: the inertia (elbow) curve with an automatic knee (kneed), plus silhouette per k."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from kneed import KneeLocator
from sklearn.metrics import silhouette_score
from tqdm.auto import tqdm

from src.cluster.kmeans import fit_kmeans

log = logging.getLogger(__name__)


@dataclass
class KChoice:
    """The curve that was measured, the k chosen from it and a sentence saying why."""

    ks: list[int]
    inertias: list[float]
    silhouettes: list[float]
    k: int
    method: str
    reason: str
    results: dict[int, object] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        return {
            "ks": self.ks,
            "inertias": self.inertias,
            "silhouettes": self.silhouettes,
            "k": self.k,
            "method": self.method,
            "reason": self.reason,
        }


def silhouette_sample(X: np.ndarray, labels: np.ndarray, sample: int = 10_000, seed: int = 0) -> float:
    """Silhouette on a seeded sample (full silhouette is O(N²)); NaN when fewer than 2 clusters."""
    if len(np.unique(labels)) < 2 or len(X) < 3:
        return float("nan")
    n = min(sample, len(X))
    return float(silhouette_score(X, labels, sample_size=n if n < len(X) else None, random_state=seed))


def find_knee(ks: list[int], inertias: list[float]) -> int | None:
    """Knee of a decreasing convex curve (Satopää et al.'s Kneedle), or None when there is none."""
    if len(ks) < 3:
        return None
    locator = KneeLocator(ks, inertias, curve="convex", direction="decreasing", interp_method="interp1d")
    return int(locator.knee) if locator.knee is not None else None


def choose_k(
    X: np.ndarray,
    k_min: int = 2,
    k_max: int = 30,
    engine: str = "auto",
    seed: int = 0,
    n_init: int = 1,
    silhouette_size: int = 5000,
    progress: bool = True,
    **kmeans_kwargs,
) -> KChoice:
    """Fit k-means for every k in [k_min, k_max] and pick the knee of the inertia curve.

    Falls back to the best silhouette when the curve has no knee (e.g. very few points).
    """
    k_max = min(k_max, len(X) - 1)
    k_min = max(2, min(k_min, k_max))
    ks = list(range(k_min, k_max + 1))
    if not ks:
        return KChoice([], [], [], 1, "trivial", f"only {len(X)} points: one cluster")
    inertias, silhouettes, results = [], [], {}
    for k in tqdm(ks, desc="elbow: k-means per k", disable=not progress, leave=False):
        result = fit_kmeans(X, k, engine=engine, seed=seed, n_init=n_init, **kmeans_kwargs)
        results[k] = result
        inertias.append(result.inertia)
        silhouettes.append(silhouette_sample(X, result.labels, silhouette_size, seed))
    knee = find_knee(ks, inertias)
    if knee is not None:
        k, method = knee, "knee"
        drop = 1 - inertias[ks.index(k)] / inertias[0]
        reason = (
            f"knee of the inertia curve over k={k_min}..{k_max} at k={k} (inertia {inertias[ks.index(k)]:.4g}, "
            f"{drop:.0%} below k={k_min}; silhouette {silhouettes[ks.index(k)]:.3f})"
        )
    else:
        best = int(np.nanargmax(silhouettes)) if np.isfinite(silhouettes).any() else 0
        k, method = ks[best], "silhouette"
        reason = f"no knee in the inertia curve over k={k_min}..{k_max}; best silhouette at k={k}"
    log.info("chose k=%d: %s", k, reason)
    return KChoice(ks, inertias, silhouettes, k, method, reason, results)
