"""Reference recommenders of docs/evaluation.md: random, popularity and item-kNN on content features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.content import audio_matrix, numeric_column, zscore
from src.recsys.base import Recommender, row_normalize


@dataclass
class RandomRecommender(Recommender):
    """Uniformly random scores (a fixed permutation per history row); the floor every model must beat."""

    seed: int = 0
    name: str = "random"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> RandomRecommender:
        self._n_items = train.shape[1]
        self._rng = np.random.default_rng(self.seed)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return self._rng.random((history.shape[0], self._n_items), dtype=np.float32)


@dataclass
class PopularityRecommender(Recommender):
    """Items ranked by how many training playlists hold them (ties: catalogue popularity, then order)."""

    name: str = "popularity"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> PopularityRecommender:
        self._n_items = train.shape[1]
        counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
        tie = np.nan_to_num(numeric_column(items, "popularity"), nan=0.0) / 1e4
        self._scores = (counts + tie).astype(np.float32)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self._scores, (history.shape[0], self._n_items)).copy()


@dataclass
class ItemKNNRecommender(Recommender):
    """Content item-kNN: mean cosine similarity between a candidate and the playlist's tracks.

    Content = z-scored audio features, optionally with release year and popularity. Cold tracks are scored
    like any other (this model never looks at interactions beyond the playlist itself).
    """

    extra: Sequence[str] = ("release_year", "popularity")
    name: str = "item_knn"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> ItemKNNRecommender:
        self._n_items = train.shape[1]
        parts = [audio_matrix(items)] + [zscore(items[c])[:, None] for c in self.extra if c in items.columns]
        X = np.hstack(parts).astype(np.float32)
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        self._X = X / np.where(norms > 0, norms, 1.0)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        # mean_j cos(i, j) = x_i · mean_j x_j: pool first, one matrix product per batch.
        pooled = row_normalize(sp.csr_matrix(history > 0, dtype=np.float32)) @ self._X
        return (np.asarray(pooled) @ self._X.T).astype(np.float32)
