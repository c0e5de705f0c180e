"""Train a model from config: `python scripts/train.py [model=autoencoder|dec|idec] [overrides]`.

Examples:
    python scripts/train.py                                       # denoising autoencoder on the bundled data
    python scripts/train.py model=idec trainer=cpu trainer.max_epochs=40
    python scripts/train.py ckpt_path=outputs/train/runs/X/checkpoints/last.ckpt hydra.run.dir=outputs/train/runs/X
    python scripts/train.py trainer=ddp trainer.devices=4         # multi-GPU (DDP)
    python scripts/train.py -m model.bottleneck=4,8,16            # a sweep; returns the optimized metric

Writes checkpoints/, embeddings/<name>.parquet + .faiss, models/<name>.json, features.joblib, metrics.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@clean_errors
def main(cfg: DictConfig) -> float:
    from src.tasks.train import run_training

    metrics = run_training(cfg, run_dir())
    value = float(metrics.get(cfg.optimized_metric, float("nan")))
    print(f"{cfg.optimized_metric}: {value:.6g}  (run dir: {run_dir().resolve()})")
    return value


if __name__ == "__main__":
    main()
