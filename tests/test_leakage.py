"""Model selection never sees a test membership: altering which playlists hold the test tracks (moving test rows
to other playlists, to new test-only playlists, dropping them, adding new ones) changes neither the affinity space
of `experiment=hybrid` nor any selection metric (`val_lift@k`, the two-tower's `val/recall@100`, the
autoencoder's `val/loss`); the held-out metrics do change."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from conftest import synthetic_tracks
from helpers import ROOT, TINY, run_script
from src.cluster.kmeans import fit_kmeans
from src.data.features import FeatureTransformer
from src.data.sources import Catalog, CsvSource
from src.data.split import split_interactions
from src.evaluation.clustering import fixed_k_scores, lift_metrics
from src.tasks.embed.context import EmbedContext


def alter_test_memberships(split: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The same train and validation rows; the test rows moved to other playlists (existing or new test-only
    ones), partly dropped, plus new test rows for train tracks. No (playlist, track) pair is made twice."""
    rng = np.random.default_rng(seed)
    kept = split[split["part"] != "test"]
    taken = set(zip(kept["user_id"], kept["track_id"], strict=True))
    users = sorted(split["user_id"].unique())
    rows = []

    def add(user: str, track: str) -> None:
        if (user, track) not in taken:
            taken.add((user, track))
            rows.append((user, track))

    test = split[split["part"] == "test"]
    for i, (user, track) in enumerate(zip(test["user_id"], test["track_id"], strict=True)):
        if i % 4 == 0:
            continue  # dropped
        if i % 4 == 1:
            add(f"zz-test-only-{i % 3}", track)  # playlists that exist only in test
        else:
            others = [u for u in users if u != user]
            add(others[int(rng.integers(len(others)))], track)
    for track in rng.choice(kept["track_id"].unique(), 10, replace=False):
        add(users[int(rng.integers(len(users)))], track)  # a train track becomes a test track elsewhere
    moved = pd.DataFrame(rows, columns=["user_id", "track_id"]).assign(part="test")
    return pd.concat([kept, moved], ignore_index=True)


def _interactions(split: pd.DataFrame) -> pd.DataFrame:
    return split[["user_id", "track_id"]].assign(weight=np.float32(1.0)).reset_index(drop=True)


def _selection(scores: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in scores.items() if k.startswith("val_lift@")}


