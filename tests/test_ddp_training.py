"""Lightning DDP on the CPU (gloo): scripts/train.py with `trainer=ddp trainer.accelerator=cpu
trainer.devices=2` trains the autoencoder, IDEC and the two-tower model end to end on tiny data, rank 0 writing
the run's artifacts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import run_script

DDP = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.sync_batchnorm=false"]
COMMON = ["progress=false", "logger=none", "data=csv", "callbacks=none", *DDP]


def _train(tmp_path, data, *overrides: str) -> dict:
    run_dir = tmp_path / "run"
    proc = run_script(
        "train.py", *COMMON, f"data.path={data}", f"hydra.run.dir={run_dir}", *overrides, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "distributed_backend=gloo" in out and "Starting with 2 processes" in out
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_autoencoder_trains_under_ddp(tmp_path, synthetic_csv):
    metrics = _train(tmp_path, synthetic_csv, "trainer.max_epochs=2", "datamodule.batch_size=64")
    assert metrics["epochs"] == 2 and metrics["val/loss"] > 0 and metrics["n_tracks"] == 300


@pytest.mark.slow
def test_idec_trains_under_ddp(tmp_path, synthetic_csv):
    metrics = _train(
        tmp_path,
        synthetic_csv,
        "model=idec",
        "model.pretrain_epochs=1",
        "model.n_clusters=3",
        "model.kmeans_n_init=1",
        "trainer.max_epochs=2",
        "datamodule.batch_size=64",
    )
    assert metrics["val/kl"] > 0  # refinement ran, from the broadcast centroids
    assert len(pd.read_parquet(tmp_path / "run" / "embeddings" / "idec.parquet")) == 300


@pytest.mark.slow
def test_two_tower_trains_under_ddp(tmp_path, synthetic_csv):
    metrics = _train(
        tmp_path,
        synthetic_csv,
        "model=two_tower",
        "data.user_column=playlist_id",
        "model.n_negatives=64",
        "model.pooling=mean",
        "model.eval_every=1",
        "trainer.max_epochs=1",
        "datamodule.batch_size=4",
        "optimized_metric=val/recall@100",
    )
    assert 0 <= metrics["val/recall@100"] <= 1 and metrics["n_tracks"] == 300
