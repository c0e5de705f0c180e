"""One recording per published playlist: later versions of a song already in the playlist are left out.

The generated playlists can hold a song twice under different track ids (album and single, remaster, radio
edit). Publishing keeps the first one, in playlist order, and says how many were left out. Song identity is
`src.data.songs` (normalised primary artist + title without version qualifiers), computed from the run's own
track table: `playlists/playlists.csv` (every pipeline run writes it, with `name` and `artist` per track) or a
table given explicitly (e.g. the collected `tracks.parquet`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from src.data.errors import DataError
from src.data.songs import song_keys
from src.data.sources import read_csv_table, read_parquet_table
from src.spotify.run_exports import export_dir

log = logging.getLogger(__name__)


def read_track_names(path: str | Path) -> pd.DataFrame:
    """`track_id`, `name`, `artist` (one row per track) from a CSV or parquet track table."""
    path = Path(path)
    frame = read_parquet_table(path) if path.suffix == ".parquet" else read_csv_table(path)
    missing = [c for c in ("track_id", "name", "artist") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: no {', '.join(missing)} column(s); a track table with track_id, name and artist is needed "
            "to find versions of the same song"
        )
    frame = frame[["track_id", "name", "artist"]].dropna(subset=["track_id"])
    frame["track_id"] = frame["track_id"].astype(str)
    return frame.drop_duplicates("track_id").reset_index(drop=True)


def song_key_map(tracks: pd.DataFrame) -> dict[str, str]:
    """track_id → song key."""
    return dict(zip(tracks["track_id"].astype(str), song_keys(tracks), strict=True))


def load_song_keys(run_dir: str | Path, tracks: str | Path | None = None) -> dict[str, str]:
    """Song keys from `tracks` if given, else from the run's `playlists/playlists.csv` (`mixes/` for mixes); empty (with a warning)
    when the run has no usable such table, so publishing still works, without the version check."""
    if tracks:
        return song_key_map(read_track_names(tracks))  # asked for explicitly: a bad table is an error
    path = export_dir(run_dir) / "playlists.csv"
    try:
        return song_key_map(read_track_names(path))
    except DataError as exc:
        log.warning(
            "versions of the same song cannot be recognised (%s); give tracks=FILE (a table with track_id, name, "
            "artist) to check them",
            exc,
        )
        return {}


def first_per_song(track_ids: Sequence[str], key_of: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(kept, dropped): each song's first track id in order; a track without a key is its own song."""
    seen: set[str] = set()
    kept: list[str] = []
    dropped: list[str] = []
    for tid in track_ids:
        key = key_of.get(str(tid), f"id:{tid}")
        if key in seen:
            dropped.append(tid)
        else:
            seen.add(key)
            kept.append(tid)
    return kept, dropped
