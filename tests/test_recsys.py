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
