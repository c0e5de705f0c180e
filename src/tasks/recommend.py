"""Playlist continuation with a saved two-tower model (behind `scripts/recommend.py`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from src.data.errors import DataError
from src.data.sources import Catalog
from src.recsys.base import Recommender, as_history
from src.recsys.baselines import EmbeddingRecommender
from src.recsys.two_tower import TwoTowerRecommender
from src.tasks.artifacts import available_models, load_reranker
from src.tasks.embed.two_tower import load_two_tower

log = logging.getLogger(__name__)


def seed_tracks(catalog: Catalog, tracks: Sequence[str], user: str | None, n_seed: int | None) -> list[str]:
    """The playlist to continue: explicit track ids, or a user's tracks (first `n_seed` by id)."""
    if tracks and user is not None:
        raise DataError("give either tracks=[...] or user=ID, not both")
    if user is not None:
        held = catalog.interactions.loc[catalog.interactions["user_id"].astype(str) == str(user), "track_id"]
        if held.empty:
            raise DataError(
                f"user/playlist {user!r} not found in the interactions "
                f"(e.g. {catalog.interactions['user_id'].iloc[0]!r})"
            )
        ids = sorted(held.astype(str).unique())
        return ids[:n_seed] if n_seed else ids
    if not tracks:
        raise DataError("nothing to continue: give tracks=[ID,...] or user=ID")
    return [str(t) for t in tracks]


def run_recommender(
    run_dir: str | Path,
    tracks: pd.DataFrame,
    vectors: np.ndarray | None = None,
    model_name: str = "two_tower",
    space: str = "embedding",
) -> tuple[Recommender, str]:
    """The recommender a run saved and its label: the re-ranker (hybrid) when the run has one, else its
    two-tower; a run with neither recommends the nearest tracks in its embedding (`vectors`, when given)."""
    if vectors is not None and model_name not in available_models(Path(run_dir)):
        return EmbeddingRecommender(vectors, name=space), f"nearest tracks in '{space}'"
    module, _ = load_two_tower(run_dir, model_name)
    if len(tracks) != module.hparams.n_items:
        raise DataError(
            f"{run_dir}: the model was trained on {module.hparams.n_items} tracks but the catalogue "
            f"has {len(tracks)}; pass the same data=... as the run"
        )
    model = load_reranker(run_dir, model_name, module)
    if model is not None:
        return model, "hybrid"
    return TwoTowerRecommender.from_module(module, name=model_name), model_name


def continue_playlist(
    run_dir: str | Path,
    tracks: pd.DataFrame,
    seeds: Sequence[str],
    n: int = 20,
    model_name: str = "two_tower",
) -> pd.DataFrame:
    """Top-`n` tracks (not already in the playlist) for the playlist `seeds`, with names and scores.

    Uses the run's saved re-ranker (two-tower + collaborative + heuristic candidates, `models/<name>_reranker`)
    when the run has one, else the two-tower alone; the `model` column says which.
    """
    index = pd.Index(tracks["track_id"].astype(str))
    pos = index.get_indexer(list(seeds))
    unknown = [s for s, p in zip(seeds, pos, strict=True) if p < 0]
    if unknown:
        raise DataError(f"track id(s) not in the catalogue: {', '.join(unknown[:5])}")
    model, used = run_recommender(run_dir, tracks, model_name=model_name)
    history = as_history(pos, len(index))
    top, vals = model.recommend_batch(history, n)
    keep = top[0] >= 0
    top, vals = top[:, keep], vals[:, keep]
    chosen = tracks.iloc[top[0]]
    log.info("%d recommendations from %s", len(top[0]), used)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(top[0]) + 1),
            "model": used,
            "track_id": chosen["track_id"].astype(str).to_numpy(),
            "name": chosen.get("name", pd.Series([None] * len(chosen))).to_numpy(),
            "artist": chosen.get("artist", pd.Series([None] * len(chosen))).to_numpy(),
            "score": np.round(vals[0], 5),
        }
    )
