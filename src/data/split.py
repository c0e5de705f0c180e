"""Playlist-continuation split of docs/evaluation.md: per playlist, hold out max(1, floor(0.2·n)) tracks as test.

Validation is carved out of train the same way (never from test). Same seed → same split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def hold_out(pairs: pd.DataFrame, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of held-out rows; playlists in sorted id order, tracks chosen uniformly."""
    mask = np.zeros(len(pairs), dtype=bool)
    positions = pairs.reset_index(drop=True).groupby("user_id", sort=True).indices
    for user in sorted(positions):
        rows = positions[user]
        n_out = max(1, int(np.floor(fraction * len(rows))))
        mask[rng.choice(rows, size=n_out, replace=False)] = True
    return mask


def split_interactions(
    interactions: pd.DataFrame, seed: int = 0, test_fraction: float = 0.2, val_fraction: float = 0.2
) -> pd.DataFrame:
    """Unique (user_id, track_id) pairs with a `part` column: train / val / test.

    Playlists with a single track keep it in test (max(1, ·) as in the protocol); validation is only carved
    from playlists that still have ≥ 2 train tracks.
    """
    pairs = (
        interactions[["user_id", "track_id"]]
        .drop_duplicates()
        .sort_values(["user_id", "track_id"], kind="stable")
        .reset_index(drop=True)
    )
    rng = np.random.default_rng(seed)
    test = hold_out(pairs, test_fraction, rng)
    part = np.where(test, "test", "train").astype(object)
    train_idx = np.flatnonzero(~test)
    train = pairs.iloc[train_idx]
    sizes = train.groupby("user_id")["track_id"].transform("size").to_numpy()
    eligible = train_idx[sizes >= 2]
    if len(eligible):
        val = hold_out(pairs.iloc[eligible], val_fraction, rng)
        part[eligible[val]] = "val"
    pairs["part"] = part
    return pairs


def cold_tracks(split: pd.DataFrame) -> set[str]:
    """Test tracks that never occur in train (only content can place them)."""
    train = set(split.loc[split["part"] == "train", "track_id"])
    return set(split.loc[split["part"] == "test", "track_id"]) - train
