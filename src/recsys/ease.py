"""EASE (Steck, WWW 2019): a linear item-to-item autoencoder with a closed form, a baseline deep models rarely beat.

Over the m items seen ≥ `min_count` times in train: G = XᵀX + λI, P = G⁻¹, B = I − P · diag(P)⁻¹ (so diag(B) = 0,
an item never predicts itself), and a playlist scores `history @ B`. Two exact ways to get there
(`solver="auto"` takes the one over the smaller side):

* primal, when items ≤ users: the dense m × m solve above. Peak memory ≈ 12 · m² bytes (G and its inverse in
  float64, B kept in float32): 20 000 items ≈ 4.8 GB, 10 000 ≈ 1.2 GB. Time ∝ m³.
* dual, when users < items: the same scores through the Woodbury identity P = (I − Xᵀ (λI + XXᵀ)⁻¹ X) / λ,
  never forming an m × m matrix (memory ≈ 8 · users² bytes + a batch × m block; time ∝ users³). The usual case
  for playlist collections smaller than their catalogue.

The dense side is capped at `max_items`: if it is larger, the `max_items` most popular items are kept (primal)
and a warning is logged, or `strict=True` raises `EASECapError` instead. Items outside the model get no CF score.

Items outside the model — cold items, items below `min_count`, items beyond the cap — score 0 ("no evidence")
and are only recommended through the popularity fill, after every positively scored item.

λ is in units of co-occurrence counts (the diagonal of XᵀX is each item's count): Steck used 200–1000 for
data sets with 10⁵ users; collections where items occur a handful of times want λ in the tens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp

from src.recsys.base import PAD, Recommender, as_history, tie_key, top_k
from src.recsys.item_item import binarize, popularity_order
from src.recsys.retrieval import fill_from_order
from src.recsys.tuning import GridTuned

log = logging.getLogger(__name__)


class EASECapError(ValueError):
    """More items pass `min_count` than `max_items` allows and `strict` is set."""


def ease_primal(x: sp.csr_matrix, regularization: float) -> np.ndarray:
    """Dense B (m × m float32, zero diagonal) of binary `x` (users × m) by inverting XᵀX + λI."""
    if x.shape[1] == 0:
        return np.zeros((0, 0), dtype=np.float32)
    gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += regularization
    p = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
    del gram
    b = p / -np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


@dataclass
class _Dual:
    """EASE through Woodbury: scores = h − (h − ((h Xᵀ) K⁻¹) X) / e, K = λI + XXᵀ, e_j = 1 − x_jᵀ K⁻¹ x_j."""

    x: sp.csr_matrix  # users × m, binary
    k_inv: np.ndarray  # users × users
    e: np.ndarray  # m

    @classmethod
    def fit(cls, x: sp.csr_matrix, regularization: float, block: int = 4096) -> _Dual:
        x = sp.csr_matrix(x, dtype=np.float64)
        k = np.asarray((x @ x.T).toarray(), dtype=np.float64)
        k[np.diag_indices_from(k)] += regularization
        k_inv = scipy.linalg.inv(k, overwrite_a=True, check_finite=False)
        xc = sp.csc_matrix(x)
        e = np.empty(x.shape[1])
        for start in range(0, x.shape[1], block):
            cols = xc[:, start : start + block]
            e[start : start + cols.shape[1]] = (
                1.0 - np.asarray(cols.multiply(k_inv @ cols).sum(axis=0)).ravel()
            )
        return cls(sp.csr_matrix(x, dtype=np.float32), k_inv, e)

    def scores(self, h: sp.csr_matrix) -> np.ndarray:
        h = sp.csr_matrix(h, dtype=np.float64)
        a = np.asarray((h @ self.x.T).toarray(), dtype=np.float64) @ self.k_inv  # n × users
        dense = h.toarray()
        hp = dense - np.asarray(self.x.T @ a.T).T  # λ · (h P), n × m
        return (dense - hp / self.e[None, :]).astype(np.float32)


@dataclass
class EASERecommender(GridTuned, Recommender):
    """EASE with a memory cap.

    Args:
        regularization: λ added to the diagonal of XᵀX.
        min_count: items seen fewer times in train are left out of the model (score 0).
        max_items: largest dense side allowed (m × m primal, users × users dual; bytes in the module doc); beyond
            it the most popular `max_items` items are kept.
        strict: raise `EASECapError` instead of dropping items beyond the cap.
        solver: "auto" (dual when users < items), "primal" or "dual".
        grid: e.g. {"regularization": [50, 200, 500, 2000]} — chosen on validation, then refitted on
            train ∪ validation (see `src.recsys.tuning`). None: use the settings above as given.
        tune_metric: the validation metric the grid maximises.
        batch_size: most history rows per dense scoring block.
        max_block_floats: bound on a scoring block (rows × m); rows shrink below `batch_size` to stay under it
            (the dual form holds two such blocks in float64: 5·10⁷ ≈ 0.8 GB).
    """

    regularization: float = 200.0
    min_count: int = 1
    max_items: int = 20_000
    strict: bool = False
    solver: str = "auto"
    grid: dict[str, list] | None = None
    tune_metric: str = "recall@100"
    batch_size: int = 1024
    max_block_floats: int = 50_000_000
    name: str = "ease"
    best_params: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    tuning_table: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def _kept_items(self, counts: np.ndarray) -> np.ndarray:
        """Items the model covers (sorted indices), applying `min_count` and, when needed, the cap."""
        kept = np.flatnonzero(counts >= max(self.min_count, 1))
        if len(kept) <= self.max_items:
            return kept
        size = _gigabytes(12 * self.max_items**2)
        if self.strict:
            raise EASECapError(
                f"EASE: {len(kept):,} items are seen ≥ {self.min_count} times in train, above the cap "
                f"max_items={self.max_items:,} (≈ {size} for the dense item × item solve; the users × users dual "
                f"form does not apply to {self._n_users:,} users with solver={self.solver}). Raise max_items "
                "(memory grows as 12 · max_items² bytes), raise min_count, or set strict=false to keep only the "
                "most popular max_items items."
            )
        order = kept[np.lexsort((tie_key(kept), -counts[kept]))][: self.max_items]
        log.warning(
            "EASE: %d items are seen ≥ %d times but max_items=%d (≈ %s; the dual form does not apply to %d "
            "users): keeping the %d most popular; the other %d get no CF score (popularity fill only). "
            "Raise max_items or min_count to change this, or strict=true to make it an error.",
            len(kept),
            self.min_count,
            self.max_items,
            size,
            self._n_users,
            self.max_items,
            len(kept) - self.max_items,
        )
        return np.sort(order)

    def _fit(self, train: sp.csr_matrix, items: pd.DataFrame) -> EASERecommender:
        x = binarize(train)
        self._n_items, self._n_users = x.shape[1], x.shape[0]
        counts = np.asarray(x.sum(axis=0)).ravel()
        kept = np.flatnonzero(counts >= max(self.min_count, 1))
        if self.solver not in ("auto", "primal", "dual"):
            raise ValueError(f"EASE solver {self.solver!r}: expected auto, primal or dual")
        if self.solver == "dual" and x.shape[0] > self.max_items:
            raise EASECapError(
                f"EASE solver=dual: {x.shape[0]:,} users exceed max_items={self.max_items:,} (the dual form holds a "
                "users × users matrix); raise max_items or use solver=auto/primal"
            )
        few_users = x.shape[0] < len(kept) and x.shape[0] <= self.max_items
        use_dual = self.solver == "dual" or (self.solver == "auto" and few_users)
        if not use_dual:
            kept = self._kept_items(counts)
        self.kept = kept
        xk = sp.csr_matrix(x[:, kept])
        if use_dual:
            log.info("EASE: dual (Woodbury) form, %d users < %d items", x.shape[0], len(kept))
            self.B, self._dual = None, _Dual.fit(xk, float(self.regularization))
        else:
            self.B, self._dual = ease_primal(xk, float(self.regularization)), None
        outside = np.ones(self._n_items, dtype=bool)
        outside[kept] = False
        order = popularity_order(train, items)
        self._fill_order = order[outside[order]]
        return self

    def _rows_per_block(self) -> int:
        return max(1, min(self.batch_size, self.max_block_floats // max(len(self.kept), 1)))

    def _block(self, history: sp.csr_matrix) -> np.ndarray:
        """Dense scores (n × kept items) of a batch of binary history rows."""
        h = sp.csr_matrix(history[:, self.kept])
        if self._dual is not None:
            return self._dual.scores(h)
        return np.asarray(h @ self.B, dtype=np.float32)

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        history = as_history(history, self.n_items)
        out_idx, out_val = [], []
        step = self._rows_per_block()
        for start in range(0, history.shape[0], step):
            rows = history[start : start + step]
            block = self._block(rows)
            block[sp.csr_matrix(rows[:, self.kept]).nonzero()] = -np.inf
            local, vals = top_k(block, k)
            idx = np.where(np.isfinite(vals), self.kept[local], PAD).astype(np.int64)
            vals = np.where(np.isfinite(vals), vals, -np.inf).astype(np.float32)
            idx, vals = _widen(idx, vals, k)
            out = _merge_zero_scored(idx, vals, rows, self._fill_order)
            out_idx.append(out[0])
            out_val.append(out[1])
        if not out_idx:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        return np.vstack(out_idx), np.vstack(out_val)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        history = as_history(history, self.n_items)
        candidates = np.asarray(candidates, dtype=np.int64)
        position = np.full(self.n_items, -1, dtype=np.int64)
        position[self.kept] = np.arange(len(self.kept))
        out = np.empty(candidates.shape, dtype=np.float32)
        step = self._rows_per_block()
        for start in range(0, history.shape[0], step):
            rows = history[start : start + step]
            cand = candidates[start : start + rows.shape[0]]
            block = self._block(rows)
            local = position[np.where(cand >= 0, cand, 0)]
            vals = np.take_along_axis(block, np.where(local >= 0, local, 0), axis=1) if block.size else 0.0
            vals = np.where(local >= 0, vals, 0.0).astype(np.float32)
            vals[cand == PAD] = -np.inf
            out[start : start + rows.shape[0]] = vals
        return out


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.1f} MB"


def _widen(idx: np.ndarray, vals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exactly k columns (PAD / -inf on the right)."""
    if idx.shape[1] >= k:
        return idx[:, :k], vals[:, :k]
    pad = k - idx.shape[1]
    return (
        np.hstack([idx, np.full((len(idx), pad), PAD, dtype=np.int64)]),
        np.hstack([vals, np.full((len(vals), pad), -np.inf, dtype=np.float32)]),
    )


def _merge_zero_scored(
    idx: np.ndarray, vals: np.ndarray, history: sp.csr_matrix, fill_order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Insert the items outside the model (score 0, in popularity order) after the positively scored ones and
    before the negatively scored ones, keeping k per row."""
    if len(fill_order) == 0:
        return idx, vals
    positive = (vals > 0) & (idx != PAD)
    head_idx = np.where(positive, idx, PAD)
    head_val = np.where(positive, vals, -np.inf).astype(np.float32)
    filled_idx, filled_val = fill_from_order(head_idx, head_val, history, fill_order, 0.0)
    out_idx, out_val = filled_idx.copy(), filled_val.copy()
    for i in np.flatnonzero((filled_idx == PAD).any(axis=1)):
        rest = idx[i][~positive[i] & (idx[i] != PAD)]
        rest_val = vals[i][~positive[i] & (idx[i] != PAD)]
        free = np.flatnonzero(filled_idx[i] == PAD)[: len(rest)]
        out_idx[i, free] = rest[: len(free)]
        out_val[i, free] = rest_val[: len(free)]
    return out_idx, out_val
