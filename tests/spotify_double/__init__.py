"""A local Spotify Web API double: a real HTTP server on 127.0.0.1 that spotipy talks to in tests."""

from .server import Fault, SpotifyDouble, make_catalogue

__all__ = ["Fault", "SpotifyDouble", "make_catalogue"]
