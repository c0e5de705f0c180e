"""The whole playlist pipeline on one catalogue: `python scripts/pipeline.py [overrides]`.

Examples:
    python scripts/pipeline.py                                   # bundled data, k chosen by the elbow
    python scripts/pipeline.py embedding=raw cluster.k=6 hydra.run.dir=out/k6
    python scripts/pipeline.py data=csv data.path=my.csv data.id_column=instance_id
    python scripts/pipeline.py -m cluster.k=6,12,24 seed=0,1,2  # a sweep
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="pipeline")
@clean_errors
def main(cfg: DictConfig) -> float:
    from src.tasks.pipeline import run_pipeline

    metrics = run_pipeline(cfg, run_dir())
    print(f"report: {run_dir().resolve() / 'report.html'}")
    return float(metrics.get(cfg.get("optimized_metric", "silhouette"), float("nan")))


if __name__ == "__main__":
    main()
