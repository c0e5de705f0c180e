"""Recommender interface, baselines and the docs/evaluation.md evaluator (metrics checked by hand and by property)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import synthetic_tracks
from src.data.errors import DataError
from src.data.interactions import rec_data
from src.data.sources import CsvSource
from src.data.split import cold_tracks, split_interactions
from src.evaluation.ranking import ranking_metrics
from src.recsys import (
    ALSRecommender,
    HeuristicRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RandomRecommender,
)
from src.recsys.base import as_history, top_k
from src.recsys.evaluate import evaluate_ranking, evaluate_recommender


def test_ranking_metrics_by_hand():
    ranked = np.array([[5, 1, 7, 2, 9, 3]])
    m = ranking_metrics(ranked, [np.array([1, 3, 8])], ks=(1, 2, 6), ndcg_k=6)
    assert (
        m["recall@1"] == 0 and m["recall@2"] == pytest.approx(1 / 3) and m["recall@6"] == pytest.approx(2 / 3)
    )
    assert m["r_precision"] == pytest.approx(1 / 3)  # top-3 holds one of the 3 test tracks
    dcg = 1 / np.log2(3) + 1 / np.log2(7)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert m["ndcg@6"] == pytest.approx(dcg / ideal)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12))
def test_ranking_metrics_properties(seed, n_rel):
    rng = np.random.default_rng(seed)
    ranked = np.stack([rng.permutation(60)[:40] for _ in range(3)])
    relevant = [rng.choice(60, size=n_rel, replace=False) for _ in range(3)]
    m = ranking_metrics(ranked, relevant, ks=(5, 10, 40), ndcg_k=40)
    assert 0 <= m["recall@5"] <= m["recall@10"] <= m["recall@40"] <= 1
    assert 0 <= m["ndcg@40"] <= 1 and 0 <= m["r_precision"] <= 1
    perfect = ranking_metrics(
        np.stack([np.r_[r, np.setdiff1d(np.arange(60), r)][:40] for r in relevant]),
        relevant,
        ks=(40,),
        ndcg_k=40,
    )
    assert perfect["ndcg@40"] == pytest.approx(1.0) and perfect["r_precision"] == pytest.approx(1.0)


def test_top_k_and_history():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]], dtype=np.float32)
    idx, vals = top_k(scores, 3)
    assert idx.tolist() == [[1, 3, 2]] and vals[0, 0] == pytest.approx(0.9)
    h = as_history([2, 0, 2], 4)
    assert h.shape == (1, 4) and h.toarray().tolist() == [[1, 0, 1, 0]]


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("rs") / "tracks.csv"
    frame = synthetic_tracks(n=400)
    # style-pure playlists (4 per style) so that content can place cold tracks
    frame["playlist_id"] = frame["playlist_genre"] + "-" + (frame.index % 4).astype(str)
    frame.to_csv(path, index=False)
    catalog = CsvSource(path=str(path), user_column="playlist_id").load()
    split = split_interactions(catalog.interactions, seed=0)
    return catalog, split, rec_data(catalog.tracks, split)


def test_rec_data_matches_split(synthetic_data):
    catalog, split, data = synthetic_data
    assert data.train.nnz + data.val.nnz + data.test.nnz == len(split)
    cold_ids = set(catalog.tracks["track_id"].to_numpy()[data.cold_items() & (data.test.sum(0).A1 > 0)])
    known = set(split.loc[split["part"] != "test", "track_id"])
    assert cold_ids == set(split.loc[split["part"] == "test", "track_id"]) - known
    assert cold_ids <= cold_tracks(split)
    with pytest.raises(DataError, match="missing from the catalogue"):
        rec_data(catalog.tracks.iloc[5:], split)


@pytest.mark.parametrize(
    "model",
    [
        RandomRecommender(),
        PopularityRecommender(),
        ALSRecommender(factors=8, iterations=3),
        ItemKNNRecommender(),
        HeuristicRecommender(),
    ],
    ids=lambda m: m.name,
)
def test_every_model_runs_through_the_evaluator(synthetic_data, model):
    _, _, data = synthetic_data
    metrics = evaluate_recommender(model, data)
    for name in ("recall@10", "recall@50", "recall@100", "recall@500", "r_precision", "ndcg@500"):
        assert 0 <= metrics[name] <= 1 and 0 <= metrics[f"{name}_cold"] <= 1
    idx, scores = model.recommend(data.known[:2], k=5)
    assert idx.shape == (2, 5) and not (data.known[:2].toarray()[np.arange(2)[:, None], idx] > 0).any()
    sim, _ = model.similar_items(3, k=4)
    assert 3 not in sim[0] and len(sim[0]) == 4


def test_collaborative_models_cannot_reach_cold_tracks_content_models_can(synthetic_data):
    _, _, data = synthetic_data
    assert evaluate_recommender(PopularityRecommender(), data)["recall@50_cold"] == 0
    assert evaluate_recommender(ALSRecommender(factors=8, iterations=3), data)["recall@50_cold"] == 0
    knn = evaluate_recommender(ItemKNNRecommender(), data)["recall@100_cold"]
    rand = evaluate_recommender(RandomRecommender(), data)["recall@100_cold"]
    assert knn > rand  # audio styles separate the synthetic playlists


def test_heuristic_prefers_same_artist_and_album():
    items = pd.DataFrame(
        {
            "track_id": list("abcd"),
            "artist": ["x", "x", "y", "y"],
            "album": ["p", "q", "r", "r"],
            "release_year": [2000, 2001, 2000, 2001],
            "popularity": [1, 1, 1, 1],
            "energy": [0.1, 0.9, 0.1, 0.9],
        }
    )
    model = HeuristicRecommender().fit(sp.csr_matrix((1, 4)), items)
    idx, _ = model.recommend([0], k=3)
    assert idx[0, 0] == 1  # same artist beats same audio
    idx, _ = model.recommend([2], k=3)
    assert idx[0, 0] == 3  # same artist and album


def test_evaluate_ranking_on_validation_uses_train_context(synthetic_data):
    _, _, data = synthetic_data
    model = HeuristicRecommender().fit(data.train, data.items)
    metrics = evaluate_ranking(model, data.train, data.val, data.cold_items(data.train))
    assert 0 < metrics["recall@100"] <= 1


EXACT = {  # models whose top-k is exact: its scores must equal score_items on the same items
    "popularity": lambda: PopularityRecommender(),
    "als": lambda: ALSRecommender(factors=8, iterations=3),
    "item_knn": lambda: ItemKNNRecommender(),
    "heuristic": lambda: HeuristicRecommender(),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_top_k_answers_are_ranked_unseen_unique_and_match_candidate_scores(synthetic_data, name):
    _, _, data = synthetic_data
    model = EXACT[name]().fit(data.train, data.items)
    history = data.train
    n = history.shape[0]
    idx, scores = model.recommend_batch(history, 30)
    assert idx.shape == (n, 30) and scores.dtype == np.float32
    for i in range(n):
        row = idx[i][idx[i] >= 0]
        assert len(set(row.tolist())) == len(row) and not set(row.tolist()) & set(history[i].indices.tolist())
        assert np.all(np.diff(scores[i][idx[i] >= 0]) <= 1e-6)
    np.testing.assert_allclose(model.score_items(history, idx), scores, rtol=1e-4, atol=1e-5)


def test_heuristic_top_k_equals_its_dense_ranking_where_scores_are_distinct(synthetic_data):
    """The heuristic ranks candidates only; every track with an artist/album share is among them, so its
    top 10 (all sharing an artist on these playlists) is the dense ranking's top 10."""
    _, _, data = synthetic_data
    model = HeuristicRecommender().fit(data.train, data.items)
    history = data.train[:10]
    every = np.tile(np.arange(data.n_items), (10, 1))
    dense = model.score_items(history, every)
    dense[history.nonzero()] = -np.inf
    idx, _ = model.recommend_batch(history, 10)
    for i in range(10):
        np.testing.assert_allclose(np.sort(dense[i])[::-1][:10], np.sort(dense[i, idx[i]])[::-1], rtol=1e-5)


