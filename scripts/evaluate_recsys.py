"""Evaluate recommenders on the playlist-continuation protocol over split seeds; print one table.

    python scripts/evaluate_recsys.py                                 # all models, seeds 0-2, bundled data
    python scripts/evaluate_recsys.py models=[random,popularity,als,heuristic] split_seeds=[0,1,2]
    python scripts/evaluate_recsys.py data=lastfm data.path=/path/to/hetrec2011-lastfm-2k models=[als,two_tower]

Writes `recsys_runs.csv` (one row per model × seed), `recsys_table.md` (mean ± std) and `metrics.json`
(`<model>/<metric>` means) to the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate_recsys")
@clean_errors
def main(cfg: DictConfig) -> float:
    from src.tasks.evaluate_recsys import run_evaluation

    table = run_evaluation(cfg, run_dir())
    print(table)
    print(f"results: {run_dir().resolve()}")
    return 0.0


if __name__ == "__main__":
    main()
