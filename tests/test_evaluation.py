"""Split protocol and clustering metrics (docs/evaluation.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.split import cold_tracks, split_interactions
from src.evaluation.clustering import (
    coplaylist_lift,
    fixed_k_scores,
    in_sample_metric,
    internal_metrics,
    label_metrics,
    lift_metrics,
    stability_ari,
)


def _interactions(n_users: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u:02d}", f"t{t}")
        for u in range(n_users)
        for t in rng.choice(200, rng.integers(1, 30), replace=False)
    ]
    return pd.DataFrame(rows, columns=["user_id", "track_id"]).assign(weight=1.0)


def test_split_protocol():
    inter = _interactions()
    split = split_interactions(inter, seed=0)
    assert len(split) == len(inter.drop_duplicates(["user_id", "track_id"]))
    for _user, group in split.groupby("user_id"):
        n = len(group)
        assert (group["part"] == "test").sum() == max(1, int(np.floor(0.2 * n)))
        n_train_val = n - (group["part"] == "test").sum()
        if n_train_val >= 2:
            assert (group["part"] == "val").sum() == max(1, int(np.floor(0.2 * n_train_val)))
    again = split_interactions(inter.sample(frac=1, random_state=3), seed=0)
    pd.testing.assert_frame_equal(split, again)
    assert not split.equals(split_interactions(inter, seed=1))
    cold = cold_tracks(split)
    assert cold.isdisjoint(set(split.loc[split["part"] == "train", "track_id"]))


def test_label_and_internal_metrics():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(10, 1, (50, 2))].astype(np.float32)
    labels = np.r_[np.zeros(50, int), np.ones(50, int)]
    ids = [f"t{i}" for i in range(100)]
    lab = pd.DataFrame({"track_id": ids, "genre": np.where(labels == 0, "a", "b")})
    m = label_metrics(lab, pd.Series(labels, index=ids))
    assert m["nmi_genre"] == 1.0 and m["ari_genre"] == 1.0
    internal = internal_metrics(X, labels)
    assert internal["silhouette"] > 0.8 and internal["davies_bouldin"] < 0.3
    permuted = 1 - labels  # the same partition under other names
    assert stability_ari([labels, permuted, labels]) == 1.0
    assert stability_ari([labels]) != stability_ari([labels])  # NaN: no pair to compare
    assert stability_ari([labels, np.arange(100) % 2]) < 0.1


def test_fixed_k_scores_use_the_given_labels_per_k():
    ids = np.array([f"t{i}" for i in range(6)])
    lab = pd.DataFrame({"track_id": ids, "genre": ["a", "a", "a", "b", "b", "b"]})
    inter = pd.DataFrame({"user_id": ["p"] * 3 + ["q"] * 3, "track_id": list(ids)})
    split = pd.DataFrame(
        {"user_id": ["p"] * 3 + ["q"] * 3, "track_id": list(ids), "part": ["train", "val", "test"] * 2}
    )
    perfect = np.array([0, 0, 0, 1, 1, 1])
    scores = fixed_k_scores({2: perfect, 3: np.arange(6) % 3}, ids, lab, inter, split)
    assert scores["nmi_genre@k2"] == 1.0 and scores["ari_genre@k2"] == 1.0
    assert scores["nmi_genre@k3"] < 1.0
    assert (
        scores["coplaylist_lift@2"] == 2.0
    )  # every co-playlist pair shares a cluster; random pairs half as often
    assert {"heldout_lift@2", "val_lift@2", "heldout_lift@3", "val_lift@3"} <= set(scores)
    # cold = in no training playlist: t1, t2 (p) and t4, t5 (q); perfect labels stay perfect on them
    assert scores["nmi_genre_cold@k2"] == 1.0 and "nmi_genre_cold@k3" in scores
    assert fixed_k_scores({2: perfect}, ids, lab.iloc[:0], inter.iloc[:0]) == {}


def test_val_lift_never_counts_a_pair_with_a_test_track():
    # playlist p: a (train), b (val), c (test). Clusters put b with c only: the one val pair that shares a
    # cluster holds a test track, so val_lift must see no shared pair at all (heldout_lift sees it).
    inter = pd.DataFrame({"user_id": ["p", "p", "p"], "track_id": ["a", "b", "c"]})
    split = inter.assign(part=["train", "val", "test"])
    clusters = pd.Series([0, 1, 1, 2, 2], index=["a", "b", "c", "x", "y"])
    scores = lift_metrics(clusters, inter, split, 3)
    assert scores["val_lift@3"] == 0.0 and scores["heldout_lift@3"] > 0.0


def test_in_sample_metrics_are_the_all_track_label_and_coplaylist_ones():
    for name in ("nmi_genre", "ari_subgenre@k24", "nmi_genre@k6", "coplaylist_lift@12", "coplaylist_lift"):
        assert in_sample_metric(name), name
    for name in ("nmi_genre_cold@k6", "ari_genre_cold@k6", "heldout_lift@24", "val_lift@24", "recall@100"):
        assert not in_sample_metric(name), name


def test_lift_counts_by_hand():
    inter = pd.DataFrame({"user_id": ["p", "p", "p", "q", "q"], "track_id": ["a", "b", "c", "c", "d"]})
    clusters = pd.Series({"a": 0, "b": 0, "c": 1, "d": 1})
    # shared-playlist pairs: ab ac bc (p), cd (q) → same cluster: ab, cd = 2/4; random: 0.5²+0.5² = 0.5
    assert coplaylist_lift(clusters, inter) == 1.0
    test = pd.DataFrame({"user_id": ["p"], "track_id": ["c"]})
    # pairs with a test track of that playlist: ac, bc → 0 same
    assert coplaylist_lift(clusters, inter, test) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(0, 100))
def test_lift_of_one_cluster_is_one_and_relabel_invariant(k, seed):
    inter = _interactions(8, seed)
    tracks = inter["track_id"].unique()
    rng = np.random.default_rng(seed)
    labels = pd.Series(rng.integers(0, k, len(tracks)), index=tracks)
    assert coplaylist_lift(pd.Series(0, index=tracks), inter) == 1.0
    perm = rng.permutation(k)
    assert np.isclose(coplaylist_lift(labels, inter), coplaylist_lift(labels.map(lambda c: perm[c]), inter))


def test_validation_view_never_reads_test_and_keeps_a_validation_part():
    from src.data.interactions import rec_data, validation_view

    inter = _interactions(n_users=30, seed=3)
    tracks = pd.DataFrame({"track_id": sorted(inter["track_id"].unique())})
    data = rec_data(tracks, split_interactions(inter, seed=0))
    view = validation_view(data, seed=0)
    assert view.test.nnz == data.val.nnz and (view.test != data.val).nnz == 0  # targets: validation
    assert ((view.train + view.val) != data.train).nnz == 0  # history: exactly train, nothing of test
    assert view.train.multiply(view.val).nnz == 0
    for row in range(data.train.shape[0]):
        n = data.train[row].nnz
        assert view.val[row].nnz == (max(1, int(np.floor(0.2 * n))) if n >= 2 else 0)
    again = validation_view(data, seed=0)
    assert (again.val != view.val).nnz == 0  # same seed, same view
