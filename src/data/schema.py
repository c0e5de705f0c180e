"""Canonical table schemas shared by every source, so nothing downstream knows where data came from."""

from __future__ import annotations

AUDIO_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
)
OPTIONAL_AUDIO_FEATURES: tuple[str, ...] = ("time_signature",)
TRACK_METADATA: tuple[str, ...] = ("name", "artist", "album", "release_year", "popularity")
TRACK_COLUMNS: tuple[str, ...] = ("track_id", *TRACK_METADATA, *AUDIO_FEATURES)
INTERACTION_COLUMNS: tuple[str, ...] = ("user_id", "track_id", "weight")

# Features whose valid range is [0, 1]; values outside it are unusable and handled by the missing policy.
UNIT_INTERVAL_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
)

# Plausible ranges of the unbounded features (inclusive; duration and tempo must also be > 0). Values outside
# them (1e308, a loudness of +400 dB) are unusable like text: they become missing and the missing policy counts
# them; left in, one such value turns every z-score of its column into 0 or NaN.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "loudness": (-100.0, 20.0),  # dB; Spotify reports about -60 … +5
    "tempo": (0.0, 1000.0),  # BPM
    "duration_ms": (0.0, 86_400_000.0),  # one day
    "time_signature": (0.0, 16.0),
    "popularity": (0.0, 1_000_000.0),
}

# Aliases seen in public Spotify feature dumps → canonical names.
COLUMN_ALIASES: dict[str, str] = {
    "id": "track_id",
    "spotify_id": "track_id",
    "track_uri": "track_id",
    "uri": "track_id",
    "track_name": "name",
    "song_name": "name",
    "title": "name",
    "track_artist": "artist",
    "artist_name": "artist",
    "artists": "artist",
    "track_album_name": "album",
    "album_name": "album",
    "track_popularity": "popularity",
    "track_album_release_date": "release_date",
    "album_release_date": "release_date",
    "year": "release_year",
    "duration": "duration_ms",
}
