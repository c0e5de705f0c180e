"""Choose τ and w_audio of the hybrid embedding on validation pairs: `python scripts/select_affinity.py run_dir=RUN`.

RUN is a pipeline run of `experiment=hybrid`; prints the τ × w_audio grid of `val_lift@k` and the choice, and
writes selection.csv, selection.md and selection.json into the run directory. No test row is read.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="select_affinity")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.select_affinity import select_affinity

    select_affinity(cfg, run_dir())
    print((run_dir() / "selection.md").read_text())
    print(f"selection: {run_dir().resolve() / 'selection.json'}")


if __name__ == "__main__":
    main()
