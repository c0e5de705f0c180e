"""The one small recommender interface every model implements (shape taken from the `implicit` library).

Everything is index-based: items are rows of the catalogue's `tracks` table (in its order), a user or playlist is
a sparse row of the items it already holds. Scoring takes those rows directly, so a playlist that did not exist at
training time is scored exactly like a known one (no retraining, no user-id lookup).

Nothing here materialises a playlists × catalogue matrix: a model answers either "your top k" (`recommend_batch`,
through FAISS search, sparse products or a bounded dense block) or "your scores for these candidates"
(`score_items`, what a re-ranker reads). Both work on a batch of history rows, so memory is bounded by the batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.models.retrieval import PAD as PAD  # re-exported: the recommenders' one import point
from src.models.retrieval import row_normalize as row_normalize
from src.models.retrieval import tie_key as tie_key
from src.models.retrieval import top_k as top_k


class Recommender(ABC):
    """`fit` on a users × items matrix of training interactions, then rank items for any histories.

    `uses_validation`: when True the evaluator passes the validation part separately (early stopping,
    re-ranker fitting, hyper-parameter choice); otherwise train and validation are merged into one matrix.
    """

    name: str = "recommender"
    uses_validation: bool = False

    @abstractmethod
    def fit(self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None) -> Recommender:
        """Learn from `train` (users × items, 1 = the user holds the item); `items` is the catalogue table."""

    @abstractmethod
    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` items per history row, the row's own items excluded, best first.

        Returns (indices n × k int64, scores n × k float32); slots a model cannot fill hold `PAD` / -inf.
        """

    @abstractmethod
    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        """Scores (n × c float32) of the given candidate items (n × c int64) for each history row; `PAD`
        candidates score -inf. The same scale as `recommend_batch` (a re-ranker compares them)."""

    def recommend(
        self, history: sp.csr_matrix | np.ndarray | list[int], k: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores per history (a csr matrix, or the item indices of one playlist)."""
        return self.recommend_batch(as_history(history, self.n_items), k)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most likely to follow a one-track playlist holding `item` (the item itself excluded)."""
        return self.recommend(np.array([item]), k)

    @property
    def n_items(self) -> int:
        return int(self._n_items)

    _n_items: int = 0


def as_history(history: sp.csr_matrix | np.ndarray | list[int], n_items: int) -> sp.csr_matrix:
    """A binary csr history matrix from item indices (one playlist) or an existing sparse matrix."""
    if sp.issparse(history):
        out = sp.csr_matrix(history, dtype=np.float32)
        out.data[:] = 1.0
        out.eliminate_zeros()
        return out
    idx = np.unique(np.asarray(history, dtype=np.int64))
    data = np.ones(len(idx), dtype=np.float32)
    return sp.csr_matrix((data, (np.zeros(len(idx), dtype=np.int64), idx)), shape=(1, n_items))
