"""The one small recommender interface every model implements (shape taken from the `implicit` library).

Everything is index-based: items are rows of the catalogue's `tracks` table (in its order), a user or playlist is
a sparse row of the items it already holds. Scoring takes those rows directly, so a playlist that did not exist at
training time is scored exactly like a known one (no retraining, no user-id lookup).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
import scipy.sparse as sp


class Recommender(ABC):
    """`fit` on a users × items matrix of training interactions, then `score` any histories.

    `uses_validation`: when True the evaluator passes the validation part separately (early stopping,
    re-ranker fitting); otherwise train and validation are merged into one training matrix.
    """

    name: str = "recommender"
    uses_validation: bool = False

    @abstractmethod
    def fit(self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None) -> Recommender:
        """Learn from `train` (users × items, 1 = the user holds the item); `items` is the catalogue table."""

    @abstractmethod
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores (n_histories × n_items, float32) for each history row; higher = recommend first."""

    def recommend(
        self, history: sp.csr_matrix | np.ndarray, k: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores per history row, the history's own items excluded."""
        history = as_history(history, self.n_items)
        scores = self.score(history)
        if exclude_seen:
            scores[history.nonzero()] = -np.inf
        return top_k(scores, k)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most likely to follow a one-track playlist holding `item` (the item itself excluded)."""
        return self.recommend(np.array([item]), k)

    @property
    def n_items(self) -> int:
        return int(self._n_items)

    _n_items: int = 0


def as_history(history: sp.csr_matrix | np.ndarray | list[int], n_items: int) -> sp.csr_matrix:
    """A csr history matrix from item indices (one playlist) or an existing sparse matrix."""
    if sp.issparse(history):
        return sp.csr_matrix(history, dtype=np.float32)
    idx = np.unique(np.asarray(history, dtype=np.int64))
    data = np.ones(len(idx), dtype=np.float32)
    return sp.csr_matrix((data, (np.zeros(len(idx), dtype=np.int64), idx)), shape=(1, n_items))


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k (indices, values) sorted by descending score."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    return idx, np.take_along_axis(vals, order, axis=1)


def row_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its sum (empty rows stay empty): turns a history into a mean-pooling operator."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums, dtype=np.float64), where=sums > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ matrix)
