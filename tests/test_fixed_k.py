"""Fixed-k clusterings: one fit per k (and per stability seed), reused by every scorer."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

import src.tasks.fixed_k as fixed_k
from src.cluster import fit_kmeans
from src.evaluation.clustering import stability_ari


def test_each_k_is_fitted_once_and_matches_a_direct_fit(monkeypatch):
    X, _ = make_blobs(300, centers=4, n_features=3, random_state=0)
    X = X.astype(np.float32)
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1])
        return fit_kmeans(*args, **kwargs)

    monkeypatch.setattr(fixed_k, "fit_kmeans", counting)
    fk = fixed_k.FixedKClusterings(X, engine="sklearn", seed=3, n_init=2, n_iter=50)
    first = fk.at([1, 3, 4, 300, 4])
    assert sorted(first) == [3, 4] and calls == [3, 4]  # k=1 and k=n do not split the points
    fk.at([3, 4])
    assert calls == [3, 4]
    direct = fit_kmeans(X, 3, engine="sklearn", seed=3, n_init=2, n_iter=50)
    np.testing.assert_array_equal(first[3], direct.labels)
    fk.add(direct)  # a result fitted elsewhere with the same settings is reused as is
    assert fk.labels(3) is direct.labels


def test_stability_labelings_over_seeds():
    X, _ = make_blobs(300, centers=3, n_features=2, cluster_std=0.3, random_state=1)
    fk = fixed_k.FixedKClusterings(X.astype(np.float32), engine="sklearn", n_iter=100)
    labelings = fk.over_seeds(3, 4)
    assert len(labelings) == 4 and fk.over_seeds(3, 4)[0] is labelings[0]
    assert stability_ari(labelings) == 1.0  # well-separated blobs: every seed finds the same partition
