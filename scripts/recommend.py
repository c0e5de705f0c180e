"""Continue a playlist (a list of track ids) or a user's tracks with a trained two-tower model.

    python scripts/recommend.py run_dir=RUN_DIR tracks=[4Sdw0xy5rvIE0cxRd2Gwxr,0r7CVbZTWZgbTCYdfa2P31] n=20
    python scripts/recommend.py run_dir=RUN_DIR user=37i9dQZF1DXcZDD7cfEKhW n_seed_tracks=5

Prints the ranked tracks and writes them to `output` (CSV: rank, track_id, name, artist, score). The playlist
needs no retraining: the query tower pools the item vectors of its tracks.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.data.errors import DataError  # noqa: E402
from src.tasks.entry import clean_errors  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="recommend")
@clean_errors
def main(cfg: DictConfig) -> None:
    from hydra.utils import instantiate

    from src.tasks.recommend import continue_playlist, seed_tracks
    from src.utils.io import write_csv

    if OmegaConf.is_missing(cfg, "run_dir"):
        raise DataError("missing argument run_dir=RUN_DIR (a run with a trained two-tower model)")
    catalog = instantiate(cfg.data, _convert_="all").load()
    seeds = seed_tracks(catalog, list(cfg.tracks), cfg.user, cfg.n_seed_tracks)
    table = continue_playlist(cfg.run_dir, catalog.tracks, seeds, int(cfg.n), cfg.model_name)
    write_csv(cfg.output, table)
    print(f"continuing {len(seeds)} track(s):")
    print(table.to_string(index=False))
    print(f"recommendations: {Path(cfg.output).resolve()}")


if __name__ == "__main__":
    main()
