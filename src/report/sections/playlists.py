"""Playlists as a shelf of covers, then one card each: cover, profile, length, smoothness, track list."""

from __future__ import annotations

import pandas as pd

from src.playlists.build import Playlist
from src.report.covers import BAR_FEATURES, cover_svg, feature_profile
from src.report.format import fmt_minutes
from src.report.html import Section, render

NOTE_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")


def key_name(key: float, mode: float) -> str:
    """`A minor` from Spotify's pitch class (0 = C) and mode (1 = major)."""
    return f"{NOTE_NAMES[int(round(key)) % 12]} {'major' if int(round(mode)) == 1 else 'minor'}"


def _origin(p: Playlist) -> str:
    if p.kind == "cluster":
        return f"cluster {p.cluster}"
    if p.kind == "subcluster":
        return f"cluster {p.cluster} · part {p.subcluster}"
    return "more like this"


def _card(p: Playlist, rows: pd.DataFrame, by_id: pd.DataFrame, open_: bool) -> dict:
    members = by_id.loc[[t for t in p.track_ids if t in by_id.index]]
    profile = feature_profile(members)
    tracks = []
    for row in rows.itertuples(index=False):
        t = by_id.loc[row.track_id] if row.track_id in by_id.index else None
        key = key_name(t["key"], t["mode"]) if t is not None else ""
        tracks.append(
            {
                "position": row.position,
                "title": row.name,
                "artist": row.artist,
                "tempo": f"{row.tempo:.0f}",
                "key": f"{key} ({row.camelot})" if key else row.camelot,
                "energy": f"{row.energy:.2f}",
                "length": fmt_minutes(row.duration_s),
            }
        )
    sb, sa = p.smoothness_before, p.smoothness_after
    return {
        "id": f"playlist-{p.playlist_id}",
        "playlist_id": p.playlist_id,
        "name": p.name,
        "origin": _origin(p),
        "description": p.description,
        "cover": cover_svg(profile, p.name, f"card-{p.playlist_id}"),
        "thumb": cover_svg(profile, p.name, f"shelf-{p.playlist_id}", size=96),
        "n": len(p.track_ids),
        "minutes": f"{p.minutes:.0f}" if p.minutes >= 10 else f"{p.minutes:.1f}",
        "chips": [f"{f} {profile[f]:.2f}" for f, _ in BAR_FEATURES[:4] if f in profile]
        + ([f"{profile['tempo']:.0f} BPM avg"] if "tempo" in profile else []),
        "smooth": (
            f"tempo step {sb.get('tempo_bpm', 0):.1f} → {sa.get('tempo_bpm', 0):.1f} BPM · "
            f"key step {sb.get('camelot', 0):.2f} → {sa.get('camelot', 0):.2f} (Camelot) · "
            f"energy step {sb.get('energy', 0):.2f} → {sa.get('energy', 0):.2f}"
        ),
        "tracks": tracks,
        "open": open_,
    }


def playlists_section(
    playlists: list[Playlist], table: pd.DataFrame, tracks: pd.DataFrame, open_first: int = 3
) -> Section:
    """Every playlist of the run; `table` is the export table (one row per position), `tracks` the catalogue."""
    by_id = tracks.set_index(tracks["track_id"].astype(str))
    by_playlist = {pid: rows for pid, rows in table.groupby("playlist_id", sort=False)}
    empty = table.iloc[:0]
    cards = [
        _card(p, by_playlist.get(p.playlist_id, empty), by_id, i < open_first)
        for i, p in enumerate(playlists)
    ]
    body = render("playlists.html.j2", cards=cards)
    return Section("playlists", f"Playlists ({len(cards)})", body, nav="Playlists")
