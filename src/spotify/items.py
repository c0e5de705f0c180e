"""What a playlist or library entry holds, and why one that is not a catalogue track is skipped.

A user who sees "12 skipped" cannot act on it; "9 local files, 3 podcast episodes" says they are files on their
own computer and podcasts, which no catalogue has, while removed tracks say the playlist has gone stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REMOVED = "removed_or_unavailable"  # `null` item (removed from Spotify, region-locked) or a track without id
LOCAL_FILE = "local_file"  # a file from the owner's computer (`is_local`): no Spotify id, no features
EPISODE = (
    "episode"  # a podcast episode (type episode, or a track-shaped episode when episodes were not asked for)
)
OTHER = "other"  # any other object type (audiobook chapters, future types)
SKIP_KINDS = (REMOVED, LOCAL_FILE, EPISODE, OTHER)


def entry_item(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The object of a playlist/library entry: `item` since Feb 2026, `track` before (both accepted)."""
    if not entry:
        return None
    return entry.get("item") or entry.get("track")


def skip_kind(item: dict[str, Any] | None, entry: dict[str, Any] | None = None) -> str | None:
    """Why this entry is not a usable catalogue track (one of SKIP_KINDS), or None when it is one."""
    if (entry or {}).get("is_local") or (item or {}).get("is_local"):
        return LOCAL_FILE
    if not item:
        return REMOVED
    kind = item.get("type", "track")
    if kind == "episode" or item.get("episode") is True:
        return EPISODE
    if kind != "track":
        return OTHER
    if not item.get("id"):
        return REMOVED
    return None


@dataclass
class SkipCounts:
    """Skipped entries by kind, in total and per source playlist."""

    total: Counter = field(default_factory=Counter)
    by_playlist: dict[str, Counter] = field(default_factory=dict)

    def add(self, kind: str, playlist_id: str | None) -> None:
        self.total[kind] += 1
        if playlist_id is not None:
            self.by_playlist.setdefault(playlist_id, Counter())[kind] += 1

    def to_dict(self) -> dict[str, Any]:
        """Every kind (zeros included) so a report reader need not guess which keys exist."""
        return {
            "total": {kind: int(self.total[kind]) for kind in SKIP_KINDS},
            "by_playlist": {pid: dict(counts) for pid, counts in self.by_playlist.items()},
        }


def duplicate_slots(entries: list[tuple[str, str, int, str]]) -> list[dict[str, Any]]:
    """Track ids listed more than once in one source playlist: which playlist, how many extra slots, which ids.

    `entries` are (playlist_id, playlist_name, position, track_id) in playlist order.
    """
    names: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    for pid, name, _, tid in entries:
        names.setdefault(pid, name)
        counts.setdefault(pid, Counter())[tid] += 1
    found = []
    for pid, counter in counts.items():
        repeated = {tid: n for tid, n in counter.items() if n > 1}
        if repeated:
            found.append(
                {
                    "playlist_id": pid,
                    "playlist_name": names[pid],
                    "duplicate_slots": sum(n - 1 for n in repeated.values()),
                    "track_ids": list(repeated),
                }
            )
    return found
