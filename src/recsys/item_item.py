"""Sparse item × item weight matrices: built in bounded blocks of items, scored by sparse products.

Item-based collaborative filtering (item-kNN, RP3beta) scores a playlist as `history @ W` with a sparse
items × items `W` that keeps at most `neighbours` entries per row. Building `W` never holds a dense
items × items matrix: rows are computed for a block of items at a time, and the block is sized from an upper
bound on how many entries its sparse product can have (`max_block_nnz`), so memory stays bounded for
catalogues of 10⁵–10⁶ items.

Items with no training interaction (cold items) have empty rows and columns in `W`: their true score is 0 and
they are only ever recommended through the popularity fill that completes short lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.content import numeric_column
from src.recsys.base import PAD, Recommender, as_history, tie_key
from src.recsys.retrieval import fill_from_order, sparse_top_k


def binarize(matrix: sp.spmatrix) -> sp.csr_matrix:
    """1 where a user holds an item (weights and duplicates are ignored), float32 csr."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.sum_duplicates()
    out.data = (out.data > 0).astype(np.float32)
    out.eliminate_zeros()
    return out


def merge(train: sp.csr_matrix, val: sp.csr_matrix | None) -> sp.csr_matrix:
    """Binary union of train and validation (what a model is refitted on once its settings are chosen)."""
    return binarize(train if val is None else train + val)


def popularity_order(train: sp.csr_matrix, items: pd.DataFrame | None = None) -> np.ndarray:
    """All item indices by training count (desc); ties by catalogue `popularity` (desc), then `tie_key`.

    This is the order short CF lists are completed from; cold items come last.
    """
    counts = np.asarray(binarize(train).sum(axis=0)).ravel()
    n = len(counts)
    tie = np.zeros(n)
    if items is not None and len(items) == n and "popularity" in items.columns:
        tie = np.nan_to_num(numeric_column(items, "popularity"), nan=0.0)
    return np.lexsort((tie_key(np.arange(n)), -tie, -counts)).astype(np.int64)


def item_blocks(bounds: np.ndarray, max_nnz: int) -> Iterator[tuple[int, int]]:
    """Consecutive item ranges [start, end) whose summed nnz `bounds` stay within `max_nnz` (≥ 1 item each)."""
    n = len(bounds)
    cum = np.concatenate([[0], np.cumsum(np.asarray(bounds, dtype=np.float64))])
    start = 0
    while start < n:
        end = int(np.searchsorted(cum, cum[start] + max_nnz, side="right")) - 1
        end = min(max(end, start + 1), n)
        yield start, end
        start = end


def cooccurrence_bounds(x: sp.csr_matrix) -> np.ndarray:
    """Upper bound per item on the nnz of its co-occurrence row: min(items, Σ over its users of their lengths)."""
    user_len = np.diff(x.indptr).astype(np.float64)
    bound = np.asarray(x.T @ user_len).ravel()
    return np.minimum(bound, x.shape[1])


def top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest stored entries of each row (ties: `tie_key` of the column), as csr."""
    m = sp.csr_matrix(m)
    m.sum_duplicates()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((tie_key(m.indices), -m.data, rows))
    rank = np.arange(len(order)) - m.indptr[rows[order]]
    keep = order[rank < k]
    out = sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)
    out.sort_indices()
    return out


def build_rows(
    n_items: int,
    bounds: np.ndarray,
    block_rows: Callable[[int, int], sp.csr_matrix],
    neighbours: int,
    max_block_nnz: int,
) -> sp.csr_matrix:
    """Stack `block_rows(start, end)` (dense-free (end−start) × items blocks) with the diagonal dropped and the
    top-`neighbours` entries per row kept; blocks are cut so each product stays under `max_block_nnz`."""
    parts = []
    for start, end in item_blocks(bounds, max_block_nnz):
        block = sp.csr_matrix(block_rows(start, end))
        rows = np.repeat(np.arange(end - start), np.diff(block.indptr))
        block.data[block.indices == rows + start] = 0.0  # an item is not its own neighbour
        block.eliminate_zeros()
        parts.append(top_k_per_row(block, neighbours).astype(np.float32))
    if not parts:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(parts, format="csr"))


class ItemItemRecommender(Recommender):
    """Shared scoring of the sparse item × item models: `scores = history @ W`.

    Subclasses set `self.W` (items × items csr), `self._order` (popularity order) and `self._n_items` in
    `_fit`. `recommend_batch` ranks the stored (non-zero) scores and completes short lists from the
    popularity order with score 0 — the true score of items that share no neighbour with the history.
    """

    batch_size: int = 1024
    W: sp.csr_matrix
    _order: np.ndarray

    def _scores(self, history: sp.csr_matrix) -> sp.csr_matrix:
        return sp.csr_matrix(history @ self.W)

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        history = as_history(history, self.n_items)
        out_idx, out_val = [], []
        for start in range(0, history.shape[0], self.batch_size):
            rows = history[start : start + self.batch_size]
            idx, val = sparse_top_k(self._scores(rows), rows, k)
            idx, val = fill_from_order(idx, val, rows, self._order, 0.0)
            out_idx.append(idx)
            out_val.append(val)
        if not out_idx:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        return np.vstack(out_idx), np.vstack(out_val).astype(np.float32)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        history = as_history(history, self.n_items)
        candidates = np.asarray(candidates, dtype=np.int64)
        out = np.empty(candidates.shape, dtype=np.float32)
        for start in range(0, history.shape[0], self.batch_size):
            rows = history[start : start + self.batch_size]
            cand = candidates[start : start + rows.shape[0]]
            scores = self._scores(rows)
            r = np.repeat(np.arange(rows.shape[0]), cand.shape[1])
            c = np.where(cand >= 0, cand, 0).ravel()
            vals = np.asarray(scores[r, c]).reshape(cand.shape).astype(np.float32)
            vals[cand == PAD] = -np.inf
            out[start : start + rows.shape[0]] = vals
        return out
