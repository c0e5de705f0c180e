"""The large-N path: subsample training, chunked/parquet assignment, sampled choice of k, reclustering in
parallel, and the benchmark's two-level split built on it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from benchmarks.kmeans.large import fit_parquet, sample_parquet, two_level
from src.cluster import choose_k, fit_kmeans, recluster
from src.cluster.kmeans import sample_indices
from src.embeddings.store import Embedding, save_embedding


@pytest.fixture(scope="module")
def nested() -> tuple[np.ndarray, np.ndarray]:
    """6 far-apart groups, each made of 3 tighter sub-groups: the structure two-level clustering should see."""
    rng = np.random.default_rng(0)
    top = rng.normal(0, 60, (6, 4))
    sub = top[:, None, :] + rng.normal(0, 8, (6, 3, 4))
    truth = np.repeat(np.arange(18), 200)
    X = sub.reshape(18, 4)[truth] + rng.normal(0, 0.6, (len(truth), 4))
    return X.astype(np.float32), truth


def test_sample_indices_are_sorted_distinct_and_seeded():
    a = sample_indices(1000, 50, seed=3)
    assert len(np.unique(a)) == 50 and np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(a, sample_indices(1000, 50, seed=3))
    np.testing.assert_array_equal(sample_indices(10, 50, seed=3), np.arange(10))


def test_subsampled_fit_trains_on_a_sample_and_labels_all(nested):
    X, truth = nested
    result = fit_kmeans(X, 18, n_iter=25, max_points_per_centroid=40, seed=1)
    full = fit_kmeans(X, 18, n_iter=25, seed=1)
    assert len(result.labels) == len(X)
    assert result.inertia <= full.inertia * 1.05


def test_parquet_path_matches_in_memory(tmp_path, nested):
    X, _ = nested
    ids = np.array([f"t{i}" for i in range(len(X))])
    path = save_embedding(Embedding("raw", ids, X), tmp_path, index=False)
    sample = sample_parquet(path, 500, seed=2, batch_size=700)
    np.testing.assert_array_equal(sample, X[sample_indices(len(X), 500, seed=2)])
    result = fit_parquet(path, 6, n_iter=20, max_points_per_centroid=100, batch_size=700, progress=False)
    assert list(result.track_ids[:3]) == ["t0", "t1", "t2"] and len(result.labels) == len(X)
    d = ((X[:, None, :] - result.centroids[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(result.labels, d.argmin(1))
    assert result.inertia == pytest.approx(d.min(1).sum(), rel=1e-4)
    with pytest.raises(ValueError, match="k=99999"):
        fit_parquet(path, 99_999)


def test_choose_k_on_a_sample_and_grid_finds_the_top_level(nested):
    X, _ = nested
    X6, _ = make_blobs(n_samples=3000, centers=6, n_features=4, cluster_std=0.5, random_state=1)
    grid = [2, 3, 4, 6, 8, 12, 16]
    choice = choose_k(X6.astype(np.float32), ks=grid, sample=1500, n_iter=20, progress=False)
    assert choice.k == 6 and choice.method == "knee"
    assert "1500 of 3000" in choice.reason
    assert len(choice.inertias) == len(choice.silhouettes) == 7
    with pytest.raises(ValueError, match="no k in"):
        choose_k(X6[:10].astype(np.float32), ks=[50, 60], progress=False)


def test_parallel_recluster_matches_sequential(nested):
    """Threads over clusters (each fit single-threaded) give the same sub-clusters as one cluster at a time."""
    X, truth = nested
    top = truth // 3
    options = {"min_size": 20, "k_max": 6, "k_grid": (2, 3, 4, 6), "sample": 300, "n_iter": 30}
    seq, seq_info = recluster(X, top, workers=1, progress=False, **options)
    par, par_info = recluster(X, top, workers=3, progress=False, **options)
    np.testing.assert_array_equal(seq, par)
    assert seq_info == par_info
    assert [v["k"] for v in par_info.values()] == [3] * 6 and all(v["size"] == 600 for v in par_info.values())
    assert all("300 of 600 rows" in v["reason"] for v in par_info.values())


def test_two_level_recovers_nested_groups(nested):
    X, truth = nested
    result = two_level(X, 6, k2=3, min_size=20, n_iter=30, progress=False)
    assert [v["k"] for v in result.info.values()] == [3] * 6
    pairs = np.unique(result.labels * 10 + result.sublabels)
    assert len(pairs) == 18
    # every true sub-group lands in exactly one (cluster, sub-cluster) pair
    for g in range(18):
        members = result.labels[truth == g] * 10 + result.sublabels[truth == g]
        assert len(np.unique(members)) == 1
    assert result.subinertia < result.inertia / 10
    assert set(result.seconds) == {"level1", "level2"}


def test_two_level_auto_k_and_min_size(nested):
    X, _ = nested
    auto = two_level(X, 6, k2="auto", min_size=20, n_iter=30, k2_grid=(2, 3, 4, 6), progress=False)
    assert sum(v["k"] for v in auto.info.values()) >= 12
    bounded = two_level(X, 6, k2=16, min_size=150, n_iter=10, progress=False)
    assert all(v["k"] <= 600 // 150 for v in bounded.info.values())
    unsplit = two_level(X, 6, k2=4, min_size=400, n_iter=10, progress=False)
    assert all(v["k"] == 1 for v in unsplit.info.values())
    assert unsplit.subinertia == pytest.approx(unsplit.inertia, rel=1e-5)
    assert np.all(unsplit.sublabels == 0)
