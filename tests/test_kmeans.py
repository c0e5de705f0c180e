"""The k-means interface, its engines and the Lloyd loop's backends: agreement, reproducibility, subsampling,
empty clusters, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from src.cluster import available_engines, fit_kmeans
from src.cluster.gemm_kmeans import GEMMS, GemmBackend, assign_gemm, fastest_assign, kernels, worker_pool
from src.cluster.kmeans import init_centroids, resolve_engine, training_sample
from src.cluster.lloyd import BACKENDS, lloyd, make_backend, repair_empty
from src.cluster.torch_kmeans import pick_device

ENGINES = ["gemm", "torch", "faiss", "sklearn"]


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    X, _ = make_blobs(n_samples=4000, centers=12, n_features=8, cluster_std=1.5, random_state=3)
    return X.astype(np.float32)


def test_registry_lists_every_engine():
    assert set(ENGINES) <= set(available_engines())


def test_auto_is_gemm_on_cpu():
    assert resolve_engine("auto", "cpu") == "gemm"
    if not torch.cuda.is_available():
        assert resolve_engine("auto") == "gemm"
    with pytest.raises(ValueError, match="unknown k-means engine"):
        resolve_engine("nope")


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_reach_the_same_inertia_from_the_same_start(blobs, engine):
    reference = fit_kmeans(blobs, 12, engine="sklearn", n_iter=50, tol=0, seed=4)
    result = fit_kmeans(blobs, 12, engine=engine, n_iter=50, tol=0, seed=4)
    assert result.engine == engine
    assert result.labels.shape == (len(blobs),) and result.centroids.shape == (12, 8)
    assert result.inertia == pytest.approx(reference.inertia, rel=1e-4)
    assert np.mean(result.labels == reference.labels) > 0.999


@pytest.mark.parametrize("engine", ["gemm", "torch"])
def test_same_seed_same_result(blobs, engine):
    a = fit_kmeans(blobs, 9, engine=engine, n_iter=15, seed=7)
    b = fit_kmeans(blobs, 9, engine=engine, n_iter=15, seed=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert a.history == b.history


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_match_a_plain_numpy_lloyd(blobs, backend):
    """Each iteration of the loop is exactly one Lloyd step, whatever the backend: compare with a textbook
    implementation."""
    start = init_centroids(blobs, 6, seed=0)
    C = start.astype(np.float64)
    for _ in range(5):
        d = ((blobs[:, None, :] - C[None]) ** 2).sum(-1)
        lab = d.argmin(1)
        C = np.stack([blobs[lab == j].mean(0) if np.any(lab == j) else C[j] for j in range(6)])
    ours, iters, history = lloyd(blobs, start, 5, tol=0, backend=backend)
    assert iters == 5 and len(history) == 5
    np.testing.assert_allclose(ours, C, rtol=1e-4, atol=1e-4)


def test_early_stop_and_n_iter(blobs):
    converged = fit_kmeans(blobs, 12, engine="gemm", n_iter=300, tol=1e-4, seed=0)
    assert 1 <= converged.n_iter < 300
    fixed = fit_kmeans(blobs, 12, engine="gemm", n_iter=3, tol=0, seed=0)
    assert fixed.n_iter == 3 and len(fixed.history) == 3


def test_n_init_keeps_the_best_start(blobs):
    singles = [fit_kmeans(blobs, 12, engine="gemm", n_iter=20, seed=s).inertia for s in range(3)]
    best = fit_kmeans(blobs, 12, engine="gemm", n_iter=20, seed=0, n_init=3)
    assert best.inertia == pytest.approx(min(singles))


def test_random_init_and_bad_init(blobs):
    result = fit_kmeans(blobs, 5, engine="gemm", init="random", seed=1)
    assert result.k == 5
    with pytest.raises(ValueError, match="unknown init"):
        fit_kmeans(blobs, 5, init="kmeans||")


def test_subsampled_training_still_labels_every_point(blobs):
    sample = training_sample(blobs, 12, 50, seed=0)
    assert len(sample) == 600 and np.all(np.isin(sample[:, 0], blobs[:, 0]))
    full = fit_kmeans(blobs, 12, engine="gemm", n_iter=30, seed=0)
    sub = fit_kmeans(blobs, 12, engine="gemm", n_iter=30, seed=0, max_points_per_centroid=50)
    assert len(sub.labels) == len(blobs)
    assert sub.inertia <= full.inertia * 1.05  # well-separated blobs: a 15% sample finds the same centres


def test_assign_is_exact_and_chunked(blobs):
    rng = np.random.default_rng(0)
    C = rng.standard_normal((7, 8)).astype(np.float32) * 5
    labels, dist = assign_gemm(blobs, C, chunk=64, block=1000)
    d = ((blobs[:, None, :].astype(np.float64) - C[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d.argmin(1))
    np.testing.assert_allclose(dist, d.min(1), rtol=1e-5, atol=1e-4)


def test_empty_cluster_is_repaired():
    """A start centroid far from every point would stay empty; it must take half of the largest cluster."""
    X, _ = make_blobs(n_samples=600, centers=3, n_features=4, random_state=0)
    X = X.astype(np.float32)
    start = np.vstack([X[:3], np.full((1, 4), 1e4, dtype=np.float32)])
    for backend in BACKENDS:
        C, _, _ = lloyd(X, start, 10, tol=0, backend=backend)
        assert np.all(np.abs(C) < 1e3), backend
    counts = np.array([0, 10, 4])
    C = np.arange(6, dtype=np.float32).reshape(3, 2) + 1
    assert repair_empty(C, counts) == 1
    assert counts.tolist() == [5, 5, 4] and not np.allclose(C[0], C[1])


def test_input_errors(blobs):
    with pytest.raises(ValueError, match="unknown Lloyd backend"):
        make_backend("sklearn", blobs, 3)
    with pytest.raises(ValueError, match="2-D"):
        fit_kmeans(np.zeros(5, dtype=np.float32), 2)
    with pytest.raises(ValueError, match="k=9"):
        fit_kmeans(np.zeros((4, 2), dtype=np.float32), 9)


def test_torch_device_choice():
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert pick_device(None).type == "cpu"
        with pytest.raises(ValueError, match="no CUDA"):
            pick_device("cuda")


def test_torch_rejects_unknown_precision(blobs):
    with pytest.raises(ValueError, match="precision"):
        lloyd(blobs, blobs[:3], 2, backend="torch", precision="fp8")


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_torch_cuda_agrees_with_cpu(blobs, precision):
    cpu = fit_kmeans(blobs, 12, engine="torch", n_iter=30, tol=0, seed=2, device="cpu")
    gpu = fit_kmeans(blobs, 12, engine="torch", n_iter=30, tol=0, seed=2, device="cuda", precision=precision)
    assert gpu.inertia == pytest.approx(cpu.inertia, rel=1e-3 if precision == "bf16" else 1e-4)


@pytest.mark.gpu
def test_auto_uses_the_gpu(blobs):
    result = fit_kmeans(blobs, 12, n_iter=20, seed=0, device="cuda")
    assert result.engine in {"torch", "faiss"}
    assert result.inertia == pytest.approx(
        fit_kmeans(blobs, 12, engine="gemm", n_iter=20, seed=0).inertia, rel=1e-3
    )


def test_lloyd_makes_no_float64_copy_of_the_data():
    """The stopping rule's variance is computed in blocks, and not at all with tol=0 (issue 13: a full float64
    copy of a 10M × 64 matrix is 5 GB)."""
    import tracemalloc

    X = np.random.default_rng(0).normal(size=(200_000, 16)).astype(np.float32)
    start = X[:4].copy()
    for tol in (0.0, 1e-4):
        tracemalloc.start()
        lloyd(X, start, 1, tol=tol, backend="torch", device="cpu", chunk=4096)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < X.nbytes / 4, (tol, peak)
    from src.cluster.lloyd import column_moments, mean_variance

    exact = np.var(X, axis=0, dtype=np.float64).mean()
    assert mean_variance(*column_moments(X, chunk=999)) == pytest.approx(exact, rel=1e-9)


def test_both_blas_give_the_same_distance_block_and_one_kernel_is_picked():
    """`fastest_assign` may pick either BLAS or the fused kernel per machine; both BLAS compute the same product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 9), dtype=np.float32)
    b = rng.standard_normal((9, 17), dtype=np.float32)
    outs = {}
    for name, gemm in GEMMS.items():
        outs[name] = np.empty((300, 17), dtype=np.float32)
        gemm(a, b, outs[name])
    np.testing.assert_allclose(outs["torch"], outs["numpy"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs["numpy"], a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert fastest_assign(64, 9, 17, rounds=1, calls=1) in kernels()
    with worker_pool(2) as pool:
        assert fastest_assign(64, 9, 17, pool, 2, rounds=1, calls=2) in kernels()


@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_backend_keeps_its_sums_exact_as_rows_change_cluster(blobs, threads):
    """After the first iteration only the rows that moved update the sums; they must equal a fresh sum."""
    start = init_centroids(blobs, 12, 0, "random")
    with GemmBackend(blobs, 12, threads=threads, chunk=256) as engine:
        C = start
        for _ in range(6):
            _, sums, counts = engine.assign_and_sum(C)
            fresh = np.zeros_like(sums)
            np.add.at(fresh, engine.labels, blobs.astype(np.float64))
            np.testing.assert_allclose(sums, fresh, rtol=1e-5, atol=1e-3)
            np.testing.assert_array_equal(counts, np.bincount(engine.labels, minlength=12))
            C = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