def test_reranker_learns_on_validation_and_round_trips_through_a_file(synthetic_data, tmp_path):
    import joblib

    from src.recsys.rerank import RerankedRecommender

    _, _, data = synthetic_data
    model = RerankedRecommender(
        {"pop": PopularityRecommender(), "heuristic": HeuristicRecommender()}, n_candidates=40, max_iter=30
    )
    metrics = evaluate_recommender(model, data)
    assert 0 < metrics["recall@100"] <= 1 and set(model.feature_importance().index) == set(
        model.feature_names
    )
    history = data.known[:5]
    before = model.recommend_batch(history, 10)
    joblib.dump(model.detached("heuristic"), tmp_path / "r.joblib")
    loaded = joblib.load(tmp_path / "r.joblib")
    assert loaded.retrievers["heuristic"] is None
    loaded.attach("heuristic", model.retrievers["heuristic"])
    after = loaded.recommend_batch(history, 10)
    np.testing.assert_array_equal(before[0], after[0])
    with pytest.raises(ValueError, match="validation"):
        RerankedRecommender({"pop": PopularityRecommender()}).fit(data.train, data.items)


def test_reranker_fits_retrievers_on_train_only_then_refits(synthetic_data):
    """Retrievers learn from train alone while the ranker learns on validation; then from train ∪ validation."""
    from src.recsys.rerank import RerankedRecommender

    _, _, data = synthetic_data
    seen: list[int] = []

    class Spy(PopularityRecommender):
        def fit(self, train, items, val=None):
            seen.append(int(train.nnz))
            return super().fit(train, items, val)

    RerankedRecommender({"spy": Spy()}, n_candidates=30, max_iter=10).fit(data.train, data.items, data.val)
    assert seen == [data.train.nnz, data.known.nnz]
