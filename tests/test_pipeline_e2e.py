"""End-to-end: scripts/pipeline.py and scripts/cluster.py on small data in a temp dir, every artifact checked."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import ROOT, TINY, run_script
from src.tasks.check_metrics import load_expected


def _check_run(run_dir, n_tracks: int) -> dict:
    assert (run_dir / "report.html").stat().st_size > 10_000
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert all(isinstance(v, int | float) for v in metrics.values())
    clusters = pd.read_parquet(run_dir / "clusters.parquet")
    assert list(clusters.columns) == ["track_id", "cluster", "subcluster", "distance"]
    assert len(clusters) == n_tracks and clusters["track_id"].is_unique
    assert clusters["cluster"].nunique() == metrics["k"]
    for name in ("elbow", "centroid_heatmap", "cluster_distances", "map", "cluster_sizes", "transitions"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 5_000, name
    playlists = json.loads((run_dir / "playlists" / "playlists.json").read_text())
    assert len(playlists) == metrics["n_playlists"] >= metrics["k"]
    assert len(list((run_dir / "playlists").glob("*.m3u8"))) == len(playlists)
    assert not pd.read_csv(run_dir / "playlists" / "playlists.csv").empty
    emb = pd.read_parquet(run_dir / "embeddings" / "raw.parquet")
    assert len(emb) == n_tracks and (run_dir / "embeddings" / "raw.faiss").exists()
    assert (run_dir / "features.joblib").exists() and (run_dir / "data_report.json").exists()
    assert not list(run_dir.rglob(".*.tmp")) and not [
        p for p in run_dir.rglob(".*") if p.name.startswith(".metrics")
    ]
    return metrics


def test_pipeline_on_bundled_sample(tmp_path, bundled_sample):
    run_dir = tmp_path / "run"
    result = run_script(
        "pipeline.py", *TINY, "data=bundled", f"data.path={bundled_sample}", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"report: {run_dir}" in result.stdout
    n_tracks = pd.read_csv(bundled_sample)["track_id"].nunique()
    metrics = _check_run(run_dir, n_tracks)
    for key in (
        "nmi_genre",
        "ari_genre",
        "nmi_subgenre",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "stability_ari",
        "coplaylist_lift",
        "heldout_lift",
        f"coplaylist_lift@{metrics['k']}",
        "nmi_genre@k3",
        "coplaylist_lift@3",
        "transition_tempo_bpm_before",
        "transition_tempo_bpm_after",
        "transition_camelot_after",
        "duplicate_versions_skipped",
    ):
        assert key in metrics, key
    assert metrics["duplicate_song_rate"] == 0.0  # one version per song in every playlist
    assert metrics["transition_tempo_bpm_after"] < metrics["transition_tempo_bpm_before"]
    assert (run_dir / "split.parquet").exists()
    assert "Traceback" not in result.stderr


def test_same_seed_gives_identical_outputs(tmp_path, synthetic_csv):
    outs = []
    for name in ("a", "b"):
        run_dir = tmp_path / name
        result = run_script(
            "pipeline.py",
            *TINY,
            "data=csv",
            f"data.path={synthetic_csv}",
            "cluster.k=3",
            "playlists.target_minutes=20",
            f"hydra.run.dir={run_dir}",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outs.append(run_dir)
    a, b = outs
    assert (a / "clusters.parquet").read_bytes() == (b / "clusters.parquet").read_bytes()
    for path in sorted((a / "playlists").iterdir()):
        assert path.read_bytes() == (b / "playlists" / path.name).read_bytes(), path.name
    metrics = json.loads((a / "metrics.json").read_text())
    assert metrics["k"] == 3 and "duration_error" in metrics and metrics["duration_error"] < 0.2
    assert not (a / "figures" / "elbow.png").exists()  # k fixed: no elbow curve


def test_csv_without_ids_and_named_labels(tmp_path, synthetic_csv):
    frame = (
        pd.read_csv(synthetic_csv)
        .drop(columns=["track_id"])
        .assign(instance_id=lambda f: range(100, 100 + len(f)))
    )
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "run"
    result = run_script(
        "cluster.py",
        *[o for o in TINY if not o.startswith("playlists")],
        "data=csv",
        f"data.path={path}",
        "data.id_column=instance_id",
        "data.label_columns=[playlist_genre]",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    clusters = pd.read_parquet(run_dir / "clusters.parquet")
    assert clusters["track_id"].iloc[0] == "100"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["nmi_playlist_genre"] > 0.5  # three well-separated styles
    assert not (run_dir / "report.html").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("danceability,energy,tempo\n0.1,0.2,120\n", "missing required column(s) 'key'"),
        ("", "the file is empty"),
        (b"PK\x03\x04\x00\x00binary", "not a text table"),
    ],
)
def test_bad_input_exits_with_message(tmp_path, content, expected):
    path = tmp_path / "input.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    earlier = tmp_path / "run"
    earlier.mkdir()
    (earlier / "metrics.json").write_text('{"kept": 1}')
    result = run_script("pipeline.py", *TINY, "data=csv", f"data.path={path}", f"hydra.run.dir={earlier}")
    assert result.returncode == 2
    assert expected in result.stderr and "input.csv" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert json.loads((earlier / "metrics.json").read_text()) == {"kept": 1}


@pytest.mark.slow
def test_raw_baseline_reproduces_reference_k6(tmp_path):
    """docs/evaluation.md: raw features, z-scored, sklearn KMeans n_init=10 seed 0, k=6 → the reference row,
    read from benchmarks/expected_metrics.json (the one copy of the expected numbers)."""
    run_dir = tmp_path / "k6"
    result = run_script(
        "cluster.py",
        "logger=none",
        "progress=false",
        "embedding=raw",
        "cluster.k=6",
        "cluster.recluster.enabled=false",
        "evaluation.fixed_k=[]",
        "evaluation.stability_seeds=0",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    expected = load_expected(ROOT / "benchmarks" / "expected_metrics.json")["baseline_raw"]
    for ours, theirs in (("nmi_genre", "nmi_genre@k6"), ("coplaylist_lift@6", "coplaylist_lift@6")):
        assert abs(metrics[ours] - expected[theirs]["value"]) <= expected[theirs]["tol"], ours
    assert metrics["n_tracks"] == 28_356


def test_missing_mandatory_path_is_named(tmp_path):
    result = run_script("pipeline.py", "data=csv", "logger=none", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2 and "'data.path' must be set" in result.stderr
