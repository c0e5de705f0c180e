"""Collaborative-filtering baselines (item-kNN CF, RP3beta, EASE) and validation-only tuning.

Each model is checked against a dense implementation written straight from its paper's formulas, by properties
(item permutation, neighbour counts, diag(B) = 0), through the recommender interface (history excluded, padding,
`score_items` = `recommend_batch` scores), and the tuning protocol is checked never to see the test part.
The `peer` test compares with an independent library (irspack, the optional `peer` extra).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.interactions import RecData, rec_data
from src.data.split import split_interactions
from src.evaluation.ranking import ranking_metrics, targets_of
from src.recsys import tuning
from src.recsys.base import PAD, Recommender, tie_key
from src.recsys.ease import EASECapError, EASERecommender, ease_primal
from src.recsys.item_item import popularity_order, top_k_per_row
from src.recsys.knn import ItemKNNCFRecommender, cosine_neighbours
from src.recsys.rp3beta import RP3betaRecommender, rp3beta_weights
from src.recsys.tuning import rank, tune


def interactions(n_users: int = 80, n_items: int = 50, seed: int = 0, density: float = 0.15) -> sp.csr_matrix:
    """Binary users × items with 3 taste groups (so co-occurrence carries signal)."""
    rng = np.random.default_rng(seed)
    gu, gi = rng.integers(0, 3, n_users), rng.integers(0, 3, n_items)
    p = np.where(gu[:, None] == gi[None, :], density, density / 5)
    return sp.csr_matrix((rng.random((n_users, n_items)) < p).astype(np.float32))


def catalogue(n_items: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"track_id": [f"t{i:03d}" for i in range(n_items)], "popularity": rng.integers(0, 100, n_items)}
    )


def dense_top_k_rows(w: np.ndarray, k: int) -> np.ndarray:
    """Reference top-k per row (ties: the same fixed `tie_key` order as the models), zeros never kept."""
    out = np.zeros_like(w)
    for i, row in enumerate(w):
        order = np.lexsort((tie_key(np.arange(len(row))), -row))
        keep = [j for j in order[:k] if row[j] != 0]
        out[i, keep] = row[keep]
    return out


def reference_cosine(x: np.ndarray, k: int, shrink: float) -> np.ndarray:
    co = x.T @ x
    norms = np.sqrt(np.diag(co))
    sim = co / (norms[:, None] * norms[None, :] + shrink + (norms[:, None] * norms[None, :] == 0))
    np.fill_diagonal(sim, 0.0)
    return dense_top_k_rows(sim, k)


def reference_rp3beta(x: np.ndarray, alpha: float, beta: float, k: int) -> np.ndarray:
    """Paudel et al. / Dacrema et al.: W = (P_iu^α)(P_ui^α) / pop^β per column, no diagonal, top-k per row."""
    p_ui = x / np.maximum(x.sum(axis=1, keepdims=True), 1)
    p_iu = x.T / np.maximum(x.T.sum(axis=1, keepdims=True), 1)
    w = (p_iu**alpha) @ (p_ui**alpha)
    pop = x.sum(axis=0)
    w = w * np.where(pop > 0, np.power(np.where(pop > 0, pop, 1.0), -beta), 0.0)[None, :]
    np.fill_diagonal(w, 0.0)
    return dense_top_k_rows(w, k)


def reference_ease(x: np.ndarray, lam: float) -> np.ndarray:
    """Steck 2019, as printed in the paper."""
    g = x.T @ x + lam * np.eye(x.shape[1])
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    np.fill_diagonal(b, 0.0)
    return b


# -- the weights against the papers' formulas -------------------------------------------------------------------


@pytest.mark.parametrize("k,shrink", [(3, 0.0), (5, 10.0), (50, 2.0)])
def test_cosine_matches_reference(k, shrink):
    x = interactions()
    w = cosine_neighbours(x, k, shrink, max_block_nnz=200)  # many small blocks
    np.testing.assert_allclose(
        w.toarray(), reference_cosine(x.toarray().astype(np.float64), k, shrink), atol=1e-6
    )


@pytest.mark.parametrize("alpha,beta,k", [(1.0, 0.0, 50), (0.5, 0.6, 4), (1.0, 0.3, 7)])
def test_rp3beta_matches_reference(alpha, beta, k):
    x = interactions(seed=1)
    w = rp3beta_weights(x, alpha, beta, k, max_block_nnz=300)
    ref = reference_rp3beta(x.toarray().astype(np.float64), alpha, beta, k)
    np.testing.assert_allclose(w.toarray(), ref, rtol=1e-5, atol=1e-7)


def test_rp3beta_normalize_rows_sum_to_one():
    w = rp3beta_weights(interactions(seed=2), 1.0, 0.3, 5, normalize=True)
    sums = np.asarray(w.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums[sums > 0], 1.0, rtol=1e-5)


def test_ease_matches_reference_and_dual_equals_primal():
    x = interactions(n_users=20, n_items=40, seed=3, density=0.5)
    assert (np.asarray(x.sum(axis=0)).ravel() > 0).sum() > 30
    np.testing.assert_allclose(
        ease_primal(x, 7.0), reference_ease(x.toarray().astype(np.float64), 7.0), atol=1e-5
    )
    items = catalogue(40)
    primal = EASERecommender(regularization=7.0, solver="primal").fit(x, items)
    dual = EASERecommender(regularization=7.0, max_items=30).fit(x, items)  # auto: 20 users < 40 items
    assert primal.B is not None and dual.B is None and dual._dual is not None
    every = np.tile(np.arange(40), (20, 1))
    np.testing.assert_allclose(dual.score_items(x, every), primal.score_items(x, every), atol=1e-4)


def test_top_k_per_row_keeps_largest_with_low_index_ties():
    m = sp.csr_matrix(
        np.array([[0.5, 0.9, 0.5, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    )
    out = top_k_per_row(m, 2).toarray()
    np.testing.assert_array_equal(out[0], [0.5, 0.9, 0, 0, 0])
    np.testing.assert_array_equal(out[1], 0)
    np.testing.assert_array_equal(out[2], [0, 0, 0, 4.0, 5.0])


# -- properties ----------------------------------------------------------------------------------------------------


matrices = st.builds(
    interactions,
    n_users=st.integers(3, 25),
    n_items=st.integers(2, 30),
    seed=st.integers(0, 10_000),
    density=st.floats(0.05, 0.6),
)


@settings(max_examples=40, deadline=None)
@given(x=matrices, k=st.integers(1, 8), shrink=st.sampled_from([0.0, 1.0, 50.0]))
def test_neighbour_matrices_bounded_and_valid(x, k, shrink):
    for w in (cosine_neighbours(x, k, shrink), rp3beta_weights(x, 0.5, 0.5, k)):
        assert np.diff(w.indptr).max(initial=0) <= k
        assert (w.data > 0).all()
        assert not w.diagonal().any()
        cold = np.asarray(x.sum(axis=0)).ravel() == 0
        assert not w[cold].nnz and not w[:, cold].nnz  # cold items have no neighbours either way
    plain, shrunk = cosine_neighbours(x, x.shape[1], 0.0), cosine_neighbours(x, x.shape[1], shrink)
    assert (shrunk.toarray() <= plain.toarray() + 1e-7).all()  # shrinkage only lowers similarities


@settings(max_examples=25, deadline=None)
@given(x=matrices, seed=st.integers(0, 1000))
def test_scores_follow_an_item_permutation(x, seed):
    """Relabelling the items relabels the scores (no truncation, so ties cannot pick differently)."""
    n = x.shape[1]
    perm = np.random.default_rng(seed).permutation(n)
    xp = sp.csr_matrix(x[:, perm])
    every = np.tile(np.arange(n), (x.shape[0], 1))
    for make in (
        lambda: ItemKNNCFRecommender(neighbours=n, shrink=3.0),
        lambda: RP3betaRecommender(neighbours=n, alpha=0.7, beta=0.4),
        lambda: EASERecommender(regularization=5.0),
    ):
        a = make().fit(x, catalogue(n)).score_items(x, every)
        b = make().fit(xp, catalogue(n)).score_items(xp, every)
        np.testing.assert_allclose(b, a[:, perm], rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(x=matrices, lam=st.floats(0.5, 500))
def test_ease_zero_diagonal(x, lam):
    b = ease_primal(x, lam)
    assert np.all(np.diag(b) == 0) and np.isfinite(b).all()


# -- the recommender interface ---------------------------------------------------------------------------------


def models() -> list[Recommender]:
    return [
        ItemKNNCFRecommender(neighbours=4, shrink=5.0, batch_size=7),
        RP3betaRecommender(neighbours=4, alpha=0.5, beta=0.5, batch_size=7),
        EASERecommender(regularization=5.0, batch_size=7),  # 12 users < 22 items: dual
        EASERecommender(
            regularization=5.0, solver="primal", batch_size=7, max_block_floats=30
        ),  # 1 row a block
        EASERecommender(regularization=5.0, max_items=10, batch_size=7),  # 12 users > 10: capped primal
    ]


@pytest.mark.parametrize(
    "model", models(), ids=lambda m: f"{m.name}-{getattr(m, 'solver', '')}-{getattr(m, 'max_items', '')}"
)
def test_recommend_batch_excludes_history_pads_and_agrees_with_score_items(model):
    n_items = 25
    x = interactions(n_users=12, n_items=n_items, seed=5, density=0.3)
    x = sp.csr_matrix(x.toarray() * (np.arange(n_items) < 22))  # items 22-24 are cold
    model.fit(x, catalogue(n_items))
    k = n_items + 3  # longer than any answer can be
    idx, val = model.recommend_batch(x, k)
    assert idx.shape == val.shape == (12, k) and idx.dtype == np.int64 and val.dtype == np.float32
    for i in range(12):
        own = set(x[i].indices)
        filled = idx[i][idx[i] != PAD]
        assert not own & set(filled)
        assert len(set(filled)) == len(filled) == n_items - len(own)  # everything else, once
        assert (idx[i][len(filled) :] == PAD).all() and np.isneginf(val[i][len(filled) :]).all()
        assert (np.diff(val[i][: len(filled)]) <= 1e-6).all()  # best first
        cold_pos = [p for p, j in enumerate(filled) if j >= 22]
        assert all(val[i][p] == 0 for p in cold_pos)  # cold items only through the fill, at score 0
    np.testing.assert_allclose(model.score_items(x, idx), val, rtol=1e-5, atol=1e-6)


def test_one_playlist_history_and_new_playlists():
    x = interactions(seed=6)
    model = ItemKNNCFRecommender(neighbours=10).fit(x, catalogue(50))
    idx, _ = model.recommend([3, 7], k=5)
    assert idx.shape == (1, 5) and not {3, 7} & set(idx[0])
    empty = sp.csr_matrix((2, 50), dtype=np.float32)
    idx, val = model.recommend_batch(empty, 4)  # nothing known: popularity order, score 0
    np.testing.assert_array_equal(idx[0], popularity_order(x, catalogue(50))[:4])
    assert (val == 0).all()


@pytest.mark.parametrize("model", models(), ids=lambda m: m.name)
def test_no_training_interactions_leaves_the_popularity_order(model):
    empty = sp.csr_matrix((4, 9), dtype=np.float32)
    model.fit(empty, catalogue(9))
    idx, val = model.recommend_batch(sp.csr_matrix(np.eye(4, 9, dtype=np.float32)), 3)
    order = popularity_order(empty, catalogue(9))
    assert (val == 0).all() and all(list(idx[i]) == [j for j in order if j != i][:3] for i in range(4))


def test_ease_cap_strict_raises_and_lenient_logs(caplog):
    x = interactions(n_users=60, n_items=40, seed=7, density=0.3)
    with pytest.raises(EASECapError, match=r"max_items=20.*min_count"):
        EASERecommender(max_items=20, strict=True).fit(x, catalogue(40))
    with pytest.raises(EASECapError, match=r"solver=dual.*max_items=20"):
        EASERecommender(max_items=20, solver="dual").fit(x, catalogue(40))
    with caplog.at_level(logging.WARNING, logger="src.recsys.ease"):
        model = EASERecommender(max_items=20).fit(x, catalogue(40))
    assert "keeping the 20 most popular" in caplog.text and "max_items=20" in caplog.text
    counts = np.asarray(x.sum(axis=0)).ravel()
    assert len(model.kept) == 20 and counts[model.kept].min() >= np.sort(counts)[::-1][19]
    assert (
        EASERecommender(max_items=20, min_count=int(np.sort(counts)[::-1][15])).fit(x, catalogue(40)).B
        is not None
    )


# -- tuning: validation only ---------------------------------------------------------------------------------------


def split_data(seed: int = 0) -> RecData:
    x = interactions(n_users=60, n_items=40, seed=seed, density=0.3)
    users, items = x.nonzero()
    frame = pd.DataFrame({"user_id": [f"u{u:03d}" for u in users], "track_id": [f"t{i:03d}" for i in items]})
    return rec_data(catalogue(40), split_interactions(frame, seed=seed))


class Spy(ItemKNNCFRecommender):
    """Records every matrix it is shown."""

    seen: list[sp.csr_matrix] = []

    def _fit(self, train, items):
        Spy.seen.append(sp.csr_matrix(train))
        return super()._fit(train, items)

    def recommend_batch(self, history, k):
        Spy.seen.append(sp.csr_matrix(history))
        return super().recommend_batch(history, k)


def test_tuning_never_reads_test(monkeypatch):
    data = split_data()
    Spy.seen = []
    given_to_tune = []
    real_tune = tuning.tune

    def recording_tune(make, grid, train, items, val, **kwargs):
        given_to_tune.append((train, val))
        return real_tune(make, grid, train, items, val, **kwargs)

    monkeypatch.setattr(tuning, "tune", recording_tune)
    model = Spy(grid={"neighbours": [2, 20], "shrink": [0.0, 10.0]})
    assert model.uses_validation
    model.fit(data.train, data.items, val=data.val)  # what the evaluator passes for uses_validation
    [(train, val)] = given_to_tune
    assert (train != data.train).nnz == 0 and (val != data.val).nnz == 0
    fits = [m for m in Spy.seen if m.shape == data.train.shape]
    contexts = [m for m in Spy.seen if m.shape != data.train.shape]
    assert len(fits) == 5 and contexts  # 4 grid points + the refit; their validation rankings
    assert all((f != data.train).nnz == 0 for f in fits[:4])  # grid points: train only
    assert (fits[-1] != data.known).nnz == 0  # refit on train ∪ validation
    train_rows = {tuple(data.train[u].indices) for u in range(data.train.shape[0])}
    for context in contexts:  # every ranked history is some playlist's train part, never more
        context.sort_indices()
        assert all(tuple(context[i].indices) in train_rows for i in range(context.shape[0]))
    assert model.best_params is not None and set(model.best_params) == {"neighbours", "shrink"}
    assert len(model.tuning_table) == 4 and "val_recall@100" in model.tuning_table


def test_tune_picks_the_best_validation_point():
    data = split_data(seed=1)
    best, table = tune(
        lambda p: EASERecommender(**p),
        {"regularization": [1.0, 30.0, 3000.0]},
        data.train,
        data.items,
        data.val,
        metric="ndcg@20",
    )
    assert list(table["regularization"]) == [1.0, 30.0, 3000.0]
    assert best["regularization"] == table["regularization"][table["val_ndcg@20"].idxmax()]
    with pytest.raises(ValueError, match="recall@K or ndcg@K"):
        tune(
            lambda p: EASERecommender(**p), {"regularization": [1.0]}, data.train, data.items, data.val, "mrr"
        )


def test_rank_recall_matches_ranking_metrics():
    data = split_data(seed=2)
    model = RP3betaRecommender(neighbours=10).fit(data.known, data.items)
    users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    ranked = rank(model, data.known[users], 10, batch_size=5)
    assert ranked.shape == (len(users), 10)
    m = ranking_metrics(ranked, targets_of(data.test, users), ks=(10,), ndcg_k=10)
    assert 0 < m["recall@10"] <= 1


# -- peer library ----------------------------------------------------------------------------------------------


def _recall(model_scores: np.ndarray, history: sp.csr_matrix, targets: sp.csr_matrix, k: int) -> float:
    scores = np.array(model_scores, dtype=np.float64)
    scores[history.nonzero()] = -np.inf
    users = np.flatnonzero(np.diff(targets.indptr) > 0)
    ranked = np.argsort(-scores[users], axis=1, kind="stable")[:, :k]
    return ranking_metrics(ranked, targets_of(targets, users), ks=(k,), ndcg_k=k)[f"recall@{k}"]


@pytest.mark.peer
def test_same_recall_as_irspack():
    """irspack (a maintained C++/Python recommender library) on the same fixed split, same settings.

    Its RP3beta raises the raw weights to α before normalising (a no-op on binary data), so the comparison
    uses α = 1; α ≠ 1 is covered by the dense reference above. Its item-kNN keeps top_k per row *including*
    the item itself and drops the diagonal afterwards, hence top_k = neighbours + 1. Neighbour lists are not
    truncated here: on small integer co-occurrences many similarities tie, and the two libraries order ties
    differently (irspack by column, ours by a fixed hash so that the catalogue order cannot leak); truncation is
    covered by the dense references above.
    """
    irspack = pytest.importorskip("irspack")
    data = split_data(seed=3)
    known, test = data.known, data.test
    pairs = [
        (
            ItemKNNCFRecommender(neighbours=known.shape[1], shrink=10.0),
            irspack.CosineKNNRecommender(
                known, shrinkage=10.0, normalize=True, top_k=known.shape[1] + 1, n_threads=1
            ),
        ),
        (
            RP3betaRecommender(neighbours=known.shape[1], alpha=1.0, beta=0.3),
            irspack.RP3betaRecommender(known, alpha=1.0, beta=0.3, top_k=None, n_threads=1),
        ),
        (EASERecommender(regularization=20.0), irspack.DenseSLIMRecommender(known, reg=20.0)),
    ]
    every = np.tile(np.arange(known.shape[1]), (known.shape[0], 1))
    for ours, peer in pairs:
        ours.fit(known, data.items)
        peer.learn()
        mine = _recall(ours.score_items(known, every), known, test, 10)
        theirs = _recall(peer.get_score_cold_user(known), known, test, 10)
        assert abs(mine - theirs) <= 0.01, (ours.name, mine, theirs)
