"""Collect a catalogue from Spotify into the canonical tables: `python scripts/spotify_collect.py [overrides]`.

Examples:
    python scripts/spotify_collect.py source.playlists='[https://open.spotify.com/playlist/ID]'
    python scripts/spotify_collect.py source.saved_tracks=true features.csv=my_features.csv
    python scripts/spotify_collect.py source.my_playlists=true hydra.run.dir=outputs/my_library
Re-running with the same hydra.run.dir resumes from the cached responses without refetching.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="spotify_collect")
@clean_errors
def main(cfg: DictConfig) -> int:
    from src.tasks.spotify import run_collect, spotify_errors

    report = spotify_errors(run_collect)(cfg, run_dir())
    return int(report.get("tracks", 0))


if __name__ == "__main__":
    main()
