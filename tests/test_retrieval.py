"""Top-k retrieval building blocks (src/models/retrieval.py, src/recsys/retrieval.py): each checked against the
dense brute-force answer it replaces, by property over random inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from src.models.retrieval import (
    PAD,
    InnerProductIndex,
    keep_unseen,
    top_k,
    top_of_candidates,
    union_candidates,
)
from src.recsys.rerank import rank_lookup
from src.recsys.retrieval import dense_top_k, fill_from_order, sparse_lookup, sparse_top_k


def _history(rng: np.random.Generator, n_rows: int, n_items: int, max_len: int) -> sp.csr_matrix:
    rows = [rng.choice(n_items, size=rng.integers(0, max_len + 1), replace=False) for _ in range(n_rows)]
    indptr = np.r_[0, np.cumsum([len(r) for r in rows])]
    indices = np.concatenate(rows) if rows else np.empty(0, np.int64)
    return sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(n_rows, n_items))


def _dense_reference(scores: np.ndarray, history: sp.csr_matrix, k: int) -> list[set[int]]:
    masked = scores.copy()
    masked[history.nonzero()] = -np.inf
    return [set(np.argsort(-row, kind="stable")[:k][np.isfinite(np.sort(-row)[:k])]) for row in masked]


def test_top_k_orders_by_score_then_index():
    idx, vals = top_k(np.array([[0.5, 0.9, 0.5, 0.1]], dtype=np.float32), 3)
    assert idx.tolist() == [[1, 0, 2]]
    np.testing.assert_allclose(vals[0], [0.9, 0.5, 0.5])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(0, 12))
def test_inner_product_index_is_exact_top_k_without_history(seed, k, max_len):
    rng = np.random.default_rng(seed)
    items = rng.normal(size=(60, 8)).astype(np.float32)
    queries = rng.normal(size=(5, 8)).astype(np.float32)
    history = _history(rng, 5, 60, max_len)
    idx, vals = InnerProductIndex(items).top_k(queries, history, k)
    dense = queries @ items.T
    assert idx.shape == (5, k)
    for i in range(5):
        got = idx[i][idx[i] >= 0]
        own = set(history[i].indices.tolist())
        assert not own & set(got.tolist()) and len(set(got.tolist())) == len(got)
        assert len(got) == min(k, 60 - len(own))
        np.testing.assert_allclose(vals[i, : len(got)], dense[i, got], rtol=1e-4, atol=1e-4)
        best = np.sort(np.delete(dense[i], sorted(own)))[::-1][: len(got)]
        np.testing.assert_allclose(np.sort(vals[i, : len(got)])[::-1], best, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        InnerProductIndex(items).score(queries, idx),
        np.where(idx >= 0, dense[np.arange(5)[:, None], idx], -np.inf),
        rtol=1e-4,
        atol=1e-5,
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30))
def test_dense_and_sparse_top_k_match_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    block = rng.random((4, 50)).astype(np.float32)
    history = _history(rng, 4, 50, 8)
    idx, vals = dense_top_k(block, history, k)
    assert [set(r[r >= 0].tolist()) for r in idx] == _dense_reference(block, history, k)
    sparse = sp.csr_matrix(np.where(rng.random((4, 50)) < 0.3, block, 0.0))
    sidx, svals = sparse_top_k(sparse, history, k)
    for i in range(4):
        got = sidx[i][sidx[i] >= 0]
        stored = {c for c in sparse[i].indices.tolist() if c not in set(history[i].indices.tolist())}
        assert set(got.tolist()) <= stored and len(got) == min(k, len(stored))
        assert np.all(np.diff(svals[i, : len(got)]) <= 0)


def test_fill_from_order_skips_history_and_present_items():
    history = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]], dtype=np.float32))
    idx = np.array([[3, PAD, PAD, PAD]])
    out, vals = fill_from_order(
        idx, np.array([[0.5, -np.inf, -np.inf, -np.inf]], np.float32), history, np.arange(6)
    )
    assert out.tolist() == [[3, 1, 2, 4]] and np.isfinite(vals).all()


def test_keep_unseen_drops_history_padding_duplicates():
    history = sp.csr_matrix(np.array([[0, 1, 0, 0, 0]], dtype=np.float32))
    idx, vals = keep_unseen(
        np.array([[1, 3, PAD, 3, 0, 4]]), np.arange(6, 0, -1).astype(np.float32)[None], history, 3
    )
    assert idx.tolist() == [[3, 0, 4]]


def test_union_candidates_and_top_of_candidates():
    history = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=np.float32))
    cand = union_candidates([np.array([[0, 2], [1, PAD]]), [np.array([3, 2]), np.array([4])]], history)
    assert cand.tolist() == [[2, 3], [1, 4]]
    idx, vals = top_of_candidates(cand, np.array([[0.1, 0.9], [0.3, 0.2]], np.float32), 4)
    assert idx.tolist() == [[3, 2, PAD, PAD], [1, 4, PAD, PAD]] and np.isneginf(vals[:, 2:]).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_sparse_lookup_and_rank_lookup_match_dense(seed):
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((3, 20)) < 0.4, rng.random((3, 20)), 0.0).astype(np.float32)
    cols = rng.integers(-1, 20, size=(3, 7))
    expected = np.where(cols >= 0, dense[np.arange(3)[:, None], np.where(cols >= 0, cols, 0)], 0.0)
    np.testing.assert_allclose(sparse_lookup(sp.csr_matrix(dense), cols), expected)
    lists = np.stack([rng.permutation(20)[:6] for _ in range(3)])
    ranks = rank_lookup(lists, cols, missing=99)
    for i in range(3):
        for j, c in enumerate(cols[i]):
            where = np.flatnonzero(lists[i] == c)
            assert ranks[i, j] == (where[0] if len(where) and c >= 0 else 99)


@pytest.mark.parametrize("pooling", ["lse", "mean"])
def test_two_tower_retrieval_scores_exactly_and_finds_the_dense_top_k(pooling):
    from src.models.two_tower import TwoTowerModule

    rng = np.random.default_rng(0)
    module = TwoTowerModule(
        n_items=400, n_id_buckets=8, n_artists=2, n_albums=2, n_tags=1, max_tags=1, n_dense=2, pooling=pooling
    )
    centres = rng.normal(size=(8, 64))
    items = centres[rng.integers(0, 8, 400)] + 0.5 * rng.normal(size=(400, 64))
    items = (items / np.linalg.norm(items, axis=1, keepdims=True)).astype(np.float32)
    history = _history(rng, 12, 400, 15)
    dense = module.score_histories(history, items)
    dense[history.nonzero()] = -np.inf
    idx, vals = module.retrieve(history, 20, items, InnerProductIndex(items))
    for i in range(12):
        got = idx[i][idx[i] >= 0]
        if history[i].nnz == 0:
            continue
        np.testing.assert_allclose(vals[i, : len(got)], dense[i, got], rtol=1e-4, atol=1e-5)
        best = set(np.argsort(-dense[i])[:20].tolist())
        overlap = len(best & set(got.tolist())) / 20
        assert overlap == 1.0 if pooling == "mean" else overlap >= 0.9
