"""The Web API double: Spotify's JSON shapes, paging, OAuth token endpoint (client credentials, PKCE,
refresh), and scripted faults (401 expired token, 403 audio features, 429 + Retry-After, 5xx).

It is a real werkzeug HTTP server in a thread, so the real spotipy client and requests/urllib3 retry
machinery run against it exactly as against api.spotify.com. Tests inspect `requests` (the access log)
and `playlists` (server state) to check what the client really did.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import numpy as np
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FEATURES = (
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
    "time_signature",
)


class _QuietHandler(WSGIRequestHandler):
    """No access lines on stderr: tests read `SpotifyDouble.requests` instead."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@dataclass
class Fault:
    """A scripted failure: the requests matching `method` and `path` (regex on the path) after `skip`
    passing ones get `status` (with `Retry-After: retry_after` when set), `times` times. With `delay` > 0
    the answer is the normal one, only `delay` seconds late (a client timeout)."""

    method: str
    path: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    skip: int = 0
    seen: int = 0
    delay: float = 0.0

    def fires(self, method: str, path: str) -> bool:
        """Count a matching request and say whether this one is hit."""
        if not self.matches(method, path):
            return False
        self.seen += 1
        if self.seen > self.skip and self.times > 0:
            self.times -= 1
            return True
        return False

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and re.search(self.path, path) is not None


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int


