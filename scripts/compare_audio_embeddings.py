"""Audio-only embeddings like for like: `python scripts/compare_audio_embeddings.py [embeddings=[raw,scarf]]
[inputs='{audio:[]}'] [seeds=[0,1]]`.

Prints the mean ± std table, the per-seed ratios to raw features on the same inputs and the label-free choice
(val_seed_ari on validation tracks); writes runs.csv, table.md, per_seed.md and selection.json to the run dir.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare_audio_embeddings")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.compare_audio import compare_audio

    compare_audio(cfg, run_dir())
    print(f"results: {run_dir().resolve()}")


if __name__ == "__main__":
    main()
