"""DEC/IDEC under DDP: the k-means start of the centroids is computed once and broadcast, so every replica
refines the same centroids (before the fix each rank clustered its own shard and the replicas diverged)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from lightning.pytorch.strategies import DDPStrategy

from src.cluster.kmeans import kmeans_centroids
from src.models.dec import DECModule


def _worker(rank: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2, timeout=timedelta(seconds=60))
    try:
        torch.manual_seed(0)  # identical replicas, as DDP makes them
        module = DECModule(
            6, hidden=(8,), bottleneck=2, n_clusters=3, kmeans_n_init=2, centroid_init=kmeans_centroids
        )
        shard = torch.randn(40 + 10 * rank, 6, generator=torch.Generator().manual_seed(rank)) + 3 * rank
        loader = [(shard[i : i + 16],) for i in range(0, len(shard), 16)]
        module._trainer = SimpleNamespace(
            train_dataloader=loader, strategy=DDPStrategy(), world_size=2, is_global_zero=rank == 0
        )
        module.init_centroids()
        np.save(Path(out) / f"rank{rank}.npy", module.centroids.detach().numpy())
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_dec_centroids_are_the_same_on_every_ddp_rank(tmp_path: Path):
    mp.spawn(_worker, args=(f"file://{tmp_path / 'rdzv'}", str(tmp_path)), nprocs=2, join=True)
    a, b = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    assert np.abs(a).sum() > 0
    np.testing.assert_array_equal(a, b)


def test_gather_rows_is_the_identity_on_one_rank():
    from src.models.dec import gather_rows

    rows = torch.arange(6.0).reshape(3, 2)
    assert gather_rows(None, rows, 1) is rows
