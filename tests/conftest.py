"""Shared fixtures: small catalogues in the canonical and the messy CSV shapes, and the GPU skip marker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PROJECT_ROOT", str(ROOT))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

BUNDLED = ROOT / "data" / "spotify_songs.csv.gz"


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (none on this machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def synthetic_tracks(n: int = 300, seed: int = 0, n_users: int = 12) -> pd.DataFrame:
    """A playlist-style table (one row per playlist entry) with 3 well-separated musical styles."""
    rng = np.random.default_rng(seed)
    style = rng.integers(0, 3, n)
    centre = np.array([[0.8, 0.9, 0.05, 120.0], [0.3, 0.2, 0.9, 80.0], [0.6, 0.6, 0.3, 100.0]])[style]
    frame = pd.DataFrame(
        {
            "track_id": [f"t{i:04d}" for i in range(n)],
            "track_name": [f"Song {i}" for i in range(n)],
            "track_artist": [f"Artist {i % 40}" for i in range(n)],
            "track_popularity": rng.integers(0, 100, n),
            "track_album_name": [f"Album {i % 60}" for i in range(n)],
            "track_album_release_date": [f"{1970 + i % 50}-01-01" for i in range(n)],
            "playlist_id": [f"p{(i * 7 + s) % n_users:02d}" for i, s in enumerate(style)],
            "playlist_genre": np.array(["edm", "jazz", "pop"])[style],
            "playlist_subgenre": np.array(["house", "cool", "dance"])[style],
            "danceability": np.clip(centre[:, 0] + rng.normal(0, 0.05, n), 0, 1),
            "energy": np.clip(centre[:, 1] + rng.normal(0, 0.05, n), 0, 1),
            "key": rng.integers(0, 12, n),
            "loudness": rng.normal(-8, 2, n),
            "mode": rng.integers(0, 2, n),
            "speechiness": rng.uniform(0.02, 0.2, n),
            "acousticness": np.clip(centre[:, 2] + rng.normal(0, 0.05, n), 0, 1),
            "instrumentalness": rng.uniform(0, 0.5, n),
            "liveness": rng.uniform(0.05, 0.4, n),
            "valence": rng.uniform(0, 1, n),
            "tempo": centre[:, 3] + rng.normal(0, 5, n),
            "duration_ms": rng.integers(120_000, 300_000, n),
        }
    )
    return frame


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tracks.csv"
    synthetic_tracks().to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def bundled_sample(tmp_path_factory) -> Path:
    """The first 1,500 rows of the bundled catalogue as a CSV (real data, small enough for fast tests)."""
    path = tmp_path_factory.mktemp("data") / "sample.csv"
    pd.read_csv(BUNDLED, nrows=1500).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def bundled_tracks() -> pd.DataFrame:
    """The whole bundled catalogue, one row per track, canonical column names (loaded once per session)."""
    from src.data.sources import TableSource

    return TableSource(str(BUNDLED)).load().tracks


@pytest.fixture(scope="session")
def playlists_csv(tmp_path_factory) -> Path:
    """300 synthetic tracks in 12 playlists (genre × 4) as a CSV: the end-to-end tests' playlist collection."""
    frame = synthetic_tracks(n=300)
    frame["playlist_id"] = frame["playlist_genre"] + "-" + (frame.index % 4).astype(str)
    path = tmp_path_factory.mktemp("playlists") / "tracks.csv"
    frame.to_csv(path, index=False)
    return path


# Two-tower settings small enough for end-to-end tests (3 epochs, validated every epoch).
TT_FAST = [
    "embedding.max_epochs=3",
    "embedding.model.n_negatives=64",
    "embedding.model.eval_every=1",
    "embedding.datamodule.batch_size=4",
]


@pytest.fixture(scope="session")
def two_tower_run(tmp_path_factory, playlists_csv) -> Path:
    """One `scripts/pipeline.py embedding=two_tower` run on `playlists_csv` (it also saves the hybrid), trained
    once and read by every test that needs a trained run (recommend, embed, mixes)."""
    from helpers import TINY, run_script

    run = tmp_path_factory.mktemp("two_tower") / "run"
    result = run_script(
        "pipeline.py",
        *TINY,
        "data=csv",
        f"data.path={playlists_csv}",
        "data.user_column=playlist_id",
        "data.label_columns=[playlist_genre]",
        "embedding=two_tower",
        "cluster.k=3",
        *TT_FAST,
        f"hydra.run.dir={run}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run
