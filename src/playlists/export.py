"""Write playlists as JSON, CSV and one M3U8 per playlist (atomically)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from src.playlists.build import Playlist
from src.playlists.order import camelot_label
from src.utils.io import write_csv, write_json, write_text


def slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "playlist"


def playlists_table(playlists: list[Playlist], tracks: pd.DataFrame) -> pd.DataFrame:
    """One row per (playlist, position) with the track's name, artist and listening features."""
    by_id = tracks.set_index(tracks["track_id"].astype(str))
    rows = []
    for p in playlists:
        for pos, tid in enumerate(p.track_ids, start=1):
            t = by_id.loc[tid]
            rows.append(
                {
                    "playlist_id": p.playlist_id,
                    "playlist_name": p.name,
                    "kind": p.kind,
                    "position": pos,
                    "track_id": tid,
                    "name": t.get("name"),
                    "artist": t.get("artist"),
                    "tempo": round(float(t["tempo"]), 1),
                    "energy": round(float(t["energy"]), 3),
                    "camelot": camelot_label(int(round(t["key"])), int(round(t["mode"]))),
                    "duration_s": int(round(float(t["duration_ms"]) / 1000)),
                }
            )
    return pd.DataFrame(rows)


def _m3u8(playlist: Playlist, table: pd.DataFrame) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{playlist.name}"]
    for row in table.itertuples(index=False):
        title = f"{row.artist} - {row.name}" if isinstance(row.artist, str) else str(row.name)
        lines += [f"#EXTINF:{row.duration_s},{title}", f"spotify:track:{row.track_id}"]
    return "\n".join(lines) + "\n"


def export_playlists(playlists: list[Playlist], tracks: pd.DataFrame, out_dir: str | Path) -> pd.DataFrame:
    """Write playlists.json, playlists.csv and NN-name.m3u8 files under `out_dir`; returns the table."""
    out_dir = Path(out_dir)
    table = playlists_table(playlists, tracks)
    write_json(out_dir / "playlists.json", [p.to_dict() for p in playlists])
    write_csv(out_dir / "playlists.csv", table)
    for p in playlists:
        rows = table[table["playlist_id"] == p.playlist_id]
        write_text(out_dir / f"{p.playlist_id}-{slug(p.name)}.m3u8", _m3u8(p, rows))
    return table
