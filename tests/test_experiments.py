"""Experiments and sweeps: every experiment config composes; a two-job multirun is compared end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from helpers import ROOT, TINY, run_script
from src.report.tables import RunInfo, best_methods, to_markdown
from src.tasks.check_metrics import check_runs
from src.tasks.compare import comparison_markdown, comparison_table
from src.tasks.embed.provenance import learned_from_playlists

EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_config_composes(experiment):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(
            config_name="pipeline", overrides=[f"experiment={experiment}"], return_hydra_config=True
        )
    assert cfg.embedding._target_ and cfg.data._target_
    assert cfg.cluster.k is not None
    # the embeddings trained on playlist membership are the ones whose label metrics are in-sample
    embedding = OmegaConf.to_container(cfg.embedding, resolve=False)
    assert learned_from_playlists(embedding) == (experiment in {"two_tower", "hybrid"})


def _run(method: str, seed: int, **metrics: float) -> RunInfo:
    return RunInfo(Path(f"/{method}/{seed}"), method, seed, metrics)


def test_comparison_table_and_markdown():
    runs = [
        _run("raw", 0, silhouette=0.1, davies_bouldin=2.0),
        _run("raw", 1, silhouette=0.2, davies_bouldin=2.2),
        _run("ae", 0, silhouette=0.3, davies_bouldin=2.5),
    ]
    table = comparison_table(runs, ["silhouette", "davies_bouldin"])
    assert list(table.index) == ["raw", "ae"]
    assert table.loc["raw", ("silhouette", "mean")] == pytest.approx(0.15)
    assert table.loc["raw", ("silhouette", "std")] == pytest.approx(0.0707, abs=1e-3)
    assert best_methods(table) == {"silhouette": "ae", "davies_bouldin": "raw"}
    md = to_markdown(table)
    assert "| raw | 2 | 0.150 ± 0.071 | **2.100 ± 0.141** |" in md
    assert "| ae | 1 | **0.300** | 2.500 |" in md


def test_comparison_reports_held_out_first_and_marks_in_sample_cells():
    runs = [
        _run("raw", 0, **{"nmi_genre@k6": 0.10, "nmi_genre_cold@k6": 0.09, "heldout_lift@24": 2.6}),
        _run("hybrid", 0, **{"nmi_genre@k6": 0.17, "nmi_genre_cold@k6": 0.12, "heldout_lift@24": 7.0}),
    ]
    runs[1].learned_from_playlists = True
    md = comparison_markdown(runs)
    held_out, all_tracks = md.split("All tracks")
    assert "| method | n | heldout_lift@24 | nmi_genre_cold@k6 |" in held_out
    assert "| hybrid | 1 | **7.000** | **0.120** |" in held_out  # held-out values: never flagged
    assert "| raw | 1 | **0.100** |" in all_tracks and "| hybrid | 1 | 0.170 † |" in all_tracks
    assert "† in-sample" in md
    assert "†" not in comparison_markdown(runs[:1])  # no method learned from playlists: nothing to flag


def test_regression_checks():
    runs = [_run("raw", 0, nmi=0.10), _run("raw", 1, nmi=0.12)]
    (ok,) = check_runs(runs, {"raw": {"nmi": {"value": 0.1, "tol": 0.02}}})
    assert ok.ok and ok.observed == pytest.approx(0.11) and ok.n_runs == 2
    bad, missing = check_runs(
        runs, {"raw": {"nmi": {"value": 0.2, "tol": 0.01}, "lift": {"value": 1, "tol": 1}}}
    )
    assert not bad.ok and "FAIL" in bad.line() and not missing.ok and missing.observed is None


@pytest.mark.slow
def test_tiny_multirun_compared_end_to_end(tmp_path, synthetic_csv):
    sweep = tmp_path / "sweep"
    overrides = [o for o in TINY if o != "logger=none"]
    result = run_script(
        "pipeline.py",
        "-m",
        *overrides,
        "experiment=baseline_raw",
        "cluster.k=2",
        "seed=0,1",
        "data=csv",
        f"data.path={synthetic_csv}",
        "data.user_column=playlist_id",
        "evaluation.fixed_k=[2]",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("0", "1"):
        info = json.loads((sweep / job / "wandb_run.json").read_text())
        assert info["group"] == f"pipeline-{sweep.name}" and "baseline_raw" in info["tags"]
        assert info["mode"] == "offline" and list((sweep / job / "wandb").glob("offline-run-*"))
    out = tmp_path / "cmp"
    result = run_script(
        "compare.py",
        f"inputs=[{sweep}]",
        "logger=none",
        f"hydra.run.dir={out}",
        "metrics=[nmi_playlist_genre@k2,coplaylist_lift@2,silhouette]",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| baseline_raw | 2 |" in result.stdout
    csv = pd.read_csv(out / "comparison.csv")
    assert csv["method"].tolist() == ["baseline_raw"] and csv["n_runs"].tolist() == [2]
    assert {"silhouette_mean", "silhouette_std", "coplaylist_lift@2_mean"} <= set(csv.columns)
    assert (out / "comparison.png").stat().st_size > 5_000
    html = (out / "sweep_report.html").read_text()
    assert "Example playlists for the same seed track" in html and "More like" in html
    bad = run_script("compare.py", f"inputs=[{tmp_path / 'nothing'}]", "logger=none", f"hydra.run.dir={out}")
    assert bad.returncode == 2 and "no such run" in bad.stderr


@pytest.mark.slow
def test_reduced_continuous_evaluation(tmp_path):
    """A reduced `make eval`: the raw baseline on the bundled data, seed 0, against the committed expectations."""
    sweep = tmp_path / "eval"
    result = run_script(
        "pipeline.py",
        "-m",
        "experiment=baseline_raw",
        "seed=0",
        "logger=none",
        "progress=false",
        "cluster.recluster.enabled=false",
        "evaluation.stability_seeds=0",
        "evaluation.silhouette_size=10000",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    check = run_script(
        "check_metrics.py",
        f"inputs=[{sweep}]",
        "methods=[baseline_raw]",
        f"hydra.run.dir={tmp_path / 'check'}",
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "all 8 checks passed" in check.stdout
    # a regression is loud: tighten one expectation beyond what the run gives
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"baseline_raw": {"nmi_genre@k6": {"value": 0.2, "tol": 0.01}}}))
    check = run_script(
        "check_metrics.py", f"inputs=[{sweep}]", f"expected={strict}", f"hydra.run.dir={tmp_path / 'check2'}"
    )
    assert check.returncode == 1 and "REGRESSION" in check.stderr and "FAIL" in check.stdout


@pytest.mark.parametrize(
    "search", sorted(p.stem for p in (ROOT / "configs" / "hparams_search").glob("*.yaml"))
)
def test_hparams_search_composes_on_validation_metric(search):
    GlobalHydra.instance().clear()
    overrides = [f"hparams_search={search}"] + (["model=two_tower"] if "two_tower" in search else [])
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    assert cfg.optimized_metric.startswith("val/")  # never a test metric
    assert "optuna" in cfg.hydra.sweeper._target_.lower() and cfg.hydra.sweeper.params


@pytest.mark.slow
def test_optuna_search_runs_trials(tmp_path):
    sweep = tmp_path / "opt"
    result = run_script(
        "train.py",
        "hparams_search=autoencoder_optuna",
        "hydra.sweeper.n_trials=2",
        "trainer.max_epochs=1",
        "logger=none",
        "embed=false",
        "data.sample_users=30",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (sweep / "optimization_results.yaml").exists()
    assert "best_value" in (sweep / "optimization_results.yaml").read_text()
