"""Synthetic Million Playlist Dataset slices with a realistic shape: `python scripts/make_synthetic_mpd.py`.

Examples:
    python scripts/make_synthetic_mpd.py out_dir=/data/synth_mpd_5k        # ≈ 5k playlists, 170k tracks, 0.5M rows
    python scripts/make_synthetic_mpd.py params.n_playlists=20000 params.seed=1 out_dir=/data/synth_mpd_20k

Writes `mpd.slice.<start>-<end>.json`, `features.csv` and `synthetic_mpd.json` (parameters + achieved shape)
into `out_dir` (default: `mpd/` in the run directory) and prints the shape. Read them back with
`data=mpd data.path=OUT_DIR data.features_path=OUT_DIR/features.csv`. The model: src/data/synthetic_mpd.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.tasks.entry import clean_errors  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="make_synthetic_mpd")
@clean_errors
def main(cfg: DictConfig) -> int:
    from src.data.synthetic_mpd import SyntheticMPDParams, generate

    params = SyntheticMPDParams(**OmegaConf.to_container(cfg.params, resolve=True))
    out_dir = Path(cfg.out_dir)
    shape = generate(params, out_dir, progress=bool(cfg.progress), split_seed=cfg.split_seed)
    print(
        f"{shape['playlists']} playlists, {shape['distinct_tracks']} distinct tracks, {shape['rows']} rows; "
        f"length mean {shape['mean_length']:.1f}, median {shape['median_length']:.0f}, "
        f"range {shape['min_length']}-{shape['max_length']}"
    )
    print(
        f"tracks seen once: {shape['tracks_seen_once']:.1%} of tracks ({shape['rows_of_tracks_seen_once']:.1%} "
        f"of rows); top 1% of tracks hold {shape['top1pct_tracks_row_share']:.1%} of rows; "
        f"{shape['distinct_artists']} artists, {shape['distinct_albums']} albums"
    )
    if "cold_share" in shape:
        print(
            f"split seed {cfg.split_seed}: {shape['cold_share']:.1%} of test rows are cold (not in train or val)"
        )
    print(f"slices: {out_dir.resolve()}")
    return int(shape["rows"])


if __name__ == "__main__":
    main()
