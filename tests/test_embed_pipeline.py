"""scripts/pipeline.py with learned embeddings: train-in-run with the raw/AE/IDEC comparison, then load a
trained run (embedding.checkpoint=RUN_DIR) and embed new tracks from a pipeline run dir."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_tracks
from helpers import TINY, run_script, run_tiny_pipeline
from src.tasks.embed.cold_start import embed_tracks, resolve_model_name

TINY_AE = ["embedding.trainer.max_epochs=3", "embedding.model.pretrain_epochs=1", "embedding.batch_size=128"]


@pytest.mark.slow
def test_pipeline_autoencoder_with_comparison(tmp_path, bundled_sample):
    run_dir = tmp_path / "run"
    run_tiny_pipeline(
        run_dir,
        bundled_sample,
        "embedding=idec",
        *TINY_AE,
        "evaluation.compare_embeddings=[raw,autoencoder,idec,scarf]",  # scarf: the contrastive objective
    )
    n_tracks = pd.read_csv(bundled_sample)["track_id"].nunique()
    for name in ("raw", "autoencoder", "idec", "scarf"):
        emb = pd.read_parquet(run_dir / "embeddings" / f"{name}.parquet")
        assert len(emb) == n_tracks and (run_dir / "embeddings" / f"{name}.faiss").exists(), name
    assert len(emb["vector"].iloc[0]) == 8
    for name in ("autoencoder", "idec"):
        manifest = json.loads((run_dir / "models" / f"{name}.json").read_text())
        assert (run_dir / manifest["checkpoint"]).is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for name in ("raw", "autoencoder", "idec", "scarf"):
        for key in (
            "nmi_genre@k3",
            "ari_genre@k3",
            "nmi_subgenre@k3",
            "silhouette@k3",
            "stability_ari@k3",
            "coplaylist_lift@3",
            "heldout_lift@3",
        ):
            assert np.isfinite(metrics[f"{name}/{key}"]), f"{name}/{key}"
    assert metrics["idec/epochs"] == 3 and "idec/val/recon" in metrics  # training metrics of the run's model
    assert json.loads((run_dir / "models" / "autoencoder.json").read_text())["metrics"]["epochs"] == 3
    table = pd.read_csv(run_dir / "embedding_comparison.csv")
    assert list(table["embedding"]) == ["raw", "autoencoder", "idec", "scarf"]
    scarf = json.loads((run_dir / "models" / "scarf.json").read_text())["metrics"]
    assert scarf["epochs"] == 3 and np.isfinite(scarf["val/loss"])
    assert table.loc[0, "nmi_genre@k3"] == pytest.approx(metrics["raw/nmi_genre@k3"])
    assert "Embeddings compared" in (run_dir / "report.html").read_text()
    clusters = pd.read_parquet(run_dir / "clusters.parquet")  # the pipeline clustered the IDEC space
    assert len(clusters) == n_tracks

    # embed.py on a pipeline run: the run's own embedding by default, any other by name
    assert resolve_model_name(run_dir) == "idec"
    new = synthetic_tracks(n=6).rename(columns={"track_name": "name"})
    # the default autoencoder is a five-member ensemble: 5 × 8 dims, new tracks embedded like the run's
    assert embed_tracks(run_dir, new, model_name="autoencoder").vectors.shape == (6, 40)


def test_pipeline_loads_a_trained_run(tmp_path, synthetic_csv):
    train_dir = tmp_path / "train"
    trained = run_script(
        "train.py",
        "logger=none",
        "progress=false",
        "data=csv",
        f"data.path={synthetic_csv}",
        "trainer.max_epochs=2",
        "model.bottleneck=5",
        f"hydra.run.dir={train_dir}",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = tmp_path / "run"
    result = run_script(
        "pipeline.py",
        *TINY,
        "data=csv",
        f"data.path={synthetic_csv}",
        "cluster.k=3",
        "embedding=autoencoder",
        f"embedding.checkpoint={train_dir}",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = pd.read_parquet(run_dir / "embeddings" / "autoencoder.parquet")
    original = pd.read_parquet(train_dir / "embeddings" / "autoencoder.parquet")
    assert list(loaded["track_id"]) == list(original["track_id"])
    np.testing.assert_allclose(np.stack(loaded["vector"]), np.stack(original["vector"]), atol=1e-5)
    assert not (run_dir / "checkpoints" / "autoencoder" / "last.ckpt").exists()  # loaded, not retrained
    assert resolve_model_name(run_dir) == "autoencoder"  # the copy makes the pipeline run self-contained
