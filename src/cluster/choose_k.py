"""Choosing k: the inertia (elbow) curve with an automatic knee (kneed), plus silhouette per k.

For large N the curve can be drawn on a seeded sample of the rows (`sample`) and over any increasing grid
of k (`ks`, e.g. powers of two), so the cost is ``len(ks)`` fits on the sample whatever N.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from src.cluster.kmeans import fit_kmeans, sample_indices
from src.evaluation.clustering import silhouette_sample

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

    def to_dict(self) -> dict:
        return {
            "ks": self.ks,
            "inertias": self.inertias,
            "silhouettes": self.silhouettes,
            "k": self.k,
            "method": self.method,
            "reason": self.reason,
        }


def find_knee(ks: list[int], inertias: list[float]) -> int | None:
    """Knee of a decreasing convex curve (Satopää et al.'s Kneedle), or None when there is none."""
    if len(ks) < 3:
        return None
    from kneed import KneeLocator  # imported here: it costs a second at start-up and only choose_k needs it

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
    ks: list[int] | None = None,
    sample: int | None = None,
    **kmeans_kwargs,
) -> KChoice:
    """Fit k-means for every k in [k_min, k_max] (or in the grid `ks`) and pick the knee of the inertia curve.

    `sample` draws the curve and the silhouettes on a seeded sample of that many rows (large N). Falls back
    to the best silhouette when the curve has no knee (e.g. very few points).
    """
    rows = X if sample is None or len(X) <= sample else X[sample_indices(len(X), sample, seed)]
    if ks is None:
        k_max = min(k_max, len(rows) - 1)
        k_min = max(2, min(k_min, k_max))
        ks = list(range(k_min, k_max + 1))
        if not ks:
            return KChoice([], [], [], 1, "trivial", f"only {len(rows)} points: one cluster")
        over = f"k={k_min}..{k_max}"
    else:
        grid = ks
        ks = sorted({int(k) for k in grid if 1 <= int(k) <= len(rows)})
        if not ks:
            raise ValueError(f"no k in {list(grid)} fits {len(rows)} rows")
        over = f"k∈{ks}"
    sampled = f" ({len(rows)} of {len(X)} rows)" if len(rows) < len(X) else ""
    inertias, silhouettes = [], []
    for k in tqdm(ks, desc="elbow: k-means per k", disable=not progress, leave=False):
        result = fit_kmeans(rows, k, engine=engine, seed=seed, n_init=n_init, **kmeans_kwargs)
        inertias.append(result.inertia)
        silhouettes.append(silhouette_sample(rows, result.labels, silhouette_size, seed))
    knee = find_knee(ks, inertias)
    if knee is not None:
        k, method = knee, "knee"
        drop = 1 - inertias[ks.index(k)] / inertias[0]
        reason = (
            f"knee of the inertia curve over {over}{sampled} at k={k} (inertia {inertias[ks.index(k)]:.4g}, "
            f"{drop:.0%} below k={ks[0]}; silhouette {silhouettes[ks.index(k)]:.3f})"
        )
    else:
        best = int(np.nanargmax(silhouettes)) if np.isfinite(silhouettes).any() else 0
        k, method = ks[best], "silhouette"
        reason = f"no knee in the inertia curve over {over}{sampled}; best silhouette at k={k}"
    log.info("chose k=%d: %s", k, reason)
    return KChoice(ks, inertias, silhouettes, k, method, reason)
