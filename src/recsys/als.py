"""ALS matrix factorisation (`implicit`), the collaborative-filtering baseline of docs/evaluation.md.

Histories are folded in with `recalculate_user=True`, so any playlist — known or new — is scored from its items.
Cold items have no factors and are left out of the search index: ALS never recommends them (cold recall 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.recsys.base import PAD, Recommender
from src.recsys.retrieval import InnerProductIndex, keep_unseen, pad_to


def _one_blas_thread():
    """implicit's ALS is slow (and warns) when BLAS runs its own thread pool inside its loops."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, "blas")


@dataclass
class ALSRecommender(Recommender):
    """Implicit-feedback ALS with confidence 1 + alpha · weight (Hu, Koren & Volinsky 2008)."""

    factors: int = 64
    regularization: float = 0.05
    iterations: int = 20
    alpha: float = 20.0
    seed: int = 0
    threads: int = 0
    name: str = "als"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> ALSRecommender:
        from implicit.cpu.als import AlternatingLeastSquares

        self._n_items = train.shape[1]
        with _one_blas_thread():
            self._model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                iterations=self.iterations,
                alpha=self.alpha,
                random_state=self.seed,
                num_threads=self.threads,
                calculate_training_loss=False,
            )
            self._model.fit(sp.csr_matrix((train > 0).astype(np.float32)), show_progress=False)
        self._factors = np.asarray(self._model.item_factors, dtype=np.float32)
        self._warm = np.flatnonzero(np.asarray((train > 0).sum(axis=0)).ravel() > 0)
        self._index = InnerProductIndex(self._factors[self._warm])  # cold items have no factors to rank by
        return self

    def user_factors(self, history: sp.csr_matrix) -> np.ndarray:
        """Fold-in: the least-squares user vector of each history row given the item factors."""
        history = sp.csr_matrix((history > 0).astype(np.float32))
        if history.shape[0] == 0:
            return np.zeros((0, self._factors.shape[1]), np.float32)
        with _one_blas_thread():
            users = self._model.recalculate_user(np.arange(history.shape[0]), history)
        return np.atleast_2d(np.asarray(users, dtype=np.float32))

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        longest = int(np.diff(sp.csr_matrix(history).indptr).max(initial=0))
        local, scores = self._index.search(self.user_factors(history), k + longest)
        idx = np.where(local >= 0, self._warm[np.maximum(local, 0)], PAD)
        return pad_to(*keep_unseen(idx, scores, history, k), k)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        safe = np.where(candidates >= 0, candidates, 0)
        out = np.einsum("nd,ncd->nc", self.user_factors(history), self._factors[safe])
        return np.where(candidates >= 0, out, -np.inf).astype(np.float32)
