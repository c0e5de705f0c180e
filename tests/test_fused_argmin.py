"""The compiled fused GEMM + argmin kernel: exact nearest centroids, ties, its build cache and its absence."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs

from src.cluster import fused_argmin
from src.cluster.gemm_kmeans import FUSED, GEMMS, GemmBackend, assign_gemm, kernels

needs_kernel = pytest.mark.skipif(
    fused_argmin.find_compiler() is None, reason="no C compiler on this machine"
)


@pytest.fixture
def fresh_build(tmp_path, monkeypatch):
    """`load` with an empty build cache of its own; the process-wide kernel is restored afterwards."""
    monkeypatch.setenv("PLAYLIST_LAB_CACHE", str(tmp_path))
    fused_argmin.load.cache_clear()
    yield tmp_path / "native"
    monkeypatch.undo()
    fused_argmin.load.cache_clear()


@needs_kernel
def test_the_kernel_builds_where_a_compiler_exists():
    kernel = fused_argmin.load()
    assert kernel is not None and kernel.path.exists()
    assert FUSED in kernels()


def test_cc_may_carry_a_launcher_and_an_unknown_one_means_no_compiler(monkeypatch):
    monkeypatch.setenv("CC", "env cc")  # like "ccache gcc": a program, then its arguments
    assert fused_argmin.find_compiler() == [shutil.which("env"), "cc"]
    monkeypatch.setenv("CC", "/nonexistent/cc -O2")
    assert fused_argmin.find_compiler() is None


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    d=st.integers(1, 40),
    k=st.integers(1, 140),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**16),
)
def test_labels_are_the_exact_nearest_centroids(n, d, k, scale, seed):
    """Any shape (rows not a multiple of the row tile, k not a multiple of the centroid tile): the chosen
    centroid is the nearest up to float32 rounding of ‖c‖² − 2x·c."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * scale).astype(np.float32)
    C = (rng.standard_normal((k, d)) * scale).astype(np.float32)
    kernel = fused_argmin.load()
    labels = np.full(n + 3, -1, dtype=np.int64)
    kernel(X, kernel.prepare(C), labels, 0, n)
    assert (labels[n:] == -1).all()  # nothing written past the rows asked for
    D = ((X[:, None, :].astype(np.float64) - C[None].astype(np.float64)) ** 2).sum(-1)
    chosen = D[np.arange(n), labels[:n]]
    scale2 = (np.abs(X).astype(np.float64) ** 2).sum(1) + (np.abs(C).astype(np.float64) ** 2).sum(1).max()
    assert np.all(chosen - D.min(axis=1) <= 1e-5 * scale2 + 1e-30)


