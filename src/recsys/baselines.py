"""Reference recommenders of docs/evaluation.md: random, popularity and item-kNN on content features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.content import audio_matrix, numeric_column, zscore
from src.recsys.base import PAD, Recommender, row_normalize, tie_key
from src.recsys.retrieval import InnerProductIndex, fill_from_order


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

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        history = sp.csr_matrix(history)
        k = min(k, self._n_items)
        idx = np.full((history.shape[0], k), PAD, dtype=np.int64)
        for i in range(history.shape[0]):
            own = history.indices[history.indptr[i] : history.indptr[i + 1]]
            draw = self._rng.choice(self._n_items, size=min(self._n_items, k + len(own)), replace=False)
            draw = draw[~np.isin(draw, own)][:k]
            idx[i, : len(draw)] = draw
        scores = np.where(idx >= 0, np.linspace(1.0, 0.0, k, dtype=np.float32)[None, :], -np.inf)
        return idx, scores.astype(np.float32)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        out = self._rng.random(candidates.shape, dtype=np.float32)
        out[candidates < 0] = -np.inf
        return out


@dataclass
class PopularityRecommender(Recommender):
    """Items ranked by how many training playlists hold them (ties: catalogue popularity, then `tie_key`)."""

    name: str = "popularity"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> PopularityRecommender:
        self._n_items = train.shape[1]
        counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
        tie = np.nan_to_num(numeric_column(items, "popularity"), nan=0.0) / 1e4
        self._scores = (counts + tie).astype(np.float32)
        self.order = np.lexsort((tie_key(np.arange(self._n_items)), -self._scores))
        return self

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self._n_items)
        empty = np.full((history.shape[0], k), PAD, dtype=np.int64)
        return fill_from_order(
            empty, np.full(empty.shape, -np.inf, np.float32), history, self.order, self._scores[self.order]
        )

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        out = self._scores[np.where(candidates >= 0, candidates, 0)].astype(np.float32)
        out[candidates < 0] = -np.inf
        return out


class EmbeddingRecommender(Recommender):
    """Tracks nearest the playlist's mean direction in a given embedding (any run's `embeddings/*.parquet`).

    What a run without an interaction-trained model recommends with: its own clustered space, cold tracks
    included. Scores are mean cosine similarities, like the content item-kNN's.
    """

    name = "embedding"

    def __init__(self, vectors: np.ndarray, name: str = "embedding") -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._index = InnerProductIndex(vectors / np.where(norms > 0, norms, 1.0))
        self._n_items = len(vectors)
        self.name = name

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> EmbeddingRecommender:
        return self  # nothing to learn: the embedding is given

    def _query(self, history: sp.csr_matrix) -> np.ndarray:
        # mean_j cos(i, j) = x_i · mean_j x_j: pool first, then one inner-product search.
        return np.asarray(row_normalize(sp.csr_matrix(history > 0, dtype=np.float32)) @ self._index.vectors)

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.top_k(self._query(history), history, k)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        return self._index.score(self._query(history), candidates)


@dataclass
class ItemKNNRecommender(EmbeddingRecommender):
    """Content item-kNN: mean cosine similarity between a candidate and the playlist's tracks.

    Content = z-scored audio features, optionally with release year and popularity. Cold tracks are scored
    like any other (this model never looks at interactions beyond the playlist itself).
    """

    extra: Sequence[str] = ("release_year", "popularity")
    name: str = "item_knn"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> ItemKNNRecommender:
        parts = [audio_matrix(items)] + [zscore(items[c])[:, None] for c in self.extra if c in items.columns]
        EmbeddingRecommender.__init__(self, np.hstack(parts), name=self.name)
        return self
