"""Where a run directory keeps the playlists it exported, for publishing."""

from __future__ import annotations

from pathlib import Path

EXPORT_DIRS = ("playlists", "mixes")  # scripts/pipeline.py writes playlists/, scripts/mixes.py mixes/


def export_dir(run_dir: str | Path) -> Path:
    """Where a run keeps its exported playlists: `playlists/` (pipeline) or `mixes/` (mixes)."""
    for name in EXPORT_DIRS:
        if (Path(run_dir) / name / "playlists.json").is_file():
            return Path(run_dir) / name
    return Path(run_dir) / EXPORT_DIRS[0]
