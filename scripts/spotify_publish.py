"""Publish a pipeline run's playlists to your Spotify account: `python scripts/spotify_publish.py run_dir=DIR`.

Examples:
    python scripts/spotify_publish.py run_dir=outputs/demo --dry-run   # show what would change
    python scripts/spotify_publish.py run_dir=outputs/demo             # create / update, never duplicate
    python scripts/spotify_publish.py run_dir=outputs/demo kinds=[cluster] name_prefix="Mine · "
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402

# `--dry-run` reads naturally on the command line; Hydra only knows key=value, so translate it.
sys.argv = [("dry_run=true" if arg == "--dry-run" else arg) for arg in sys.argv]


@hydra.main(version_base="1.3", config_path="../configs", config_name="spotify_publish")
@clean_errors
def main(cfg: DictConfig) -> int:
    from src.tasks.spotify import run_publish, spotify_errors

    result = spotify_errors(run_publish)(cfg, run_dir())
    return len(result.get("changes", []))


if __name__ == "__main__":
    main()