def _random_split(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u:02d}", f"t{t:03d}")
        for u in range(25)
        for t in rng.choice(150, rng.integers(2, 25), replace=False)
    ]
    return split_interactions(pd.DataFrame(rows, columns=["user_id", "track_id"]), seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_metrics_ignore_test_memberships(seed):
    split = _random_split(seed)
    altered = alter_test_memberships(split, seed)
    assert not altered[altered["part"] == "test"].equals(split[split["part"] == "test"])
    ids = np.array([f"t{t:03d}" for t in range(150)])
    rng = np.random.default_rng(seed)
    clusterings = {k: rng.integers(0, k, len(ids)) for k in (3, 6)}
    labels = pd.DataFrame({"track_id": ids, "genre": rng.choice(["a", "b", "c"], len(ids))})
    before = fixed_k_scores(clusterings, ids, labels, _interactions(split), split)
    after = fixed_k_scores(clusterings, ids, labels, _interactions(altered), altered)
    assert _selection(before) and _selection(after) == _selection(before)  # exactly, not approximately
    assert after["heldout_lift@3"] != before["heldout_lift@3"]  # the alteration is visible to test metrics
    # cold = in no training playlist: the cold NMI does not move either
    assert after["nmi_genre_cold@k6"] == before["nmi_genre_cold@k6"]
    clusters = pd.Series(clusterings[3], index=ids)
    assert _selection(lift_metrics(clusters, _interactions(altered), altered, 3)) == _selection(
        lift_metrics(clusters, _interactions(split), split, 3)
    )


@pytest.fixture(scope="module")
def shared_csv(tmp_path_factory):
    """Style-pure playlists; a fifth of the tracks also sit in a second playlist of their style."""
    frame = synthetic_tracks(n=240)
    frame["playlist_id"] = frame["playlist_genre"] + "-" + (frame.index % 4).astype(str)
    again = frame.iloc[::5].copy()
    again["playlist_id"] = again["playlist_genre"] + "-" + ((again.index + 1) % 4).astype(str)
    path = tmp_path_factory.mktemp("leak") / "tracks.csv"
    pd.concat([frame, again]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def shared_catalog(shared_csv) -> Catalog:
    return CsvSource(path=str(shared_csv), user_column="playlist_id").load()


def _hybrid_config(out_dir):
    """`experiment=hybrid`'s embedding (its τ, w_audio, affinity context, re-ranking), on a tiny budget."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(
            config_name="pipeline",
            overrides=[
                "experiment=hybrid",
                "progress=false",
                "logger=none",
                f"paths.output_dir={out_dir}",
                "embedding.two_tower.max_epochs=3",
                "embedding.two_tower.model.n_negatives=64",
                "embedding.two_tower.model.eval_every=1",
                "embedding.two_tower.datamodule.batch_size=4",
                "embedding.two_tower.affinity.dim=4",
                "embedding.audio.trainer.max_epochs=3",
            ],
        )
    assert cfg.embedding.two_tower.space == "affinity" and cfg.embedding.two_tower.affinity.context == "train"
    return cfg


def _best_scores(run_dir) -> dict[str, float]:
    """The monitored value of every checkpoint callback of the saved best checkpoints (epoch selection)."""
    out = {}
    for path in sorted(run_dir.rglob("*.ckpt")):
        state = torch.load(path, map_location="cpu", weights_only=False)
        for key, cb in state.get("callbacks", {}).items():
            if "ModelCheckpoint" in key and cb.get("best_model_score") is not None:
                out[f"{path.relative_to(run_dir)}:{key}"] = float(cb["best_model_score"])
    return out


@pytest.mark.slow
def test_hybrid_affinity_space_ignores_test_memberships(tmp_path, shared_catalog):
    cfg = _hybrid_config(tmp_path)
    catalog = shared_catalog
    split = split_interactions(catalog.interactions, seed=0)
    altered = alter_test_memberships(split, seed=0)
    transformer = FeatureTransformer(instantiate(cfg.features, _convert_="all"))
    X = transformer.fit_transform(catalog.tracks)
    ids = catalog.tracks["track_id"].to_numpy()
    out = {}
    for name, parts in (("original", split), ("altered", altered)):
        cat = Catalog(catalog.tracks, _interactions(parts), catalog.labels, catalog.report)
        run_dir = tmp_path / name
        ctx = EmbedContext(cat, X, transformer, run_dir, seed=0, split=parts)
        embedding = instantiate(cfg.embedding, _convert_="all")(ctx)
        labels = fit_kmeans(embedding.vectors, 3, engine="sklearn", seed=0, n_init=2).labels
        scores = fixed_k_scores({3: labels}, ids, cat.labels, cat.interactions, parts)
        out[name] = (embedding.vectors, scores, ctx.extras, _best_scores(run_dir))
    (v0, s0, e0, best0), (v1, s1, e1, best1) = out["original"], out["altered"]
    assert np.array_equal(v0, v1)  # the clustered space, bit for bit
    assert _selection(s0) == _selection(s1) and np.isfinite(s0["val_lift@3"])
    assert best0 and best0 == best1  # the two-tower's val/recall@100 and the autoencoder's val/loss
    assert e0["training_metrics"] == e1["training_metrics"]
    assert s0["heldout_lift@3"] != s1["heldout_lift@3"]  # the test side did change


@pytest.mark.slow
def test_select_affinity_reads_no_test_row(tmp_path, shared_csv):
    """scripts/select_affinity.py on a tiny experiment=hybrid run: the grid's value at the run's own τ and w_audio
    is the run's val_lift, and the whole grid is unchanged when the run's test rows are altered."""
    run = tmp_path / "hybrid"
    result = run_script(
        "pipeline.py",
        *TINY,
        "data=csv",
        f"data.path={shared_csv}",
        "data.user_column=playlist_id",
        "experiment=hybrid",
        "cluster.k=3",
        "evaluation.fixed_k=[3]",
        "cluster.recluster.enabled=false",
        "embedding.two_tower.max_epochs=3",
        "embedding.two_tower.model.n_negatives=64",
        "embedding.two_tower.model.eval_every=1",
        "embedding.two_tower.datamodule.batch_size=4",
        "embedding.two_tower.rerank=false",
        "embedding.two_tower.affinity.dim=4",
        "embedding.audio.trainer.max_epochs=2",
        f"hydra.run.dir={run}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    altered = tmp_path / "altered"
    shutil.copytree(run, altered)
    split = pd.read_parquet(run / "split.parquet")
    alter_test_memberships(split).to_parquet(altered / "split.parquet")
    grid = ["temperatures=[0.025,0.1]", "w_audio=[0.0,0.5]", "k=3"]
    tables = {}
    for name, run_dir in (("run", run), ("altered", altered)):
        out = tmp_path / f"select-{name}"
        sel = run_script("select_affinity.py", f"run_dir={run_dir}", *grid, f"hydra.run.dir={out}")
        assert sel.returncode == 0, sel.stderr[-3000:]
        assert "Chosen: τ =" in sel.stdout
        tables[name] = pd.read_csv(out / "selection.csv")
    pd.testing.assert_frame_equal(tables["run"], tables["altered"])
    table = tables["run"]
    assert len(table) == 4 and {"temperature", "w_audio", "val_lift@3", "largest_cluster"} <= set(
        table.columns
    )
    own = table[(table["temperature"] == 0.025) & (table["w_audio"] == 0.5)]["val_lift@3"].item()
    metrics = json.loads((run / "metrics.json").read_text())
    assert own == pytest.approx(metrics["val_lift@3"], rel=1e-9)
    choice = json.loads((tmp_path / "select-run" / "selection.json").read_text())
    assert choice["val_lift@3"] == table["val_lift@3"].max() and "no test metric" in choice["rule"]
    bad = run_script("select_affinity.py", f"run_dir={tmp_path}", f"hydra.run.dir={tmp_path / 'bad'}")
    assert bad.returncode == 2 and "not a pipeline run directory" in bad.stderr
