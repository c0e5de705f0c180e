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
