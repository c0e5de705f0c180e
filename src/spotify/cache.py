"""Raw API responses cached on disk, so an interrupted collection resumes without refetching.

The cache sits in the requests session under spotipy: every successful GET is written (atomically) as soon
as it arrives, keyed by path + sorted query (not host, not headers, so no token ever reaches the key or the
file). A resumed run answers those GETs from disk and only fetches what is missing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from src.utils.io import write_text


def cache_key(url: str, params: Any = None) -> str:
    """Path plus sorted query of the final URL (params merged, None values dropped as requests does)."""
    prepared = requests.Request("GET", url, params=params).prepare().url or url
    parts = urlsplit(prepared)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.path}?{query}" if query else parts.path


class ResponseCache:
    """One JSON file per GET response under `directory`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def get(self, key: str) -> bytes | None:
        path = self._file(key)
        if not path.is_file():
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged entry is simply fetched again
        return json.dumps(stored["body"]).encode()

    def put(self, key: str, body: bytes) -> None:
        write_text(self._file(key), json.dumps({"key": key, "body": json.loads(body)}))

    def __len__(self) -> int:
        return len(list(self.directory.glob("*.json"))) if self.directory.is_dir() else 0


class CachingSession(requests.Session):
    """A requests session that answers GETs from a ResponseCache and stores successful ones."""

    def __init__(self, cache: ResponseCache) -> None:
        super().__init__()
        self.cache = cache

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if str(method).upper() != "GET":
            return super().request(method, url, *args, **kwargs)
        key = cache_key(str(url), kwargs.get("params"))
        body = self.cache.get(key)
        if body is not None:
            self.cache.hits += 1
            return _cached_response(str(url), body)
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 200 and response.content:
            try:
                self.cache.put(key, response.content)
                self.cache.misses += 1
            except ValueError:  # not JSON: not something we replay
                pass
        return response


def _cached_response(url: str, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers["Content-Type"] = "application/json"
    response.encoding = "utf-8"
    response.url = url
    return response
