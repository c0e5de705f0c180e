"""Collect a catalogue from Spotify: playlists, the user's saved tracks or playlists, or track ids →
raw track objects and playlist entries (`Collection`); `tables.py` turns them into the canonical tables.

Every page is followed (`next`), every GET goes through the on-disk response cache (see `cache.py`), and a
progress bar shows the items fetched per source.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import spotipy
from spotipy.exceptions import SpotifyException
from tqdm.auto import tqdm

from src.spotify.client import call, next_page
from src.spotify.ids import parse_id
from src.spotify.items import REMOVED, SkipCounts, entry_item, skip_kind

log = logging.getLogger(__name__)

PAGE_LIMIT = 50  # the largest page /playlists/{id}/items, /me/tracks and /me/playlists serve
SAVED_TRACKS = "saved"  # the playlist_id given to the user's saved tracks (their library as one "playlist")


@dataclass
class CollectSpec:
    """What to collect (any combination).

    Args:
        playlists: playlist ids, URIs or open.spotify.com URLs.
        my_playlists: every playlist in the signed-in user's library.
        saved_tracks: the signed-in user's saved ("liked") tracks, as the playlist `saved`.
        track_ids: track ids, URIs or URLs (no playlist).
    """

    playlists: list[str] = field(default_factory=list)
    my_playlists: bool = False
    saved_tracks: bool = False
    track_ids: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.playlists or self.my_playlists or self.saved_tracks or self.track_ids)

    @property
    def needs_user(self) -> bool:
        """Library reads need the user's sign-in; so do playlist items for development-mode apps."""
        return bool(self.playlists or self.my_playlists or self.saved_tracks)


@dataclass
class Collection:
    """Raw results: track objects by id (first-seen order) and playlist entries in playlist order.

    `skipped` counts whole sources that could not be read (a playlist, a track id); `skipped_items` counts
    entries that are not catalogue tracks, by kind (see `items.py`).
    """

    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: list[tuple[str, str, int, str]] = field(
        default_factory=list
    )  # playlist_id, name, position, track
    skipped: Counter = field(default_factory=Counter)
    skipped_items: SkipCounts = field(default_factory=SkipCounts)
    playlists: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        track: dict[str, Any] | None,
        playlist: tuple[str, str] | None = None,
        position: int = 0,
        entry: dict[str, Any] | None = None,
    ) -> None:
        kind = skip_kind(track, entry)
        if kind is not None or track is None:
            self.skipped_items.add(kind or REMOVED, playlist[0] if playlist else None)
            return
        self.tracks.setdefault(track["id"], track)
        if playlist is not None:
            self.entries.append((playlist[0], playlist[1], position, track["id"]))


def _pages(client: spotipy.Spotify, first: dict[str, Any], bar: tqdm) -> Iterator[dict[str, Any]]:
    page: dict[str, Any] | None = first
    while page is not None:
        if bar.total is None and page.get("total") is not None:
            bar.total = int(page["total"]) + bar.n
            bar.refresh()
        yield page
        bar.update(len(page.get("items") or []))
        page = next_page(client, page)


def _playlist_tracks(client: spotipy.Spotify, pid: str, name: str, out: Collection, progress: bool) -> None:
    with tqdm(desc=f"playlist {name[:30]}", unit="item", disable=not progress, leave=False) as bar:
        first = call(client, client.playlist_items, pid, limit=PAGE_LIMIT, additional_types=("track",))
        position = 0
        for page in _pages(client, first, bar):
            for entry in page.get("items") or []:
                out.add(entry_item(entry), (pid, name), position, entry)
                position += 1
    out.playlists[pid] = name


def _my_playlists(client: spotipy.Spotify, progress: bool) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    with tqdm(desc="your playlists", unit="playlist", disable=not progress, leave=False) as bar:
        first = call(client, client.current_user_playlists, limit=PAGE_LIMIT)
        for page in _pages(client, first, bar):
            found += [(p["id"], p.get("name") or p["id"]) for p in page.get("items") or [] if p]
    return found


def collect_catalogue(client: spotipy.Spotify, spec: CollectSpec, progress: bool = True) -> Collection:
    """Fetch everything `spec` asks for; unreadable playlists (403/404) are skipped with a warning."""
    out = Collection()
    targets: list[tuple[str, str | None]] = [(parse_id("playlist", p), None) for p in spec.playlists]
    if spec.my_playlists:
        targets += _my_playlists(client, progress)
    seen: set[str] = set()
    for pid, name in tqdm(
        targets, desc="playlists", unit="playlist", disable=not progress or len(targets) < 2
    ):
        if pid in seen:
            continue
        seen.add(pid)
        try:
            if name is None:
                name = call(client, client.playlist, pid, fields="id,name").get("name") or pid
            _playlist_tracks(client, pid, name, out, progress)
        except SpotifyException as exc:
            if exc.http_status not in (403, 404):
                raise
            log.warning(
                "playlist %s skipped: %s %s (development-mode apps can only read the items of "
                "playlists you own or collaborate on)",
                pid,
                exc.http_status,
                _short(exc),
            )
            out.skipped[f"playlists unreadable ({exc.http_status})"] += 1
    if spec.saved_tracks:
        with tqdm(desc="saved tracks", unit="track", disable=not progress, leave=False) as bar:
            first = call(client, client.current_user_saved_tracks, limit=PAGE_LIMIT)
            position = 0
            for page in _pages(client, first, bar):
                for entry in page.get("items") or []:
                    out.add(entry_item(entry), (SAVED_TRACKS, "Saved tracks"), position, entry)
                    position += 1
        out.playlists[SAVED_TRACKS] = "Saved tracks"
    # GET /tracks?ids= is gone for development-mode apps (Feb 2026): one GET /tracks/{id} each, all cached.
    ids = [parse_id("track", t) for t in spec.track_ids]
    for tid in tqdm(
        [t for t in dict.fromkeys(ids) if t not in out.tracks],
        desc="tracks",
        unit="track",
        disable=not progress,
    ):
        try:
            out.add(call(client, client.track, tid))
        except SpotifyException as exc:
            if exc.http_status not in (400, 404):
                raise
            log.warning("track %s skipped: %s %s", tid, exc.http_status, _short(exc))
            out.skipped[f"tracks not found ({exc.http_status})"] += 1
    return out


def _short(exc: SpotifyException) -> str:
    return str(exc.msg).splitlines()[-1].strip() if exc.msg else ""
