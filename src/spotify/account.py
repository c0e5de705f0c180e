"""Which playlists in the Spotify account this project made, found from the account itself.

A run directory's manifest only knows what that directory published; a second run directory (a re-run, a copy,
another machine) would create every playlist again. So each published playlist carries a stable tag at the end
of its description, `[playlist-lab:<series>/<playlist_id>]`, and publishing lists the user's own playlists
(`GET /me/playlists`, every page) to find it. Playlists published before the tag existed are recognised by
name and owner plus the "made by Playlist Lab" signature, and get the tag on their next update.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import Any

import spotipy

from src.spotify.client import call, next_page

log = logging.getLogger(__name__)

PAGE_LIMIT = 50  # the largest page /me/playlists serves
SIGNATURE = "made by Playlist Lab"
_TAG = re.compile(r"\[playlist-lab:([^\]\s]+)\]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def stable_id(series: str, playlist_id: str) -> str:
    """`<series>/<playlist_id>`: the same generated playlist gets the same id whichever run publishes it."""
    return f"{_UNSAFE.sub('-', series) or 'default'}/{_UNSAFE.sub('-', playlist_id)}"


def tag(stable: str) -> str:
    return f"[playlist-lab:{stable}]"


def tag_of(description: str | None) -> str | None:
    """The stable id in a description (HTML-escaped as Spotify returns it, or not), or None."""
    match = _TAG.search(html.unescape(description or ""))
    return match.group(1) if match else None


@dataclass(frozen=True)
class RemotePlaylist:
    """One playlist the signed-in user owns, as listed by /me/playlists."""

    spotify_id: str
    name: str
    description: str  # unescaped
    stable_id: str | None


def my_playlists(client: spotipy.Spotify, user: str) -> list[RemotePlaylist]:
    """Every playlist in the account owned by `user` (followed ones and `null` entries left out)."""
    found: list[RemotePlaylist] = []
    page: dict[str, Any] | None = call(client, client.current_user_playlists, limit=PAGE_LIMIT)
    while page is not None:
        for item in page.get("items") or []:
            if not item or not item.get("id") or (item.get("owner") or {}).get("id") != user:
                continue
            description = html.unescape(item.get("description") or "")
            found.append(RemotePlaylist(item["id"], item.get("name") or "", description, tag_of(description)))
        page = next_page(client, page)
    return found


class AccountIndex:
    """The user's own playlists by stable tag and by spotify id; each can be claimed by one generated playlist."""

    def __init__(self, playlists: list[RemotePlaylist]) -> None:
        self.by_id = {p.spotify_id: p for p in playlists}
        self.by_tag: dict[str, list[RemotePlaylist]] = {}
        for p in playlists:
            if p.stable_id:
                self.by_tag.setdefault(p.stable_id, []).append(p)
        self.untagged = [p for p in playlists if not p.stable_id and SIGNATURE in p.description]
        self.claimed: set[str] = set()

    def find(self, stable: str, title: str, known_id: str | None = None) -> RemotePlaylist | None:
        """The playlist to update for `stable`: the one the manifest knows (if still in the account), else the
        tagged one, else an untagged one of ours with the same name; None means create it."""
        candidates: list[RemotePlaylist] = []
        known = self.by_id.get(known_id or "")
        if known is not None and known.stable_id in (None, stable):  # another series' playlist is not ours
            candidates.append(known)
        tagged = self.by_tag.get(stable, [])
        if len(tagged) > 1:
            log.warning(
                "%d playlists in the account carry %s (%s): updating the first; the others are left alone",
                len(tagged),
                tag(stable),
                ", ".join(p.spotify_id for p in tagged),
            )
        candidates += tagged
        candidates += [p for p in self.untagged if p.name == title]
        for candidate in candidates:
            if candidate.spotify_id not in self.claimed:
                self.claimed.add(candidate.spotify_id)
                return candidate
        return None
