"""Top-k building blocks shared by the recommenders: exclusion of a playlist's own items, FAISS inner-product
search, sparse and dense-block top-k, filling short lists from a global order.

Every function works on one batch of history rows, so the memory a caller needs is bounded by its batch size
times the catalogue's *candidates*, never by playlists × catalogue.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from src.models.retrieval import PAD, top_k, top_k_1d
from src.models.retrieval import InnerProductIndex as InnerProductIndex  # re-exported for the recommenders
from src.models.retrieval import keep_unseen as keep_unseen
from src.models.retrieval import pad_to as pad_to  # re-exported
from src.models.retrieval import top_of_candidates as top_of_candidates  # re-exported
from src.models.retrieval import union_candidates as union_candidates  # re-exported


def dense_top_k(block: np.ndarray, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a dense batch × items score block with each row's history excluded (−inf slots → PAD)."""
    block = np.array(block, dtype=np.float32, copy=True)
    block[sp.csr_matrix(history).nonzero()] = -np.inf
    idx, vals = top_k(block, k)
    idx[~np.isfinite(vals)] = PAD
    return pad_to(idx, vals, k)


def sparse_top_k(scores: sp.csr_matrix, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of the stored entries of each sparse score row, history excluded; short rows padded."""
    scores = sp.csr_matrix(scores)
    out_idx = np.full((scores.shape[0], k), PAD, dtype=np.int64)
    out_val = np.full((scores.shape[0], k), -np.inf, dtype=np.float32)
    history = sp.csr_matrix(history)
    for i in range(scores.shape[0]):
        cols = scores.indices[scores.indptr[i] : scores.indptr[i + 1]]
        vals = scores.data[scores.indptr[i] : scores.indptr[i + 1]].astype(np.float32)
        own = history.indices[history.indptr[i] : history.indptr[i + 1]]
        keep = ~np.isin(cols, own)
        cols, vals = cols[keep], vals[keep]
        order = top_k_1d(vals, cols, k)
        out_idx[i, : len(order)] = cols[order]
        out_val[i, : len(order)] = vals[order]
    return out_idx, out_val


def fill_from_order(
    idx: np.ndarray,
    scores: np.ndarray,
    history: sp.csr_matrix,
    order: np.ndarray,
    order_scores: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill `PAD` slots with the first items of a global `order` (e.g. by popularity) not yet in the row or
    its history; `order_scores` (one per item of `order`, or a constant) are their scores."""
    missing = (idx == PAD).sum(axis=1)
    if not missing.any():
        return idx, scores
    idx, scores = idx.copy(), scores.copy()
    history = sp.csr_matrix(history)
    per_item = np.broadcast_to(np.asarray(order_scores, dtype=np.float32), order.shape)
    for i in np.flatnonzero(missing):
        have = idx[i][idx[i] >= 0]
        own = history.indices[history.indptr[i] : history.indptr[i + 1]]
        take = min(len(order), missing[i] + len(have) + len(own))
        extra = order[:take]
        ok = ~np.isin(extra, have) & ~np.isin(extra, own)
        while ok.sum() < missing[i] and take < len(order):
            take = min(len(order), 2 * take + 1)
            extra = order[:take]
            ok = ~np.isin(extra, have) & ~np.isin(extra, own)
        extra_idx = extra[ok][: missing[i]]
        extra_val = per_item[:take][ok][: missing[i]]
        n_have = len(have)
        idx[i, n_have : n_have + len(extra_idx)] = extra_idx
        scores[i, n_have : n_have + len(extra_idx)] = extra_val
    return idx, scores


def sparse_lookup(matrix: sp.csr_matrix, cols: np.ndarray) -> np.ndarray:
    """`matrix[i, cols[i, j]]` (0 where absent or `cols` < 0) for a csr matrix with one row per row of `cols`,
    by binary search in each row's sorted indices: no dense row is ever built."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    out = np.zeros(cols.shape, dtype=np.float32)
    for i in range(cols.shape[0]):
        idx = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
        if not len(idx):
            continue
        pos = np.searchsorted(idx, cols[i]).clip(max=len(idx) - 1)
        hit = (idx[pos] == cols[i]) & (cols[i] >= 0)
        out[i, hit] = matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]][pos[hit]]
    return out
