"""Evaluate personalised mixes on the playlist-continuation split over split seeds; print one table.

    python scripts/evaluate_mixes.py                                  # the hybrid, seeds 0-2, bundled data
    python scripts/evaluate_mixes.py data=lastfm data.path=/path/to/hetrec2011-lastfm-2k
    python scripts/evaluate_mixes.py fill_with=ease split_seeds=[0] n=50

Writes `mix_runs.csv` (one row per seed), `mix_table.md` (mixes vs chunked single list vs catalogue clusters,
mean ± std) and `metrics.json` (means) to the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate_mixes")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.evaluate_mixes import run_mix_evaluation

    print(run_mix_evaluation(cfg, run_dir()))


if __name__ == "__main__":
    main()
