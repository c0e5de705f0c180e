"""'More like this' playlists: nearest neighbours of a seed track in the clustered space (FAISS)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.embeddings.store import build_index
from src.playlists.build import Playlist, make_playlist


def default_seeds(tracks: pd.DataFrame, n: int) -> list[str]:
    """The `n` most popular tracks (ties by id), when the user named no seed."""
    if n <= 0:
        return []
    pop = pd.to_numeric(tracks.get("popularity"), errors="coerce") if "popularity" in tracks else None
    frame = tracks.assign(_p=pop.fillna(-1) if pop is not None else 0)
    return (
        frame.sort_values(["_p", "track_id"], ascending=[False, True])["track_id"]
        .head(n)
        .astype(str)
        .tolist()
    )


def seeded_playlists(
    tracks: pd.DataFrame,
    X: np.ndarray,
    seeds: list[str],
    size: int = 25,
    order: bool = True,
    index=None,
) -> list[Playlist]:
    """For each seed track id: the seed plus its `size - 1` nearest tracks, ordered for listening."""
    if not seeds:
        return []
    ids = tracks["track_id"].astype(str).to_numpy()
    position = {t: i for i, t in enumerate(ids)}
    unknown = [s for s in seeds if s not in position]
    if unknown:
        raise KeyError(f"seed track(s) not in the catalogue: {', '.join(unknown)}")
    index = index or build_index(X)
    queries = np.ascontiguousarray(X[[position[s] for s in seeds]], dtype=np.float32)
    _, neighbours = index.search(queries, min(size + 1, len(ids)))
    out = []
    for seed, row in zip(seeds, neighbours, strict=True):
        picked = [position[seed]] + [int(i) for i in row if i >= 0 and int(i) != position[seed]][: size - 1]
        chosen = tracks.iloc[picked]
        first = tracks.iloc[position[seed]]
        title = f"{first.get('name', seed)} — {first.get('artist', '')}".strip(" —")
        out.append(
            make_playlist(
                chosen, f"seed-{seed}", f"More like {title}", "seeded", f"Seed track {seed}", order=order
            )
        )
    return out
