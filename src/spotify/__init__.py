"""Spotify in and out: collect a catalogue through spotipy, publish generated playlists back.

Secrets come only from the environment or a `.env` file (`src.spotify.auth`); every HTTP detail (API prefix,
auth URLs, retries, the Retry-After cap, timeouts) comes from the `spotify` config group so tests can point the
real spotipy client at a local double.
"""

from src.spotify.client import RetryAfterTooLong, SpotifySettings

__all__ = ["RetryAfterTooLong", "SpotifySettings"]
