"""Audio features: from the API in batches of ≤ 100 when the app may, else joined from a user's CSV.

Since 27 Nov 2024 Spotify answers 403 on /audio-features (and /audio-analysis, /recommendations) for new
apps and apps in development mode; the fallback joins a CSV of features (e.g. a public Spotify dump) by
`track_id` and reports how many tracks it matched.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import spotipy
from spotipy.exceptions import SpotifyException
from tqdm.auto import tqdm

from src.data.errors import DataError
from src.data.schema import AUDIO_FEATURES, COLUMN_ALIASES, OPTIONAL_AUDIO_FEATURES
from src.data.sources import read_csv_table
from src.spotify.client import call

log = logging.getLogger(__name__)

FEATURE_COLUMNS = tuple(c for c in (*AUDIO_FEATURES, *OPTIONAL_AUDIO_FEATURES) if c != "duration_ms")

DEPRECATION_MESSAGE = (
    "Spotify answered 403 Forbidden on /audio-features: since 27 Nov 2024 apps created after that date or in "
    "development mode may not read audio features (nor audio-analysis or recommendations). Fallback: give a "
    "CSV with a track_id column and the audio-feature columns (danceability, energy, key, loudness, mode, "
    "speechiness, acousticness, instrumentalness, liveness, valence, tempo), e.g. a public Spotify features "
    "dump, as features.csv=FILE; it is joined by track_id."
)


@dataclass
class FeatureResult:
    """Features by track id, where they came from, and how many tracks they cover."""

    by_id: dict[str, dict[str, Any]]
    source: str  # "api" | "csv" | "api+csv" | "none"
    matched_api: int = 0
    matched_csv: int = 0
    forbidden: bool = False


def fetch_audio_features(
    client: spotipy.Spotify, ids: list[str], batch_size: int = 100, progress: bool = True
) -> dict[str, dict[str, Any]] | None:
    """Features for `ids` in batches of ≤ 100; None when the app is not allowed (403)."""
    batch_size = max(1, min(int(batch_size), 100))
    found: dict[str, dict[str, Any]] = {}
    batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    for batch in tqdm(batches, desc="audio features", unit="batch", disable=not progress):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                rows = call(client, client.audio_features, batch)
        except SpotifyException as exc:
            if exc.http_status == 403:
                log.warning(DEPRECATION_MESSAGE)
                return None
            raise
        for row in rows or []:
            if row and row.get("id"):
                found[row["id"]] = row
    return found


def read_features_csv(path: str | Path) -> pd.DataFrame:
    """A features CSV indexed by track_id (ids, URIs or URLs accepted; first row per id wins)."""
    frame = read_csv_table(path)
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    renames = {
        c: COLUMN_ALIASES[c]
        for c in frame.columns
        if c in COLUMN_ALIASES and COLUMN_ALIASES[c] not in frame.columns
    }
    frame = frame.rename(columns=renames)
    if "track_id" not in frame.columns:
        raise DataError(
            f"{path}: no track_id column (or id/uri/spotify_id) to join features on; "
            f"columns found: {', '.join(frame.columns)}"
        )
    present = [c for c in FEATURE_COLUMNS if c in frame.columns]
    missing = [c for c in AUDIO_FEATURES if c not in frame.columns and c != "duration_ms"]
    if missing:
        raise DataError(f"{path}: missing audio-feature column(s) {', '.join(repr(c) for c in missing)}")
    ids = frame["track_id"].astype("string").str.strip()
    ids = ids.str.replace(
        r"^(spotify:track:|https?://open\.spotify\.com/(intl-[a-z]{2}/)?track/)", "", regex=True
    )
    frame["track_id"] = ids.str.replace(r"[?#].*$", "", regex=True)
    frame = frame.dropna(subset=["track_id"]).drop_duplicates("track_id")
    return frame.set_index("track_id")[present]


def gather_features(
    client: spotipy.Spotify,
    ids: list[str],
    fetch: bool,
    csv: str | Path | None,
    batch_size: int = 100,
    progress: bool = True,
) -> FeatureResult:
    """API features when allowed; the CSV fills whatever the API did not give (all of it after a 403)."""
    by_id: dict[str, dict[str, Any]] = {}
    forbidden = False
    if fetch and ids:
        api = fetch_audio_features(client, ids, batch_size, progress)
        forbidden = api is None
        by_id.update(api or {})
    matched_api = len(by_id)
    matched_csv = 0
    if csv:
        table = read_features_csv(csv)
        for tid in ids:
            if tid not in by_id and tid in table.index:
                by_id[tid] = table.loc[tid].to_dict()
                matched_csv += 1
        log.info(
            "features CSV %s: matched %d of %d collected tracks by track_id",
            csv,
            matched_csv,
            len(ids) - matched_api,
        )
    elif forbidden:
        log.warning(
            "no features CSV given: tracks are written without audio features, which the pipeline "
            "needs; re-run with features.csv=FILE (collected responses are cached, nothing is refetched)"
        )
    source = "+".join(s for s, n in (("api", matched_api), ("csv", matched_csv)) if n) or "none"
    return FeatureResult(by_id, source, matched_api, matched_csv, forbidden)
