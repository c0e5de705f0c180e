"""Spotify Million Playlist Dataset slices (`mpd.slice.*.json`) → canonical tables; playlist = user.

The official format: `{"info": {...}, "playlists": [{"pid", "name", "tracks": [{"track_uri", "artist_name",
"track_name", "album_name", "album_uri", "duration_ms", "pos", ...}]}]}`. The slices carry no audio features;
an optional features table (any CSV/parquet the CSV source accepts, keyed by track id) fills them in. Tracks
without audio features keep NaN there (and `has_audio = 0`) but still get their id, artist and album, which is
what the two-tower item tower reads.
"""

from __future__ import annotations

import glob
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from src.data.errors import DataError
from src.data.report import DataReport
from src.data.schema import AUDIO_FEATURES, TRACK_COLUMNS
from src.data.sources import Catalog, CsvSource, ParquetSource, isin

log = logging.getLogger(__name__)

_TRACK_FIELDS = {
    "track_name": "name",
    "artist_name": "artist",
    "album_name": "album",
    "duration_ms": "duration_ms",
}


def _strip_uri(uri: object) -> str | None:
    if not isinstance(uri, str) or not uri.strip():
        return None
    return uri.strip().rsplit(":", 1)[-1]


def _index_of(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in a unique index, -1 where absent (hashing Python objects, as `isin`)."""
    return pd.Index(index.to_numpy(dtype=object), dtype=object).get_indexer(values.to_numpy(dtype=object))


def _slice_paths(path: str | Sequence[str]) -> list[Path]:
    patterns = [path] if isinstance(path, str | Path) else list(path)
    found: list[Path] = []
    for pattern in patterns:
        pattern = str(pattern)
        if Path(pattern).is_dir():
            found += sorted(Path(pattern).glob("mpd.slice.*.json"))
        else:
            matches = sorted(glob.glob(pattern))
            if not matches:
                raise DataError(f"{pattern}: no MPD slice file found")
            found += [Path(m) for m in matches]
    if not found:
        raise DataError(f"{path}: no mpd.slice.*.json files in this folder")
    return found


def read_slice(path: Path) -> list[dict]:
    """The playlists of one slice; a file that is not an MPD slice raises DataError naming it."""
    try:
        with path.open(encoding="utf-8") as handle:
            doc = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a JSON file ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("playlists"), list):
        raise DataError(f"{path}: not an MPD slice (expected an object with a 'playlists' list)")
    return doc["playlists"]


@dataclass
class MPDSource:
    """Read MPD slices (a file, a glob, a folder or a list of them).

    Args:
        path: slice file(s): `mpd.slice.0-999.json`, `data/mpd.slice.*.json` or a folder holding them.
        features_path: optional table of audio features keyed by track id (`.csv`, `.csv.gz` or `.parquet`).
        min_tracks: playlists with fewer (unique, usable) tracks are skipped.
    """

    path: str | list[str]
    features_path: str | None = None
    min_tracks: int = 2

    def load(self) -> Catalog:
        paths = _slice_paths(self.path)
        report = DataReport(source=", ".join(map(str, paths[:3])) + (" …" if len(paths) > 3 else ""))
        # One list per column, not one dict per row (docs/scale.md: loading 0.5M rows).
        users: list[str] = []
        uris: list[object] = []
        fields: dict[str, list[object]] = {field: [] for field in _TRACK_FIELDS}
        for path in paths:
            for playlist in read_slice(path):
                pid = playlist.get("pid")
                tracks = playlist.get("tracks") or []
                if pid is None:
                    raise DataError(f"{path}: a playlist has no 'pid'")
                uris += [entry.get("track_uri") for entry in tracks]
                for field, values in fields.items():
                    values += [entry.get(field) for entry in tracks]
                users += [f"mpd-{pid}"] * len(tracks)
        report.rows_read = len(uris)
        track_ids = [_strip_uri(uri) for uri in uris]
        keep = [i for i, track_id in enumerate(track_ids) if track_id is not None]
        report.drop("MPD track without track_uri", len(track_ids) - len(keep))
        if len(keep) < len(track_ids):
            users, track_ids = [users[i] for i in keep], [track_ids[i] for i in keep]
            fields = {field: [values[i] for i in keep] for field, values in fields.items()}
        if not track_ids:
            raise DataError(f"{report.source}: the slices hold no playlist tracks")
        columns = {"user_id": users, "track_id": track_ids}
        columns.update({canon: fields[field] for field, canon in _TRACK_FIELDS.items()})
        frame = pd.DataFrame(columns)
        pairs = frame[["user_id", "track_id"]].drop_duplicates()
        sizes = pairs.groupby("user_id")["track_id"].transform("size")
        short = sizes < self.min_tracks
        report.drop(
            f"playlists with fewer than {self.min_tracks} tracks", int(pairs.loc[short, "user_id"].nunique())
        )
        pairs = pairs.loc[~short]
        interactions = pairs.assign(weight=np.float32(1.0)).reset_index(drop=True)
        tracks = frame.drop(columns="user_id").drop_duplicates("track_id").reset_index(drop=True)
        tracks = tracks[isin(tracks["track_id"], pairs["track_id"])].reset_index(drop=True)
        report.duplicate_rows_merged = len(frame) - len(tracks)
        tracks = self._with_features(tracks, report)
        report.tracks, report.interactions = len(tracks), len(interactions)
        report.log()
        labels = pd.DataFrame({"track_id": pd.Series(dtype="string")})
        return Catalog(tracks=tracks, interactions=interactions, labels=labels, report=report)

    def _with_features(self, tracks: pd.DataFrame, report: DataReport) -> pd.DataFrame:
        tracks["duration_ms"] = pd.to_numeric(tracks["duration_ms"], errors="coerce")
        tracks.loc[tracks["duration_ms"] <= 0, "duration_ms"] = np.nan
        for column in ("release_year", "popularity"):
            tracks[column] = np.nan
        for column in AUDIO_FEATURES:
            if column not in tracks:
                tracks[column] = np.nan
        tracks["has_audio"] = np.int8(0)
        if self.features_path:
            source_cls = ParquetSource if str(self.features_path).endswith(".parquet") else CsvSource
            features = source_cls(path=self.features_path).load().tracks.set_index("track_id")
            # One lookup of every track in the (unique) features index, reused for each column.
            rows = _index_of(features.index, tracks["track_id"])
            known = rows >= 0
            for column in (*AUDIO_FEATURES, "release_year", "popularity"):
                if column in features:
                    tracks.loc[known, column] = features[column].to_numpy()[rows[known]]
            tracks.loc[known, "has_audio"] = np.int8(1)
            report.notes.append(
                f"audio features for {int(known.sum())} of {len(tracks)} tracks from {self.features_path}"
            )
        else:
            report.notes.append(
                "no features_path: MPD tracks have no audio features (id, artist, album only)"
            )
        keep = [c for c in TRACK_COLUMNS if c in tracks] + ["has_audio"]
        return tracks[keep]
