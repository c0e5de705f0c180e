"""Run an entry script the way a user does (a subprocess), for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Small budgets so a whole pipeline run takes seconds.
TINY = [
    "logger=none",
    "progress=false",
    "cluster.k_max=6",
    "cluster.n_init=2",
    "cluster.recluster.min_size=10",
    "cluster.recluster.k_max=3",
    "evaluation.fixed_k=[3]",
    "evaluation.stability_seeds=2",
    "evaluation.silhouette_size=500",
    "playlists.max_tracks=10",
    "playlists.n_auto_seeds=1",
    "playlists.seeded_size=8",
]


def run_script(
    script: str,
    *overrides: str,
    env: dict[str, str] | None = None,
    timeout: int = 600,
    stdin: int | None = None,
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "WANDB_MODE": "offline", **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *overrides],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
        stdin=stdin,
    )


def run_tiny_pipeline(run_dir: Path, data_path: Path, *overrides: str) -> None:
    """`scripts/pipeline.py` with the tiny settings on a bundled-format file into `run_dir`; a failure fails the
    test with the script's stderr."""
    result = run_script(
        "pipeline.py", *TINY, "data=bundled", f"data.path={data_path}", *overrides, f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr[-3000:]


def quiet_trainer(max_epochs: int):
    """A CPU Lightning Trainer that writes and prints nothing (unit tests of the models)."""
    import lightning.pytorch as pl

    return pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
