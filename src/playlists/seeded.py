"""'More like this' playlists: nearest neighbours of a seed track in the clustered space (FAISS).

The seed opens its playlist; other versions of the seed's song are left out and the neighbours keep one version
per song, so the search asks FAISS for more neighbours until `size` distinct songs are found.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.data.songs import one_per_song, song_keys
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


def _songs_near(
    tracks: pd.DataFrame, keys: pd.Series, seed_row: int, neighbours: np.ndarray, size: int
) -> tuple[list[int], int]:
    """Row positions of the seed then up to `size - 1` neighbours, one per song; and the versions skipped."""
    rows = [int(i) for i in neighbours if i >= 0 and int(i) != seed_row]
    ranked = tracks.iloc[rows]
    seed_key = keys.iloc[seed_row]
    others = ranked[keys.iloc[rows].to_numpy() != seed_key]
    songs = one_per_song(others, keys)
    chosen = songs.iloc[: size - 1]
    if chosen.empty:
        return [seed_row], len(ranked) - len(others)
    ranked_keys = keys.reindex(ranked.index).to_numpy()
    last = int(np.flatnonzero(ranked_keys == keys[chosen.index[-1]])[0])
    in_head = int(ranked.index[: last + 1].isin(chosen.index).sum())
    positions = tracks.index.get_indexer(chosen.index)
    return [seed_row, *positions.tolist()], last + 1 - in_head


def seeded_playlists(
    tracks: pd.DataFrame,
    X: np.ndarray,
    seeds: list[str],
    size: int = 25,
    order: bool = True,
    index=None,
    keys: pd.Series | None = None,
) -> list[Playlist]:
    """For each seed track id: the seed plus its `size - 1` nearest songs (one version each), ordered.

    `keys` are the song keys of `tracks` (`song_keys`), computed once per run by the caller.
    """
    if not seeds:
        return []
    ids = tracks["track_id"].astype(str).to_numpy()
    position = {t: i for i, t in enumerate(ids)}
    unknown = [s for s in seeds if s not in position]
    if unknown:
        raise KeyError(f"seed track(s) not in the catalogue: {', '.join(unknown)}")
    keys = song_keys(tracks) if keys is None else keys
    index = index or build_index(X)
    queries = np.ascontiguousarray(X[[position[s] for s in seeds]], dtype=np.float32)
    out = []
    for seed, query in zip(seeds, queries, strict=True):
        k = min(2 * size + 1, len(ids))
        while True:  # widen the search until `size` distinct songs are in it (or the catalogue is exhausted)
            _, neighbours = index.search(query[None, :], k)
            picked, skipped = _songs_near(tracks, keys, position[seed], neighbours[0], size)
            if len(picked) >= size or k >= len(ids):
                break
            k = min(4 * k, len(ids))
        chosen = tracks.iloc[picked]
        first = tracks.iloc[position[seed]]
        title = f"{first.get('name', seed)} — {first.get('artist', '')}".strip(" —")
        out.append(
            make_playlist(
                chosen,
                f"seed-{seed}",
                f"More like {title}",
                "seeded",
                f"Seed track {seed}",
                order=order,
                versions_skipped=skipped,
            )
        )
    return out
