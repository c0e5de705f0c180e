"""Spotify ids from whatever users paste: bare ids, `spotify:track:…` URIs or open.spotify.com URLs."""

from __future__ import annotations

import re

from src.data.errors import DataError

_URI = re.compile(r"^spotify:(?:user:[^:]+:)?(?P<kind>track|playlist|album|artist):(?P<id>[0-9A-Za-z]+)$")
_URL = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[a-z]{2}/)?(?P<kind>track|playlist|album|artist)/"
    r"(?P<id>[0-9A-Za-z]+)(?:[?#].*)?$"
)
_BARE = re.compile(r"^[0-9A-Za-z]+$")


def parse_id(kind: str, text: str) -> str:
    """The base-62 id of a `kind` ("track", "playlist", …) given as id, URI or URL; DataError otherwise."""
    text = str(text).strip()
    match = _URI.match(text) or _URL.match(text)
    if match:
        if match.group("kind") != kind:
            raise DataError(f"'{text}' is a Spotify {match.group('kind')}, expected a {kind}")
        return match.group("id")
    if _BARE.match(text):
        return text
    raise DataError(f"'{text}' is not a Spotify {kind} id, URI (spotify:{kind}:…) or open.spotify.com URL")


def is_spotify_id(text: str) -> bool:
    return bool(_BARE.match(str(text)))
