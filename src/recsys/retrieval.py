"""Top-k building blocks shared by the recommenders: exclusion of a playlist's own items, FAISS inner-product
search, sparse and dense-block top-k, filling short lists from a global order.

Every function works on one batch of history rows, so the memory a caller needs is bounded by its batch size
times the catalogue's *candidates*, never by playlists × catalogue.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from src.recsys.base import PAD, top_k


def _seen_mask(history: sp.csr_matrix, idx: np.ndarray) -> np.ndarray:
    """True where `idx[i, j]` is one of row i's history items (binary search in the sorted csr indices)."""
    history = sp.csr_matrix(history)
    history.sort_indices()
    mask = np.zeros(idx.shape, dtype=bool)
    for i in range(idx.shape[0]):
        own = history.indices[history.indptr[i] : history.indptr[i + 1]]
        if len(own):
            pos = np.searchsorted(own, idx[i]).clip(max=len(own) - 1)
            mask[i] = own[pos] == idx[i]
    return mask


def keep_unseen(
    idx: np.ndarray, scores: np.ndarray, history: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """From ranked candidate lists (n × m, best first) drop history items, padding and duplicates; keep k."""
    drop = (idx < 0) | _seen_mask(history, np.where(idx < 0, 0, idx)) | ~np.isfinite(scores)
    out_idx = np.full((idx.shape[0], k), PAD, dtype=np.int64)
    out_val = np.full((idx.shape[0], k), -np.inf, dtype=np.float32)
    for i in range(idx.shape[0]):
        row = idx[i][~drop[i]]
        vals = scores[i][~drop[i]]
        _, first = np.unique(row, return_index=True)
        first.sort()
        row, vals = row[first][:k], vals[first][:k]
        out_idx[i, : len(row)] = row
        out_val[i, : len(row)] = vals
    return out_idx, out_val


def dense_top_k(block: np.ndarray, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a dense batch × items score block with each row's history excluded (−inf slots → PAD)."""
    block = np.array(block, dtype=np.float32, copy=True)
    block[sp.csr_matrix(history).nonzero()] = -np.inf
    idx, vals = top_k(block, k)
    idx[~np.isfinite(vals)] = PAD
    return _pad(idx, vals, k)


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
        if len(cols) > k:
            part = np.argpartition(-vals, k - 1)[:k]
            cols, vals = cols[part], vals[part]
        order = np.lexsort((cols, -vals))
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
    k = idx.shape[1]
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


class InnerProductIndex:
    """Exact top-k by inner product over item vectors (FAISS `IndexFlatIP`), history excluded.

    Searching k + (longest history in the batch) and dropping history items gives the exact top-k without
    ever holding a batch × catalogue block beyond FAISS's own tiled search.
    """

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexFlatIP(self.vectors.shape[1])
        self.index.add(self.vectors)

    @property
    def n_items(self) -> int:
        return self.vectors.shape[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw FAISS search: (indices, scores) n × min(k, n_items), PAD / -inf for empty slots."""
        k = min(k, self.n_items)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) == 0 or k == 0:
            return np.empty((len(queries), k), np.int64), np.empty((len(queries), k), np.float32)
        scores, idx = self.index.search(queries, k)
        scores[idx < 0] = -np.inf
        return idx.astype(np.int64), scores

    def top_k(self, queries: np.ndarray, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per query row, excluding that row's history items."""
        longest = int(np.diff(sp.csr_matrix(history).indptr).max(initial=0))
        idx, scores = self.search(queries, k + longest)
        return _pad(*keep_unseen(idx, scores, history, k), k)

    def score(self, queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Inner products of each query with its own candidate items (`PAD` → -inf)."""
        safe = np.where(candidates >= 0, candidates, 0)
        out = np.einsum("nd,ncd->nc", queries.astype(np.float32), self.vectors[safe])
        out[candidates < 0] = -np.inf
        return out.astype(np.float32)


def _pad(idx: np.ndarray, vals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Widen to exactly k columns with PAD / -inf (a catalogue smaller than k gives shorter answers)."""
    if idx.shape[1] >= k:
        return idx[:, :k], vals[:, :k].astype(np.float32)
    extra = k - idx.shape[1]
    return (
        np.hstack([idx, np.full((len(idx), extra), PAD, dtype=np.int64)]),
        np.hstack([vals.astype(np.float32), np.full((len(vals), extra), -np.inf, dtype=np.float32)]),
    )
