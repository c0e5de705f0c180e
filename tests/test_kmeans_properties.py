"""Property tests (hypothesis) for the k-means engines on arbitrary small inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from src.cluster import fit_kmeans
from src.cluster.gemm_kmeans import assign_gemm
from src.cluster.kmeans import init_centroids
from src.cluster.lloyd import BACKENDS, lloyd

FAST = settings(max_examples=15, deadline=None)

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def data_and_k(draw) -> tuple[np.ndarray, int]:
    n = draw(st.integers(2, 120))
    d = draw(st.integers(1, 6))
    X = draw(arrays(np.float32, (n, d), elements=finite))
    k = draw(st.integers(1, min(n, 10)))
    return X, k


def _sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    return ((X[:, None, :].astype(np.float64) - C[None].astype(np.float64)) ** 2).sum(-1)


@FAST
@given(data_and_k(), st.sampled_from(["gemm", "torch", "faiss"]), st.integers(0, 3))
def test_labels_in_range_and_inertia_is_the_recomputed_sum(case, engine, seed):
    X, k = case
    result = fit_kmeans(X, k, engine=engine, n_iter=10, seed=seed, init="random")
    assert result.labels.shape == (len(X),)
    assert result.labels.min() >= 0 and result.labels.max() < k
    d = _sq_dist(X, result.centroids)
    recomputed = d[np.arange(len(X)), result.labels].sum()
    scale = float((X.astype(np.float64) ** 2).sum()) + 1.0
    assert result.inertia == pytest.approx(recomputed, rel=1e-4, abs=1e-5 * scale)
    # every label is a nearest centroid (up to float32 ties)
    assert np.all(d[np.arange(len(X)), result.labels] <= d.min(1) + 1e-4 * (1.0 + d.min(1)) + 1e-6 * scale)


@FAST
@given(data_and_k(), st.integers(0, 3))
def test_inertia_never_increases_over_iterations(case, seed):
    X, k = case
    start = init_centroids(X, k, seed, "random")
    scale = float((X.astype(np.float64) ** 2).sum()) + 1.0
    for backend in BACKENDS:
        _, _, history = lloyd(X, start, 12, tol=0, backend=backend)
        steps = np.diff(history)
        assert np.all(steps <= 1e-5 * scale), (backend, history)


@FAST
@given(st.integers(2, 6), st.integers(1, 5), st.integers(0, 10_000))
def test_engines_agree_on_well_separated_data(k, d, seed):
    """Tight blobs far apart: every engine must find the same partition."""
    rng = np.random.default_rng(seed)
    centres = rng.permutation(np.arange(k))[:, None] * 100.0 + rng.uniform(-1, 1, (k, d))
    truth = np.repeat(np.arange(k), 30)
    X = (centres[truth] + rng.normal(0, 0.5, (len(truth), d))).astype(np.float32)
    partitions = set()
    for engine in ("gemm", "torch", "faiss", "sklearn"):
        labels = fit_kmeans(X, k, engine=engine, n_iter=50, seed=seed % 7, n_init=3).labels
        # canonical form: relabel clusters in order of first appearance
        _, first = np.unique(labels, return_index=True)
        order = np.argsort(np.argsort(first))
        partitions.add(tuple(order[labels]))
    assert len(partitions) == 1
    (only,) = partitions
    np.testing.assert_array_equal(np.asarray(only)[::30], np.arange(k))


@FAST
@given(data_and_k(), st.integers(1, 40))
def test_chunked_assignment_matches_brute_force(case, block):
    X, k = case
    C = X[:k]
    labels, dist = assign_gemm(X, C, chunk=7, block=block)
    d = _sq_dist(X, C)
    np.testing.assert_allclose(dist, d.min(1), rtol=1e-5, atol=1e-3)
    assert np.all(d[np.arange(len(X)), labels] <= d.min(1) * (1 + 1e-4) + 1e-2)
