"""The recsys scoring benchmark end to end on a tiny catalogue, plus its data generators."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.recsys.bench import make_histories, make_items
from tests.helpers import run_script

TINY = [
    "catalogues=[{n_items:2000,playlists:32,dense_playlists:24}]",
    "batch_size=16",
    "k=50",
    "agreement_k=10",
    "progress=false",
    "memory.profile_top=5",
]


def test_tiny_run_writes_json_and_table(tmp_path: Path):
    proc = run_script("benchmark_recsys.py", f"hydra.run.dir={tmp_path}", *TINY)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "benchmark.json").read_text())
    (cat,) = result["catalogues"]
    assert cat["n_items"] == 2000 and cat["n_clusters"] == 2
    assert 5 <= cat["history_length"]["mean"] <= 100
    new, dense = cat["new"], cat["dense"]
    assert new["rows"] == 32 and dense["rows"] == 24  # dense on 12 + 12 rows of the two batches
    assert len(new["batch_seconds"]) == 2 and len(dense["batch_seconds"]) == 2
    assert new["seconds_per_1000"] > 0 and new["index_seconds"] >= 0
    assert new["dense_over_this"] == dense["seconds_per_1000"] / new["seconds_per_1000"]
    agree = new["agreement"]
    assert agree["rows"] == 24
    for key in ("recall10_in_top10", "recall10_in_top50", "recall50_in_top50"):
        assert 0.5 <= agree[key] <= 1.0, key
    assert agree["recall10_in_top50"] >= agree["recall10_in_top10"]
    assert agree["max_abs_score_diff"] < 1e-4  # both exact lse scores on the retrieved items
    for method, rows in (("new", 16), ("dense", 12)):
        mem = cat[method]["memory"]
        assert mem["rows"] == rows and mem["peak_rss_mib"] >= mem["rss_before_scoring_mib"] > 0
    assert "Ordered by: internal time" in new["memory"]["profile_tottime"]
    assert 0 < new["memory"]["profile_faiss_seconds"] <= new["memory"]["profile_total_seconds"]
    split = new["memory"]["search_breakdown"]
    assert split["mean_queries"] == 16 and split["track_queries"] > 16 and split["track_seconds"] > 0
    table = (tmp_path / "benchmark.md").read_text()
    assert table.startswith("| catalogue | method |") and "| 2,000 | new | 32 |" in table
    assert "per-track search" in table
    assert "dense / new time ratio" in proc.stdout


def test_unknown_method_is_one_clear_error(tmp_path: Path):
    proc = run_script("benchmark_recsys.py", f"hydra.run.dir={tmp_path}", "methods=[new,sparse]")
    assert proc.returncode == 2
    assert "unknown benchmark method" in proc.stderr and "Traceback" not in proc.stderr


def test_data_is_seeded_clustered_and_unit_norm():
    X, labels = make_items(3000, 16, 500, 0.8, seed=3, chunk_rows=700)
    Y, _ = make_items(3000, 16, 500, 0.8, seed=3, chunk_rows=700)
    np.testing.assert_array_equal(X, Y)
    assert X.dtype == np.float32 and np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    same = labels[:, None] == labels[None, :]
    cos = X @ X.T
    assert cos[same].mean() > 0.4 > 0.1 > abs(cos[~same].mean())
    H = make_histories(200, labels, 5, 100, 1.0, 0.5, 0.7, 0.05, seed=3)
    lengths = np.diff(H.indptr)
    assert H.shape == (200, 3000) and lengths.min() >= 4 and lengths.max() <= 100
    assert np.median(lengths) < lengths.mean()  # heavy tail
    # most of a playlist's tracks share its most common cluster
    top_share = [
        np.bincount(labels[H.indices[H.indptr[i] : H.indptr[i + 1]]]).max() / lengths[i] for i in range(200)
    ]
    assert np.mean(top_share) > 0.7


def test_ivf_index_probing_every_list_is_exact():
    from benchmarks.recsys.bench import IVFIndex
    from src.models.retrieval import InnerProductIndex

    X, _ = make_items(2000, 16, 250, 0.8, seed=0, chunk_rows=2000)
    ivf = IVFIndex(X, nlist=8, nprobe=8, train_points=2000, seed=0)
    flat_idx, flat_val = InnerProductIndex(X).search(X[:20], 30)
    idx, val = ivf.search(X[:20], 30)
    np.testing.assert_allclose(val, flat_val, rtol=1e-5, atol=1e-5)
    assert (idx == flat_idx).mean() > 0.99  # equal up to ties
