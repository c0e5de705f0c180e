"""End-to-end: evaluate_recsys.py, pipeline.py embedding=two_tower|hybrid, train.py model=two_tower, embed.py and
recommend.py on a small style-pure catalogue, run as subprocesses the way a user runs them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TT_FAST, synthetic_tracks
from helpers import TINY, run_script


def _data(path) -> list[str]:
    return [
        "data=csv",
        f"data.path={path}",
        "data.user_column=playlist_id",
        "data.label_columns=[playlist_genre]",
    ]


def test_evaluate_recsys_prints_one_table(tmp_path, playlists_csv):
    out = tmp_path / "ev"
    result = run_script(
        "evaluate_recsys.py",
        *_data(playlists_csv),
        "models=[random,popularity,item_knn,heuristic]",
        "split_seeds=[0,1]",
        f"hydra.run.dir={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| heuristic | 2 |" in result.stdout and "recall@100_cold" in result.stdout
    runs = pd.read_csv(out / "recsys_runs.csv")
    assert len(runs) == 8 and set(runs["split_seed"]) == {0, 1}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["item_knn/recall@100_cold"] > metrics["popularity/recall@100_cold"] == 0
    bad = run_script(
        "evaluate_recsys.py", *_data(playlists_csv), "models=[nope]", f"hydra.run.dir={tmp_path / 'b'}"
    )
    assert bad.returncode == 2 and "unknown model" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluate_recsys_two_tower_uses_the_embedding_recipe(tmp_path, playlists_csv):
    """The two-tower recommenders train with embedding=two_tower's model, epochs and batching (one recipe)."""
    out = tmp_path / "ev"
    result = run_script(
        "evaluate_recsys.py",
        *_data(playlists_csv),
        "models=[two_tower_id]",
        "split_seeds=[0]",
        "two_tower_recipe.max_epochs=2",
        "two_tower_recipe.model.n_negatives=64",
        "two_tower_recipe.model.eval_every=1",
        "two_tower_recipe.datamodule.batch_size=4",
        f"hydra.run.dir={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| two_tower_id | 1 |" in result.stdout
    runs = pd.read_csv(out / "recsys_runs.csv")
    assert list(runs["model"]) == ["two_tower_id"] and runs["train_seconds"].iloc[0] > 0
    assert not list(tmp_path.glob("**/*.ckpt"))  # evaluation keeps no checkpoints (temporary directory)


@pytest.mark.slow
def test_pipeline_two_tower_then_embed_and_recommend(tmp_path, playlists_csv, two_tower_run):
    run = two_tower_run
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("recall@10", "recall@50", "recall@100", "recall@500", "r_precision", "ndcg@500"):
        assert 0 <= metrics[key] <= 1 and 0 <= metrics[f"{key}_cold"] <= 1
        assert f"two_tower/{key}" in metrics
    assert metrics["two_tower/samples_per_second"] > 0 and "heldout_lift@3" in metrics
    emb = pd.read_parquet(run / "embeddings" / "two_tower.parquet")
    assert len(emb) == 300 and (run / "embeddings" / "two_tower.faiss").exists()
    assert (run / "models" / "two_tower.json").exists()
    assert (run / "models" / "two_tower_reranker.joblib").exists()  # the hybrid, saved with the run

    new = synthetic_tracks(n=5, seed=7).drop(columns=["playlist_id"])
    new["track_id"] = [f"new{i}" for i in range(5)]
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv, index=False)
    out = tmp_path / "new.parquet"
    embed = run_script(
        "embed.py",
        f"model_dir={run}",
        f"input={new_csv}",
        f"output={out}",
        f"hydra.run.dir={tmp_path / 'embed'}",
    )
    assert embed.returncode == 0, embed.stderr[-3000:]
    vectors = pd.read_parquet(out)
    assert (
        list(vectors["track_id"]) == list(new["track_id"])
        and len(vectors["vector"][0]) == emb["vector"][0].size
    )

    rec = run_script(
        "recommend.py",
        f"run_dir={run}",
        *_data(playlists_csv),
        "tracks=[t0000,t0003]",
        "n=7",
        f"hydra.run.dir={tmp_path / 'rec'}",
    )
    assert rec.returncode == 0, rec.stderr[-3000:]
    table = pd.read_csv(tmp_path / "rec" / "recommendations.csv")
    assert len(table) == 7 and not {"t0000", "t0003"} & set(table["track_id"])
    assert table["score"].is_monotonic_decreasing and set(table["model"]) == {"hybrid"}
    user = run_script(
        "recommend.py",
        f"run_dir={run}",
        *_data(playlists_csv),
        "user=edm-0",
        "n_seed_tracks=3",
        "n=4",
        f"hydra.run.dir={tmp_path / 'rec2'}",
    )
    assert user.returncode == 0 and "continuing 3 track(s)" in user.stdout
    bad = run_script(
        "recommend.py",
        f"run_dir={run}",
        *_data(playlists_csv),
        "tracks=[nope]",
        f"hydra.run.dir={tmp_path / 'rec3'}",
    )
    assert bad.returncode == 2 and "not in the catalogue" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_pipeline_hybrid(tmp_path, playlists_csv):
    run = tmp_path / "hy"
    fast = [o.replace("embedding.", "embedding.two_tower.") for o in TT_FAST]
    result = run_script(
        "pipeline.py",
        *TINY,
        *_data(playlists_csv),
        "embedding=hybrid",
        "cluster.k=3",
        *fast,
        "embedding.two_tower.rerank=false",
        "embedding.audio.trainer.max_epochs=2",
        "embedding.two_tower.space=affinity",
        "embedding.two_tower.affinity.dim=4",
        f"hydra.run.dir={run}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    emb = pd.read_parquet(run / "embeddings" / "hybrid.parquet")
    assert len(emb["vector"][0]) == 4 + 8  # playlist-affinity space (SVD to 4) ⊕ autoencoder bottleneck
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        "recall@100" in metrics
        and np.isfinite(metrics["val_lift@3"])
        and np.isfinite(metrics["heldout_lift@3"])
    )


def test_train_script_trains_two_tower(tmp_path, playlists_csv):
    run = tmp_path / "train"
    result = run_script(
        "train.py",
        "model=two_tower",
        *_data(playlists_csv),
        "logger=none",
        "progress=false",
        "trainer.max_epochs=2",
        "model.n_negatives=64",
        "model.eval_every=1",
        "datamodule.batch_size=4",
        "optimized_metric=val/recall@100",
        f"hydra.run.dir={run}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(pd.read_parquet(run / "embeddings" / "two_tower.parquet")) == 300
    assert (run / "split.parquet").exists() and (run / "models" / "two_tower.json").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert "val/loss" in metrics
    # the same "best" as the recommender and the pipeline: the checkpoint kept by val/recall@100
    manifest = json.loads((run / "models" / "two_tower.json").read_text())
    assert manifest["checkpoint"].startswith("checkpoints/epoch_")
    kept = torch.load(run / manifest["checkpoint"], weights_only=False)["callbacks"]
    (state,) = [
        v for k, v in kept.items() if k.startswith("ModelCheckpoint") and v["monitor"]
    ]  # not last.ckpt's
    assert state["monitor"] == "val/recall@100"
    assert metrics["val/recall@100"] == pytest.approx(float(state["best_model_score"]))
    assert f"val/recall@100: {metrics['val/recall@100']:.6g}" in result.stdout