@needs_kernel
def test_row_ranges_and_ties_go_to_the_smallest_index():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 7)).astype(np.float32)
    C = rng.standard_normal((70, 7)).astype(np.float32)
    kernel = fused_argmin.load()
    twice = kernel.prepare(np.vstack([C, C]))  # every centroid twice: the first copy must win
    labels = np.full(len(X), -1, dtype=np.int64)
    kernel(X, twice, labels, 123, 400)
    assert (labels[:123] == -1).all() and (labels[400:] == -1).all()
    expected = np.argmin(((X[123:400, None, :] - C[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(labels[123:400], expected)


@needs_kernel
def test_bad_arguments_are_refused_not_read_out_of_bounds():
    kernel = fused_argmin.load()
    C = kernel.prepare(np.zeros((3, 4), dtype=np.float32))
    labels = np.empty(10, dtype=np.int64)
    with pytest.raises(ValueError, match="float32"):
        kernel(np.zeros((10, 4)), C, labels, 0, 10)
    with pytest.raises(ValueError, match="rows"):
        kernel(np.zeros((10, 4), dtype=np.float32), C, labels, 0, 11)
    with pytest.raises(ValueError, match="4-d|rows"):
        kernel(np.zeros((10, 5), dtype=np.float32), C, labels, 0, 10)
    with pytest.raises(ValueError, match="int64"):
        kernel(np.zeros((10, 4), dtype=np.float32), C, labels.astype(np.int32), 0, 10)


@needs_kernel
@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_backend_gives_the_same_iteration_with_the_fused_kernel_and_with_blas(threads):
    X, _ = make_blobs(n_samples=6000, centers=10, n_features=12, cluster_std=1.0, random_state=0)
    X = X.astype(np.float32)
    C = X[:: len(X) // 40][:40].copy()
    results = {}
    for kernel in (FUSED, "numpy"):
        with GemmBackend(X, 40, threads=threads, chunk=512, kernel=kernel) as engine:
            results[kernel] = [engine.assign_and_sum(C), engine.labels.copy()]
            Cn = results[kernel][0][1] / np.maximum(results[kernel][0][2], 1)[:, None]
            results[kernel].append(engine.assign_and_sum(Cn.astype(np.float32)))
    (first_f, labels_f, second_f), (first_b, labels_b, second_b) = results[FUSED], results["numpy"]
    assert (labels_f != labels_b).mean() < 1e-3  # float32 near-ties may differ, nothing else
    for a, b in ((first_f, first_b), (second_f, second_b)):
        assert a[0] == pytest.approx(b[0], rel=1e-4)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-3, atol=1e-2)
        assert np.abs(a[2] - b[2]).sum() <= 2 * 6


@needs_kernel
def test_the_build_is_cached_and_a_failed_build_leaves_nothing(fresh_build, monkeypatch):
    built = fused_argmin.load()
    assert built is not None and built.path.parent == fresh_build
    mtime = built.path.stat().st_mtime_ns
    fused_argmin.load.cache_clear()
    assert fused_argmin.load().path.stat().st_mtime_ns == mtime  # loaded, not rebuilt
    monkeypatch.setenv("CC", shutil.which("false") or "false")  # a "compiler" that always fails
    monkeypatch.setenv("PLAYLIST_LAB_CACHE", str(fresh_build.parent / "other"))
    fused_argmin.load.cache_clear()
    assert fused_argmin.load() is None
    assert not list((fresh_build.parent / "other").rglob("*.so*"))


@needs_kernel
def test_the_portable_build_without_march_native_is_exact_too(fresh_build, monkeypatch):
    """The fallback flags (no -march=native) give the 128-bit-vector variant on x86: same answers."""
    monkeypatch.setattr(fused_argmin, "FLAG_SETS", (["-O3"],))
    kernel = fused_argmin.load()
    assert kernel is not None
    assert fused_argmin.self_test(str(kernel.path))  # exact nearest centroids, shape off every tile


@needs_kernel
def test_a_library_that_fails_its_self_test_is_not_kept(fresh_build, monkeypatch):
    """A kernel that crashes (an instruction the CPU hides) or answers wrongly is dropped, not used."""
    crash = fresh_build.parent / "crash.py"
    crash.write_text("import os\nos.abort()\n")
    monkeypatch.setattr(fused_argmin, "SELF_TEST_SCRIPT", crash)
    assert fused_argmin.load() is None
    assert not list(fresh_build.parent.rglob("*.so*"))


@pytest.mark.parametrize("env", [{"CC": "/nonexistent/cc"}, {"PLAYLIST_LAB_NATIVE": "0"}])
def test_without_the_kernel_k_means_uses_blas(fresh_build, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fused_argmin.load.cache_clear()
    assert fused_argmin.load() is None
    assert kernels() == list(GEMMS)
    with (
        pytest.raises(RuntimeError, match="not available"),
        GemmBackend(np.zeros((10, 2), np.float32), 2, kernel=FUSED),
    ):
        pass
    X, _ = make_blobs(n_samples=3000, centers=4, n_features=3, random_state=0)
    labels, dist = assign_gemm(X.astype(np.float32), X[[0, 1000, 2000, 2999]].astype(np.float32))
    assert labels.shape == (3000,) and np.isfinite(dist).all()
