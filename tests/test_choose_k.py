"""Choosing k and reclustering."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from src.cluster.choose_k import choose_k, find_knee
from src.cluster.recluster import recluster


def test_knee_on_blobs_finds_true_k():
    X, _ = make_blobs(n_samples=900, centers=4, cluster_std=0.6, random_state=0)
    choice = choose_k(X.astype(np.float32), 2, 12, engine="sklearn", progress=False)
    assert choice.k == 4
    assert choice.method == "knee"
    assert "k=4" in choice.reason
    assert len(choice.ks) == len(choice.inertias) == len(choice.silhouettes) == 11
    assert all(a >= b - 1e-6 * a for a, b in zip(choice.inertias, choice.inertias[1:], strict=False))


def test_no_knee_falls_back_to_silhouette():
    assert find_knee([2, 3], [10.0, 5.0]) is None
    X, _ = make_blobs(n_samples=60, centers=2, random_state=1)
    choice = choose_k(X.astype(np.float32), 2, 3, engine="sklearn", progress=False)
    assert choice.method in {"silhouette", "knee"}
    assert choice.k in (2, 3)


def test_tiny_input_is_one_cluster():
    choice = choose_k(np.zeros((2, 3), dtype=np.float32), 2, 10, progress=False)
    assert choice.k == 1


def test_recluster_respects_min_size():
    X, y = make_blobs(n_samples=600, centers=[[0, 0], [20, 20]], cluster_std=3.0, random_state=0)
    X = X.astype(np.float32)
    sub, info = recluster(X, y, min_size=40, k_max=6, engine="sklearn", progress=False)
    for c in (0, 1):
        counts = np.bincount(sub[y == c])
        assert counts.min() >= 40
        assert info[c]["k"] == len(counts)
        assert info[c]["reason"]


def test_recluster_small_cluster_not_split():
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    labels = np.r_[np.zeros(45, int), np.ones(5, int)]
    sub, info = recluster(X, labels, min_size=30, progress=False)
    assert info[1]["k"] == 1 and info[0]["k"] == 1
    assert (sub == 0).all()


def test_recluster_fixed_k():
    X, y = make_blobs(n_samples=400, centers=1, random_state=0)
    sub, info = recluster(X.astype(np.float32), np.zeros(400, int), min_size=20, k=3, progress=False)
    assert info[0]["k"] == 3 and set(sub) == {0, 1, 2}
