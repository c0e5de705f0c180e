"""scripts/train.py end to end: configs compose, a tiny run writes every artifact, resume from a checkpoint,
W&B offline through Lightning, DEC/IDEC with fast_dev_run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from helpers import ROOT, run_script

TINY_TRAIN = ["progress=false", "trainer.max_epochs=2", "datamodule.batch_size=128"]


@pytest.mark.parametrize("model", ["autoencoder", "dec", "idec"])
@pytest.mark.parametrize("trainer", ["default", "cpu", "gpu", "ddp"])
def test_train_config_composes(model, trainer):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(
            config_name="train", overrides=[f"model={model}", f"trainer={trainer}"], return_hydra_config=True
        )
    assert cfg.model._target_.startswith("src.models.")
    assert cfg.trainer._target_ == "lightning.pytorch.trainer.Trainer"
    assert cfg.datamodule.source._target_ == "src.data.sources.CsvSource"  # the data group is the source
    # monitor: null = the model's own metric, filled in when the callbacks are built for a model
    assert cfg.callbacks.model_checkpoint.monitor is None and cfg.optimized_metric == "val/loss"
    if trainer == "ddp":
        assert cfg.trainer.strategy == "ddp"


def test_train_writes_artifacts_then_resumes(tmp_path, bundled_sample):
    run_dir = tmp_path / "run"
    common = [*TINY_TRAIN, f"data.path={bundled_sample}", f"hydra.run.dir={run_dir}"]
    result = run_script("train.py", *common, "logger=wandb")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "val/loss:" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["val/loss"] > 0 and metrics["embedding_dim"] == 8
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    manifest = json.loads((run_dir / "models" / "autoencoder.json").read_text())
    assert (run_dir / manifest["checkpoint"]).exists() and manifest["class"].endswith("AutoencoderModule")
    assert (run_dir / "features.joblib").exists()
    emb = pd.read_parquet(run_dir / "embeddings" / "autoencoder.parquet")
    n_tracks = pd.read_csv(bundled_sample)["track_id"].nunique()
    assert len(emb) == n_tracks == metrics["n_tracks"] and emb["track_id"].is_unique
    assert len(emb["vector"].iloc[0]) == 8
    assert (run_dir / "embeddings" / "autoencoder.faiss").stat().st_size > 0
    assert list((run_dir / "wandb").glob("offline-run-*")), "offline W&B run expected under the run dir"

    resumed = run_script(
        "train.py",
        *common,
        "logger=none",
        "trainer.max_epochs=4",
        f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}",
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stdout + resumed.stderr
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 4


def test_dec_fast_dev_run_saves_final_weights(tmp_path, synthetic_csv):
    model, run_dir = "idec", tmp_path / "run"
    result = run_script(
        "train.py",
        "progress=false",
        "logger=none",
        f"model={model}",
        "data=csv",
        f"data.path={synthetic_csv}",
        "trainer.fast_dev_run=true",
        "model.pretrain_epochs=0",
        "model.n_clusters=3",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((run_dir / "models" / f"{model}.json").read_text())
    assert manifest["checkpoint"] == "checkpoints/final.ckpt" and manifest["class"].endswith("DECModule")
    assert len(pd.read_parquet(run_dir / "embeddings" / f"{model}.parquet")) == 300


def test_train_bad_data_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,energy\nx,0.5\n")
    result = run_script(
        "train.py", "logger=none", "data=csv", f"data.path={bad}", f"hydra.run.dir={tmp_path / 'r'}"
    )
    assert result.returncode == 2
    assert "danceability" in result.stderr and "Traceback" not in result.stderr
