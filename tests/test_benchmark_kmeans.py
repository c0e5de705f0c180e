"""The k-means benchmark script end to end on tiny cases, plus the launcher configs it documents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from benchmarks.kmeans.bench import format_table, gemm_peak, make_data
from tests.helpers import ROOT, run_script

TINY_A = [
    "cases.a.n=3000",
    "cases.a.d=8",
    "cases.a.k=12",
    "cases.a.n_iter=5",
    "repeats=2",
    "peak.n=128",
    "peak.repeats=1",
]


def test_case_a_writes_json_and_table(tmp_path: Path):
    proc = run_script("benchmark_kmeans.py", f"hydra.run.dir={tmp_path}", *TINY_A)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "benchmark.json").read_text())
    assert result["case"] == "a" and result["default_engine"] == "gemm"
    assert set(result["engines"]) == {"gemm", "faiss", "sklearn"}
    for name, row in result["engines"].items():
        assert len(row["times"]) == 2 and row["seconds"] > 0 and row["gflops"] > 0, name
        assert row["fraction_of_peak"] > 0 and row["peak_rss_mib"] > 0
    gemm = result["engines"]["gemm"]
    assert abs(gemm["inertia_rel_diff_vs_faiss"]) < 5e-3 and abs(gemm["inertia_rel_diff_vs_sklearn"]) < 5e-3
    ratio = gemm["seconds"] / result["engines"]["faiss"]["seconds"]
    assert result["default_vs_faiss"] == ratio
    assert set(result["gemm_peak_gflops"]) == {"numpy_openblas", "torch_mkl"}
    assert any(lib["prefix"] for lib in result["blas"])
    assert "gemm / faiss time ratio" in proc.stdout and "fp32 GEMM peak" in proc.stdout


def test_case_b_runs_two_level(tmp_path: Path):
    proc = run_script(
        "benchmark_kmeans.py",
        "case=b",
        f"hydra.run.dir={tmp_path}",
        "cases.b.n=20000",
        "cases.b.d=6",
        "cases.b.k=8",
        "cases.b.n_iter=5",
        "cases.b.max_points_per_centroid=100",
        "cases.b.k2=4",
        "repeats=1",
        "peak.n=128",
        "peak.repeats=1",
        "data.chunk_rows=7000",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "benchmark.json").read_text())
    assert result["train_rows"] == 800
    two = result["two_level"]
    assert two["clusters"] == 8 and 8 < two["subclusters"] <= 32 and two["max_subclusters_per_cluster"] <= 4
    assert two["inertia_level2"] < two["inertia_level1"]
    assert "two-level: 8 clusters" in proc.stdout


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(_has_cuda(), reason="a CUDA device is present: case c runs (test_case_c_runs_on_cuda)")
def test_case_c_skips_cleanly_without_cuda(tmp_path: Path):
    proc = run_script("benchmark_kmeans.py", "case=c", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "skipped" in json.loads((tmp_path / "benchmark.json").read_text())
    assert "case c: skipped" in proc.stdout


@pytest.mark.gpu
def test_case_c_runs_on_cuda(tmp_path: Path):
    tiny = ["cases.c.n=20000", "cases.c.d=16", "cases.c.k=64", "cases.c.n_iter=3", "repeats=1", "peak.n=256"]
    proc = run_script("benchmark_kmeans.py", "case=c", f"hydra.run.dir={tmp_path}", *tiny, "peak.repeats=1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "benchmark.json").read_text())
    assert "skipped" not in result and result["gpu"] and "torch" in result["engines"]
    assert result["engines"]["torch"]["seconds"] > 0


def test_unknown_case_is_one_clear_error(tmp_path: Path):
    proc = run_script("benchmark_kmeans.py", "case=z", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2
    assert "unknown benchmark case 'z'" in proc.stderr and "Traceback" not in proc.stderr


def test_make_data_is_seeded_and_chunk_independent():
    a = make_data(1000, 3, 4, 2.0, seed=1, chunk_rows=300)
    b = make_data(1000, 3, 4, 2.0, seed=1, chunk_rows=300)
    assert a.dtype == np.float32 and a.shape == (1000, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, make_data(1000, 3, 4, 2.0, seed=2, chunk_rows=300))


def test_gemm_peak_reports_both_cpu_libraries():
    peaks = gemm_peak(64, 1)
    assert set(peaks) == {"numpy_openblas", "torch_mkl"} and all(v > 0 for v in peaks.values())
    assert "skipped" in format_table({"case": "c", "skipped": "no GPU"})


def test_launcher_configs_compose():
    with initialize_config_dir(str(ROOT / "configs"), version_base="1.3"):
        for launcher, target in (("joblib", "JoblibLauncher"), ("submitit_slurm", "SlurmLauncher")):
            cfg = compose(
                "benchmark_kmeans", overrides=[f"hydra/launcher={launcher}"], return_hydra_config=True
            )
            assert cfg.hydra.launcher._target_.endswith(target)
        cfg = compose("benchmark_kmeans", overrides=["hydra/launcher=joblib"], return_hydra_config=True)
        assert cfg.hydra.launcher.n_jobs == 2
