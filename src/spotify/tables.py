"""Collected Spotify objects → the canonical tables (`tracks`, the catalogue, `interactions`), typed.

Numbers are stored as numbers: a features CSV is read as text and the API leaves gaps (`None`), so without an
explicit cast `tracks.parquet` would hold strings or objects and every reader would have to parse them again.
Continuous audio features are float64; counts and codes (key, mode, time signature, duration, popularity,
release year) are nullable Int64 so a missing value stays missing instead of turning the column into floats.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from src.data.clean import parse_key, parse_mode
from src.data.schema import AUDIO_FEATURES, OPTIONAL_AUDIO_FEATURES

if TYPE_CHECKING:
    from src.spotify.collect import Collection

INT_COLUMNS = ("release_year", "popularity", "duration_ms", "key", "mode", "time_signature")
FLOAT_COLUMNS = tuple(c for c in AUDIO_FEATURES if c not in INT_COLUMNS)


def _release_year(album: dict[str, Any]) -> float:
    match = re.match(r"^(\d{4})", str(album.get("release_date") or ""))
    return float(match.group(1)) if match else np.nan


def numeric_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast the numeric columns present: floats to float64, codes and counts to Int64 (text → number or NA)."""
    out = frame.copy()
    for column in FLOAT_COLUMNS:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in INT_COLUMNS:
        if column not in out:
            continue
        parse = {"key": parse_key, "mode": parse_mode}.get(column)
        values = (
            out[column].map(parse).astype("float64")
            if parse
            else pd.to_numeric(out[column], errors="coerce").astype("float64")
        )
        out[column] = values.round().astype("Int64")
    return out


def tracks_table(collection: Collection, features: dict[str, dict[str, Any]] | None) -> pd.DataFrame:
    """Canonical `tracks` (one row per track) with metadata, plus the audio features we have."""
    rows = []
    for tid, track in collection.tracks.items():
        album = track.get("album") or {}
        row: dict[str, Any] = {
            "track_id": tid,
            "name": track.get("name"),
            "artist": ", ".join(a.get("name", "") for a in track.get("artists") or [] if a.get("name"))
            or None,
            "album": album.get("name"),
            "release_year": _release_year(album),
            "popularity": track.get("popularity", np.nan),  # removed for development-mode apps (Feb 2026)
            "duration_ms": track.get("duration_ms", np.nan),
        }
        if features is not None:
            found = features.get(tid) or {}
            for column in (*AUDIO_FEATURES, *OPTIONAL_AUDIO_FEATURES):
                if column != "duration_ms":
                    row[column] = found.get(column, np.nan)
        rows.append(row)
    return numeric_columns(pd.DataFrame(rows))


def catalogue_table(tracks: pd.DataFrame, collection: Collection) -> pd.DataFrame:
    """One row per playlist entry (tracks in no playlist once, with an empty playlist_id): the shape
    `python scripts/pipeline.py data=csv data.user_column=playlist_id` reads, like the bundled catalogue."""
    entries = pd.DataFrame(
        collection.entries, columns=["playlist_id", "playlist_name", "position", "track_id"]
    )
    loose = tracks.loc[~tracks["track_id"].isin(entries["track_id"]), ["track_id"]]
    frame = pd.concat([entries, loose], ignore_index=True)
    frame["position"] = frame["position"].astype("Int64")
    return frame.merge(tracks, on="track_id", how="left")[
        [*tracks.columns, "playlist_id", "playlist_name", "position"]
    ]


def interactions_table(collection: Collection) -> pd.DataFrame:
    """Canonical `interactions`: (playlist as user_id, track_id, weight 1)."""
    pairs = pd.DataFrame([(p, t) for p, _, _, t in collection.entries], columns=["user_id", "track_id"])
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs["weight"] = np.float32(1.0)
    return pairs
