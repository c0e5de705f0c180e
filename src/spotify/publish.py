"""Publish generated playlists to the signed-in user's Spotify account, idempotently.

Idempotent against the account, not only the run directory: every published playlist carries a stable tag in
its description (`account.py`), and publishing looks it up among the user's own playlists, so any run directory
updates the same Spotify playlist in place (details, then items: replace the first 100, append the rest in
order) instead of creating another copy. The run's manifest still records what it published. Later versions of
a song already in a playlist are left out (`versions.py`). A dry run reads only and reports what would change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import spotipy
from tqdm.auto import tqdm

from src.data.errors import DataError
from src.spotify.account import SIGNATURE, AccountIndex, my_playlists, stable_id, tag
from src.spotify.client import call, next_page
from src.spotify.ids import is_spotify_id
from src.spotify.run_exports import export_dir
from src.spotify.versions import first_per_song
from src.utils.io import write_json

log = logging.getLogger(__name__)

BATCH = 100  # the most items one add/replace request takes
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 300


def load_playlists(run_dir: str | Path, kinds: list[str] | None = None) -> list[dict[str, Any]]:
    """`playlists/playlists.json` of a pipeline run, or `mixes/playlists.json` of a mixes run (optionally
    only some kinds)."""
    path = export_dir(run_dir) / "playlists.json"
    if not path.is_file():
        raise DataError(
            f"{path}: not found; run_dir must be a pipeline run directory (scripts/pipeline.py "
            "hydra.run.dir=DIR writes DIR/playlists/playlists.json) or a scripts/mixes.py run (DIR/mixes/)"
        )
    try:
        playlists = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(playlists, list) or not all(
        isinstance(p, dict) and "playlist_id" in p for p in playlists
    ):
        raise DataError(f"{path}: expected a list of playlists with playlist_id, name and track_ids")
    bad = sorted({t for p in playlists for t in p.get("track_ids", []) if not is_spotify_id(t)})
    if bad:
        raise DataError(
            f"{path}: {len(bad)} track id(s) are not Spotify ids, e.g. {', '.join(bad[:5])}; only "
            "catalogues with Spotify track ids can be published"
        )
    return [p for p in playlists if not kinds or p.get("kind") in kinds]


class Manifest:
    """`{spotify_user: {local playlist_id: {spotify_id, name, tracks, updated}}}` in a JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        if self.path.is_file():
            try:
                self.data = json.loads(self.path.read_text(encoding="utf-8")).get("users", {})
            except (json.JSONDecodeError, AttributeError) as exc:
                raise DataError(
                    f"{self.path}: the publish manifest is damaged ({exc}); fix or remove it"
                ) from exc

    def get(self, user: str, local_id: str) -> str | None:
        return self.data.get(user, {}).get(local_id, {}).get("spotify_id")

    def record(self, user: str, local_id: str, spotify_id: str, name: str, n_tracks: int) -> None:
        self.data.setdefault(user, {})[local_id] = {
            "spotify_id": spotify_id,
            "name": name,
            "tracks": n_tracks,
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(self.path, {"version": 1, "users": self.data})  # after every playlist: safe to interrupt


@dataclass
class Change:
    """What publishing one generated playlist does."""

    local_id: str
    name: str
    description: str
    uris: list[str]
    action: str  # "create" | "update" | "unchanged"
    stable_id: str = ""
    spotify_id: str | None = None
    same_song: list[str] = field(default_factory=list)  # later versions of a song already in it, left out
    details: list[str] = field(default_factory=list)  # which of name/description change
    added: int = 0
    removed: int = 0
    reordered: bool = False

    def summary(self) -> str:
        versions = f" ({len(self.same_song)} other versions of a song left out)" if self.same_song else ""
        if self.action == "create":
            return f"create  '{self.name}' with {len(self.uris)} tracks{versions}"
        if self.action == "unchanged":
            return f"same    '{self.name}' ({self.spotify_id}, {len(self.uris)} tracks){versions}"
        parts = [f"{d} changes" for d in self.details]
        if self.added or self.removed or self.reordered:
            parts.append(f"items +{self.added} -{self.removed}" + (" reordered" if self.reordered else ""))
        return f"update  '{self.name}' ({self.spotify_id}): {', '.join(parts)}{versions}"


def _title(playlist: dict[str, Any], prefix: str) -> str:
    return f"{prefix}{playlist.get('name') or playlist['playlist_id']}"[:NAME_LIMIT]


def _description(playlist: dict[str, Any], stable: str) -> str:
    """The playlist's description, the signature and the stable tag last (the text is cut, never the tag)."""
    text = " ".join(str(playlist.get("description") or "").split())  # no newlines in Spotify descriptions
    ending = f" · {SIGNATURE} {tag(stable)}"
    return (text[: DESCRIPTION_LIMIT - len(ending)] + ending).strip(" ·")


def current_items(client: spotipy.Spotify, spotify_id: str) -> list[str]:
    uris: list[str] = []
    page: dict[str, Any] | None = call(
        client, client.playlist_items, spotify_id, limit=50, additional_types=("track",)
    )
    while page is not None:
        for entry in page.get("items") or []:
            item = entry.get("item") or entry.get("track") or {}
            if item.get("uri"):
                uris.append(item["uri"])
        page = next_page(client, page)
    return uris


def plan(
    client: spotipy.Spotify,
    playlists: list[dict[str, Any]],
    manifest: Manifest,
    user: str,
    prefix: str,
    series: str = "default",
    song_keys: dict[str, str] | None = None,
) -> list[Change]:
    """Match each generated playlist with the user's Spotify playlist made for it, and compare (reads only)."""
    account = AccountIndex(my_playlists(client, user))
    changes = []
    for p in playlists:
        stable = stable_id(series, p["playlist_id"])
        kept, same_song = first_per_song(p.get("track_ids", []), song_keys or {})
        if same_song:
            log.info(
                "playlist %s: %d later version(s) of a song already in it left out: %s",
                p["playlist_id"],
                len(same_song),
                ", ".join(same_song[:10]),
            )
        uris = [f"spotify:track:{t}" for t in kept]
        title = _title(p, prefix)
        change = Change(
            p["playlist_id"],
            title,
            _description(p, stable),
            uris,
            "create",
            stable_id=stable,
            same_song=same_song,
        )
        remote = account.find(stable, title, manifest.get(user, p["playlist_id"]))
        if remote is not None:
            existing = current_items(client, remote.spotify_id)
            change.spotify_id = remote.spotify_id
            change.details = [
                k
                for k, v in (("name", title), ("description", change.description))
                if getattr(remote, k) != v
            ]
            change.added = len(set(uris) - set(existing))
            change.removed = len(set(existing) - set(uris))
            change.reordered = existing != uris and not (change.added or change.removed)
            same = not change.details and existing == uris
            change.action = "unchanged" if same else "update"
        changes.append(change)
    return changes


def _write_items(client: spotipy.Spotify, spotify_id: str, uris: list[str], replace: bool) -> None:
    """Replace (or fill) the playlist with `uris` in order: the first batch replaces, the rest append."""
    batches = [uris[i : i + BATCH] for i in range(0, len(uris), BATCH)] or [[]]
    for i, batch in enumerate(batches):
        if i == 0 and replace:
            call(client, client.playlist_replace_items, spotify_id, batch)
        elif batch:
            call(client, client.playlist_add_items, spotify_id, batch)


def apply(
    client: spotipy.Spotify,
    changes: list[Change],
    manifest: Manifest,
    user: str,
    public: bool,
    progress: bool = True,
) -> dict[str, int]:
    """Carry out the plan; the manifest is saved after each playlist."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for change in tqdm(changes, desc="publish", unit="playlist", disable=not progress):
        if change.action == "unchanged":
            counts["unchanged"] += 1
            continue
        if change.action == "create":
            created = call(
                client,
                client.current_user_playlist_create,
                change.name,
                public=public,
                description=change.description,
            )
            change.spotify_id = created["id"]
            manifest.record(user, change.local_id, change.spotify_id, change.name, 0)
            _write_items(client, change.spotify_id, change.uris, replace=False)
            counts["created"] += 1
        else:
            if change.details:
                call(
                    client,
                    client.playlist_change_details,
                    change.spotify_id,
                    name=change.name,
                    description=change.description,
                )
            _write_items(client, change.spotify_id, change.uris, replace=True)
            counts["updated"] += 1
        manifest.record(user, change.local_id, change.spotify_id, change.name, len(change.uris))
        log.info("%s", change.summary())
    return counts
