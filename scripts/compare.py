"""One table across methods: `python scripts/compare.py inputs=[MULTIRUN_DIR_OR_RUN_DIRS]`.

Prints methods × metrics (mean ± std over seeds, best per column in bold) and writes comparison.csv,
comparison.md, comparison.png and sweep_report.html into the run directory; logs the table to W&B.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.compare import run_compare

    markdown = run_compare(cfg, run_dir())
    print(markdown)
    print(f"comparison: {run_dir().resolve() / 'comparison.md'}")


if __name__ == "__main__":
    main()
