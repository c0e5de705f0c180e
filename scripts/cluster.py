"""Clustering only (no playlists): `python scripts/cluster.py [overrides]`.

Writes clusters.parquet, metrics.json, embeddings/, figures/ into the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="cluster")
@clean_errors
def main(cfg: DictConfig) -> float:
    from src.tasks.pipeline import run_clustering
    from src.tasks.staging import staged
    from src.tasks.tracking import start_logger
    from src.utils.io import write_json

    logger = start_logger(cfg)
    with staged(run_dir()) as stage:  # a failed run leaves no partial artifacts
        run = run_clustering(cfg, stage)
        write_json(stage / "metrics.json", run.metrics)
        if logger is not None:
            logger.log_metrics(run.metrics)
            logger.log_figures(run.figures)
            logger.finish()
    print(f"clusters: {run_dir().resolve() / 'clusters.parquet'}")
    return float(run.metrics.get("silhouette", float("nan")))


if __name__ == "__main__":
    main()
