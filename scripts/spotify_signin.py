"""Sign in to Spotify once, from a terminal: `python scripts/spotify_signin.py [spotify.* overrides]`.

Scheduled jobs and CI have no terminal to sign in from; they reuse the token this saves (and refresh it).
Examples:
    python scripts/spotify_signin.py                              # opens the browser
    python scripts/spotify_signin.py spotify.open_browser=false   # prints a URL to open on any machine
    python scripts/spotify_signin.py spotify.token_cache=/srv/playlist-lab/token.json
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="spotify_signin")
@clean_errors
def main(cfg: DictConfig) -> int:
    from src.tasks.spotify import run_signin, spotify_errors

    spotify_errors(run_signin)(cfg, run_dir())
    return 0


if __name__ == "__main__":
    main()
