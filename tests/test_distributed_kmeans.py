"""Distributed k-means over gloo: 2 processes agree with one process; shards; a failing rank ends the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from helpers import ROOT
from src.cluster.hierarchical import plan_owners, sub_k
from src.cluster.kmeans import init_centroids
from src.cluster.lloyd import lloyd
from src.embeddings.shards import assign_row_groups, read_shard, shard_bounds


def blobs(n: int = 6000, d: int = 8, centres: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 4, (centres, d))
    return (means[rng.integers(0, centres, n)] + rng.normal(0, 1, (n, d))).astype(np.float32)


def _worker(rank: int, world: int, init: str, data: str, out: str, k: int) -> None:
    from src.cluster.distributed import fit_distributed
    from src.cluster.hierarchical import fit_two_level

    dist.init_process_group(
        "gloo", init_method=init, rank=rank, world_size=world, timeout=timedelta(seconds=60)
    )
    try:
        _, X, first = read_shard(data, rank, world)
        fit = fit_distributed(X, k, n_iter=8, tol=0, seed=3, backend="gemm", threads=1)
        early = fit_distributed(X, k, n_iter=100, tol=1e-4, seed=3, backend="torch")
        two = fit_two_level(X, 4, 3, min_size=50, n_iter=5, seed=1, max_points_per_centroid=64, threads=1)
        np.savez(
            Path(out) / f"rank{rank}.npz",
            centroids=fit.centroids,
            labels=fit.labels,
            first=first,
            inertia=fit.inertia,
            history=np.array(fit.history),
            early_iter=early.n_iter,
            early=early.centroids,
            sub=np.concatenate(two.subcentroids),
            sublabels=two.sublabels,
            labels1=two.level1.labels,
            inertia2=two.inertia,
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tmp_path: Path):
    X = blobs()
    np.save(tmp_path / "x.npy", X)
    k = 12
    mp.spawn(
        _worker,
        args=(2, f"file://{tmp_path / 'rdzv'}", str(tmp_path / "x.npy"), str(tmp_path), k),
        nprocs=2,
        join=True,
    )
    r0, r1 = (np.load(tmp_path / f"rank{r}.npz") for r in (0, 1))
    # the seeding sample gathered to rank 0 is the one a single process draws: same start, same fit
    start = init_centroids(X, k, 3)
    C, iters, history = lloyd(X, start, 8, tol=0, backend="gemm", threads=1)
    for r in (r0, r1):
        np.testing.assert_allclose(r["centroids"], C, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(r["history"], history, rtol=1e-5)
    np.testing.assert_array_equal(r0["centroids"], r1["centroids"])  # identical, not merely close
    labels = np.concatenate([r0["labels"], r1["labels"]])
    exact = float(((X - C[labels]) ** 2).sum(dtype=np.float64))
    assert abs(float(r0["inertia"]) - exact) / exact <= 1e-5 and float(r0["inertia"]) == float(r1["inertia"])
    assert int(r0["first"]) == 0 and int(r1["first"]) == 3000
    # tol > 0: the variance for the stopping rule is reduced over ranks, so both stop at the same iteration
    ref, ref_iter, _ = lloyd(X, start, 100, tol=1e-4, backend="torch")
    assert int(r0["early_iter"]) == int(r1["early_iter"]) == ref_iter < 100
    np.testing.assert_allclose(r0["early"], ref, rtol=1e-5, atol=1e-5)
    # two levels: the same sub-centroids everywhere, every sub-label within its cluster's split
    np.testing.assert_array_equal(r0["sub"], r1["sub"])
    assert float(r0["inertia2"]) == float(r1["inertia2"]) > 0
    sub = np.concatenate([r0["sublabels"], r1["sublabels"]])
    assert sub.max() <= 2 and len(np.unique(sub)) == 3


def test_npy_and_parquet_shards_cover_the_rows_once(tmp_path: Path):
    X = blobs(1000, 4)
    np.save(tmp_path / "x.npy", X)
    parts = tmp_path / "parts"
    parts.mkdir()
    for p, (lo, hi) in enumerate([(0, 400), (400, 1000)]):
        flat = pa.array(X[lo:hi].reshape(-1), type=pa.float32())
        table = pa.table(
            {
                "track_id": pa.array([f"t{i}" for i in range(lo, hi)]),
                "vector": pa.FixedSizeListArray.from_arrays(flat, 4),
            }
        )
        pq.write_table(table, parts / f"part-{p:05d}.parquet", row_group_size=100)
    for source in (tmp_path / "x.npy", parts):
        got = [read_shard(source, r, 3) for r in range(3)]
        np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), X)
        assert [g[2] for g in got] == [0, len(got[0][1]), len(got[0][1]) + len(got[1][1])]
        assert min(len(g[1]) for g in got) >= 300
    assert shard_bounds(10, 2, 3) == (6, 10)
    assert assign_row_groups(np.array([5, 5, 5, 5]), 2).tolist() == [0, 0, 1, 1]


def test_level_two_plan_is_balanced_and_bounded():
    counts = np.array([1000, 10, 600, 500, 90])
    assert sub_k(counts, 8, 100).tolist() == [8, 1, 6, 5, 1]
    owners = plan_owners(counts, 2)
    assert owners.tolist() == [0, 0, 1, 1, 0]  # loads 1100 / 1100


def _torchrun(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    return subprocess.run(
        [*cmd, str(ROOT / "scripts" / "kmeans_distributed.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.mark.slow
def test_torchrun_script_two_levels_then_a_failing_rank(tmp_path: Path):
    X = blobs(4000, 6)
    np.save(tmp_path / "x.npy", X)
    run = tmp_path / "run"
    proc = _torchrun(f"input={tmp_path / 'x.npy'}", "k=8", "k2=3", "n_iter=5", f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["rows"] == 4000 and metrics["inertia"] > 0
    assert metrics["inertia_level2"] < metrics["inertia"]
    assert (
        0 < metrics["allreduce_seconds"] < metrics["fit_seconds"]
    )  # the loop's all-reduces, timed on rank 0
    assert np.load(run / "centroids.npy").shape == (8, 6)
    table = pq.read_table(run / "assignments").to_pandas().sort_values("row")
    assert table["row"].tolist() == list(range(4000)) and table["subcluster"].max() <= 2

    # rank 1's part of the data is broken: rank 0 waits in a collective, the whole job still ends, non-zero,
    # with rank 1's error on stderr
    parts = tmp_path / "parts"
    parts.mkdir()
    good = pa.table(
        {
            "track_id": ["a", "b"],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array([0.0] * 4, pa.float32()), 2),
        }
    )
    pq.write_table(good, parts / "part-00000.parquet")
    pq.write_table(pa.table({"track_id": ["c", "d"], "oops": [1, 2]}), parts / "part-00001.parquet")
    began = time.perf_counter()
    proc = _torchrun(f"input={parts}", "k=2", "timeout_s=60", f"hydra.run.dir={tmp_path / 'bad'}")
    assert proc.returncode != 0
    assert "needs the columns track_id and vector" in proc.stderr
    assert time.perf_counter() - began < 120