def make_catalogue(n_tracks: int, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Full Spotify track objects plus their audio features, keyed by base-62 track id."""
    rng = np.random.default_rng(seed)
    tracks: dict[str, dict[str, Any]] = {}
    for i in range(n_tracks):
        tid = f"T{i:05d}x{seed}"
        style = i % 3
        centre = [(0.8, 0.9, 0.05, 124.0), (0.3, 0.2, 0.9, 78.0), (0.6, 0.6, 0.3, 100.0)][style]
        artist = {
            "id": f"A{i % 17:03d}",
            "name": f"Artist {i % 17}",
            "type": "artist",
            "uri": f"spotify:artist:A{i % 17:03d}",
        }
        album = {
            "id": f"L{i % 23:03d}",
            "name": f"Album {i % 23}",
            "album_type": "album",
            "release_date": f"{1975 + i % 45}-0{1 + i % 9}-1{i % 10}" if i % 4 else f"{1975 + i % 45}",
            "release_date_precision": "day" if i % 4 else "year",
            "artists": [artist],
            "uri": f"spotify:album:L{i % 23:03d}",
        }
        features = {
            "id": tid,
            "uri": f"spotify:track:{tid}",
            "type": "audio_features",
            "danceability": float(np.clip(centre[0] + rng.normal(0, 0.05), 0, 1)),
            "energy": float(np.clip(centre[1] + rng.normal(0, 0.05), 0, 1)),
            "key": int(rng.integers(0, 12)),
            "loudness": float(rng.normal(-8, 2)),
            "mode": int(rng.integers(0, 2)),
            "speechiness": float(rng.uniform(0.02, 0.2)),
            "acousticness": float(np.clip(centre[2] + rng.normal(0, 0.05), 0, 1)),
            "instrumentalness": float(rng.uniform(0, 0.5)),
            "liveness": float(rng.uniform(0.05, 0.4)),
            "valence": float(rng.uniform(0, 1)),
            "tempo": float(centre[3] + rng.normal(0, 4)),
            "time_signature": 4,
            "duration_ms": int(rng.integers(120_000, 300_000)),
        }
        tracks[tid] = {
            "track": {
                "id": tid,
                "name": f"Song {i}",
                "type": "track",
                "uri": f"spotify:track:{tid}",
                "artists": [artist]
                + ([{"id": "A999", "name": "Guest", "type": "artist"}] if i % 11 == 0 else []),
                "album": album,
                "duration_ms": features["duration_ms"],
                "explicit": False,
                "is_local": False,
                "disc_number": 1,
                "track_number": 1 + i % 12,
            },
            "features": features,
        }
    return tracks


@dataclass
class SpotifyDouble:
    """Server state and the WSGI app. Use as a context manager: `with SpotifyDouble(...) as api: api.url`."""

    client_id: str = "double-client-id"
    client_secret: str = "double-client-secret"
    user_id: str = "tester"
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)
    playlists: dict[str, dict[str, Any]] = field(default_factory=dict)
    audio_features_allowed: bool = True
    library_nulls: int = 0  # `null` entries at the start of /me/playlists (Spotify sends some now and then)
    faults: list[Fault] = field(default_factory=list)
    requests: list[LoggedRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every access/refresh token and code handed out
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._codes: dict[str, dict[str, str]] = {}
        self._refresh: dict[str, str] = {}
        self._server = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> SpotifyDouble:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_prefix(self) -> str:
        return f"{self.url}/v1/"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/token"

    # -- helpers for tests ----------------------------------------------------------------------------------------
    def add_playlist(
        self, name: str, track_ids: list[str | None], owner: str | None = None, description: str = ""
    ) -> str:
        """A playlist in the account. Besides track ids, items may be full URIs (`spotify:local:…` local
        files, `spotify:episode:…` podcast episodes) or None (a removed track: Spotify sends a `null` item)."""
        pid = self._new_id("P")
        self.playlists[pid] = {
            "id": pid,
            "name": name,
            "description": description,
            "public": True,
            "collaborative": False,
            "owner": owner or self.user_id,
            "uris": [t if t is None or t.startswith("spotify:") else f"spotify:track:{t}" for t in track_ids],
            "snapshot": 1,
        }
        return pid

    def expire_tokens(self) -> None:
        """Every access token issued so far now gets 401 'The access token expired'."""
        for info in self.tokens.values():
            info["expired"] = True

    def count(self, method: str, pattern: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and re.search(pattern, r.path))

    def writes(self) -> list[LoggedRequest]:
        return [
            r for r in self.requests if r.method in ("POST", "PUT", "DELETE") and r.path.startswith("/v1/")
        ]

    def follow(self, name: str, track_ids: list[str], owner: str, description: str = "") -> str:
        """Someone else's playlist in the user's library (listed by /me/playlists, not writable)."""
        return self.add_playlist(name, track_ids, owner=owner, description=description)

    def user_playlists(self) -> list[dict[str, Any]]:
        return [p for p in self.playlists.values() if p["owner"] == self.user_id]

    # -- WSGI ---------------------------------------------------------------------------------------------------
    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        path = request.path.rstrip("/") or "/"
        with self._lock:
            delay = sum(f.delay for f in self.faults if f.delay and f.fires(request.method, path))
        if delay:
            time.sleep(delay)  # outside the lock: the client gives up meanwhile and retries
        with self._lock:
            response = self._handle(request)
            query = {k: v for k, v in request.args.items()}
            self.requests.append(LoggedRequest(request.method, request.path, query, response.status_code))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        for fault in self.faults:
            if not fault.delay and fault.fires(request.method, path):
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                message = {429: "API rate limit exceeded"}.get(fault.status, "Service unavailable")
                return _error(fault.status, message, headers)
        if path == "/authorize":
            return self._authorize(request)
        if path == "/api/token":
            return self._token(request)
        if not path.startswith("/v1/"):
            return _error(404, "Service not found")
        token = self._bearer(request)
        if isinstance(token, Response):
            return token
        return self._route(request, path[len("/v1") :], token)

    # -- OAuth --------------------------------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != self.client_id or args.get("code_challenge_method") != "S256":
            return Response("INVALID_CLIENT", status=400)
        code = secrets.token_urlsafe(16)
        self.issued.append(code)
        self._codes[code] = {
            "challenge": args["code_challenge"],
            "redirect_uri": args["redirect_uri"],
            "scope": args.get("scope", ""),
        }
        query = {"code": code, **({"state": args["state"]} if "state" in args else {})}
        return Response("", status=302, headers={"Location": f"{args['redirect_uri']}?{urlencode(query)}"})

    def _token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type")
        if grant == "client_credentials":
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return _json({"error": "invalid_client", "error_description": "Invalid client secret"}, 400)
            return _json(self._issue("app", ""))
        if grant == "authorization_code":
            pending = self._codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            )
            if (
                pending is None
                or pending["challenge"] != challenge
                or form.get("client_id") != self.client_id
            ):
                return _json(
                    {"error": "invalid_grant", "error_description": "Invalid authorization code"}, 400
                )
            return _json(self._issue("user", pending["scope"], refresh=True))
        if grant == "refresh_token":
            scope = self._refresh.get(form.get("refresh_token", ""))
            if scope is None:
                return _json({"error": "invalid_grant", "error_description": "Refresh token revoked"}, 400)
            return _json(self._issue("user", scope))
        return _json({"error": "unsupported_grant_type"}, 400)

    def _issue(self, kind: str, scope: str, refresh: bool = False) -> dict[str, Any]:
        access = "AT-" + secrets.token_urlsafe(24)
        self.issued.append(access)
        self.tokens[access] = {"kind": kind, "scope": scope, "expired": False}
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": scope}
        if refresh:
            body["refresh_token"] = "RT-" + secrets.token_urlsafe(24)
            self.issued.append(body["refresh_token"])
            self._refresh[body["refresh_token"]] = scope
        return body

    def _bearer(self, request: Request) -> dict[str, Any] | Response:
        header = request.headers.get("Authorization", "")
        info = self.tokens.get(header.removeprefix("Bearer "))
        if not header.startswith("Bearer ") or info is None:
            return _error(401, "Invalid access token")
        if info["expired"]:
            return _error(401, "The access token expired")
        return info

    # -- Web API ------------------------------------------------------------------------------------------------
    def _route(self, request: Request, path: str, token: dict[str, Any]) -> Response:
        method = request.method
        if path.startswith("/me") and token["kind"] != "user":
            return _error(401, "Valid user authentication required")
        if method in ("POST", "PUT", "DELETE") and token["kind"] != "user":
            return _error(403, "Insufficient client scope")
        if path == "/me" and method == "GET":
            return _json(
                {
                    "id": self.user_id,
                    "display_name": "Test User",
                    "type": "user",
                    "uri": f"spotify:user:{self.user_id}",
                }
            )
        if path == "/me/tracks" and method == "GET":
            entries = [
                {"added_at": "2025-01-01T00:00:00Z", "track": self.catalogue[t]["track"]} for t in self.saved
            ]
            return self._page(request, entries, max_limit=50)
        if path == "/me/playlists" and method == "GET":
            library = [None] * self.library_nulls + [self._simple(p) for p in self.playlists.values()]
            return self._page(request, library, max_limit=50)
        if path == "/me/playlists" and method == "POST":
            return self._create(request)
        if path == "/audio-features" and method == "GET":
            if not self.audio_features_allowed:
                return _error(403, "Forbidden")
            ids = [i for i in request.args.get("ids", "").split(",") if i]
            if len(ids) > 100:
                return _error(400, "Too many ids requested")
            return _json(
                {
                    "audio_features": [
                        self.catalogue[i]["features"] if i in self.catalogue else None for i in ids
                    ]
                }
            )
        match = re.fullmatch(r"/tracks/([0-9A-Za-z]+)", path)
        if match and method == "GET":
            found = self.catalogue.get(match.group(1))
            return _json(found["track"]) if found else _error(404, "Non existing id")
        match = re.fullmatch(r"/playlists/([0-9A-Za-z]+)(/items)?", path)
        if match:
            playlist = self.playlists.get(match.group(1))
            if playlist is None:
                return _error(404, "Resource not found")
            if match.group(2) is None:
                if method == "GET":
                    return _json(self._full(request, playlist))
                if method == "PUT":
                    return self._change_details(request, playlist)
            else:
                if method == "GET":
                    if playlist["owner"] != self.user_id and not playlist["collaborative"]:
                        # development-mode apps read the items of owned/collaborative playlists only (2026)
                        return _error(403, "Forbidden")
                    episodes = "episode" in request.args.get("additional_types", "").split(",")
                    entries = [self._entry(u, episodes) for u in playlist["uris"]]
                    return self._page(request, entries, max_limit=50)
                if method in ("POST", "PUT"):
                    return self._write_items(request, playlist, replace=method == "PUT")
        return _error(404, "Service not found")

    def _page(self, request: Request, items: list[Any], max_limit: int) -> Response:
        try:
            limit = int(request.args.get("limit", 20))
            offset = int(request.args.get("offset", 0))
        except ValueError:
            return _error(400, "Invalid limit or offset")
        if not 1 <= limit <= max_limit or offset < 0:
            return _error(400, f"Invalid limit: must be between 1 and {max_limit}")
        return _json(self._paging(request.base_url, dict(request.args), items, limit, offset))

    @staticmethod
    def _paging(base: str, args: dict[str, str], items: list[Any], limit: int, offset: int) -> dict[str, Any]:
        def link(at: int) -> str:
            return f"{base}?{urlencode({**args, 'offset': at, 'limit': limit})}"

        return {
            "href": link(offset),
            "items": items[offset : offset + limit],
            "limit": limit,
            "offset": offset,
            "total": len(items),
            "next": link(offset + limit) if offset + limit < len(items) else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        }

    def _entry(self, uri: str | None, episodes: bool = False) -> dict[str, Any]:
        """A playlist entry as Spotify sends it, quirks included: a removed track is a `null` item, a local
        file has `is_local` and no id, and an episode asked for without `additional_types=episode` comes
        track-shaped (`type: track`, `episode: true`)."""
        entry: dict[str, Any] = {"added_at": "2025-01-01T00:00:00Z", "is_local": False}
        if uri is None:
            return {**entry, "item": None, "track": None}
        _, kind, tid = uri.split(":", 2)
        if kind == "local":
            parts = tid.split(":")
            item = {"id": None, "type": "track", "uri": uri, "name": parts[2] if len(parts) > 2 else "?"}
            item.update(is_local=True, artists=[{"id": None, "name": parts[0]}], album={"name": parts[1]})
            return {**entry, "is_local": True, "item": item, "track": item}
        if kind == "episode":
            item = {"id": tid, "type": "episode", "uri": uri, "name": f"Episode {tid}"}
            if not episodes:
                item.update(type="track", episode=True, track=False, artists=[], album={})
            return {**entry, "item": item, "track": item}
        track = (
            self.catalogue[tid]["track"]
            if tid in self.catalogue
            else {"id": tid, "type": "track", "uri": uri, "name": "?", "artists": [], "album": {}}
        )
        return {**entry, "item": track, "track": track}

    def _simple(self, p: dict[str, Any]) -> dict[str, Any]:
        summary = {"href": f"{self.api_prefix}playlists/{p['id']}/items", "total": len(p["uris"])}
        return {
            "id": p["id"],
            "name": p["name"],
            "description": html.escape(p["description"]),  # as Spotify does
            "public": p["public"],
            "collaborative": p["collaborative"],
            "owner": {"id": p["owner"], "type": "user"},
            "snapshot_id": str(p["snapshot"]),
            "type": "playlist",
            "uri": f"spotify:playlist:{p['id']}",
            "items": summary,
        }

    def _full(self, request: Request, p: dict[str, Any]) -> dict[str, Any]:
        out = self._simple(p)
        entries = [self._entry(u) for u in p["uris"]]
        out["items"] = self._paging(f"{self.api_prefix}playlists/{p['id']}/items", {}, entries, 50, 0)
        return out

    def _create(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if not body.get("name"):
            return _error(400, "Missing required field: name")
        pid = self._new_id("P")
        self.playlists[pid] = {
            "id": pid,
            "name": body["name"],
            "description": body.get("description", ""),
            "public": bool(body.get("public", True)),
            "collaborative": bool(body.get("collaborative", False)),
            "owner": self.user_id,
            "uris": [],
            "snapshot": 1,
        }
        return _json(self._simple(self.playlists[pid]), 201)

    def _change_details(self, request: Request, p: dict[str, Any]) -> Response:
        if p["owner"] != self.user_id:
            return _error(403, "You cannot change a playlist you do not own")
        body = request.get_json(silent=True) or {}
        for key in ("name", "description", "public", "collaborative"):
            if key in body:
                p[key] = body[key]
        p["snapshot"] += 1
        return Response("", status=200)

    def _write_items(self, request: Request, p: dict[str, Any], replace: bool) -> Response:
        if p["owner"] != self.user_id:
            return _error(403, "You cannot change a playlist you do not own")
        body = request.get_json(silent=True)
        uris = body.get("uris") if isinstance(body, dict) else body
        if uris is None and request.args.get("uris"):
            uris = request.args["uris"].split(",")
        if not isinstance(uris, list) or len(uris) > 100:
            return _error(400, "You can add a maximum of 100 items per request")
        if any(not re.fullmatch(r"spotify:track:[0-9A-Za-z]+", u) for u in uris):
            return _error(400, "Invalid track uri")
        if replace:
            p["uris"] = list(uris)
        else:
            position = request.args.get("position")
            at = len(p["uris"]) if position in (None, "") else int(position)
            p["uris"][at:at] = uris
        p["snapshot"] += 1
        return _json({"snapshot_id": str(p["snapshot"])}, 200 if replace else 201)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers or {})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": {"status": status, "message": message}}, status, headers)
