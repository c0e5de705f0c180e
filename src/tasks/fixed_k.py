"""k-means of one embedding at the comparison k's (and over several seeds for stability), fitted once per run
and shared by every scorer: the pipeline's fixed-k points, stability and the side-by-side embedding comparison."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from omegaconf import DictConfig

from src.cluster import KMeansResult, fit_kmeans


@dataclass
class FixedKClusterings:
    """Labels of `X` at any k (k-means with the run's engine, seed, starts and iterations), each fitted once."""

    X: np.ndarray
    engine: str = "auto"
    seed: int = 0
    n_init: int = 1
    n_iter: int = 300
    _labels: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _seeded: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, cluster: DictConfig, X: np.ndarray, seed: int) -> FixedKClusterings:
        """The run's k-means settings (`cluster.engine`, `n_init`, `n_iter`) over `X`."""
        return cls(
            X, engine=cluster.engine, seed=seed, n_init=int(cluster.n_init), n_iter=int(cluster.n_iter)
        )

    def add(self, result: KMeansResult) -> None:
        """Reuse a fit made with the same settings (the run's final clustering)."""
        self._labels[result.k] = result.labels

    def labels(self, k: int) -> np.ndarray:
        if k not in self._labels:
            fit = fit_kmeans(
                self.X, k, engine=self.engine, seed=self.seed, n_init=self.n_init, n_iter=self.n_iter
            )
            self._labels[k] = fit.labels
        return self._labels[k]

    def at(self, ks: list[int]) -> dict[int, np.ndarray]:
        """Labels for every k in `ks` that splits the points (1 < k < n)."""
        return {k: self.labels(k) for k in ks if 1 < k < len(self.X)}

    def over_seeds(self, k: int, seeds: int) -> list[np.ndarray]:
        """One start per seed 0..seeds-1 (for `stability_ari`)."""
        out = []
        for s in range(seeds):
            if (k, s) not in self._seeded:
                self._seeded[(k, s)] = fit_kmeans(
                    self.X, k, engine=self.engine, seed=s, n_iter=self.n_iter
                ).labels
            out.append(self._seeded[(k, s)])
        return out
