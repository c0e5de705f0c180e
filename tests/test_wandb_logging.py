"""W&B: an offline run under the run directory with config, metrics, figures; secrets never written."""

from __future__ import annotations

import pytest

from helpers import TINY, run_script
from src.tasks.tracking import flatten, redact

SECRET = "sup3r-s3cret-value-for-test"


def test_redact_and_flatten():
    cfg = {"spotify": {"client_secret": "x", "client_id": "id"}, "api_key": "k", "a": [{"token": "t"}]}
    red = redact(cfg)
    assert red["spotify"]["client_secret"] == "***" and red["spotify"]["client_id"] == "id"
    assert red["api_key"] == "***" and red["a"][0]["token"] == "***"
    assert flatten({"a": {"b": 1, "c": {"d": 2}}}) == {"a.b": 1, "a.c.d": 2}


@pytest.mark.slow
def test_pipeline_writes_offline_wandb_run_without_secrets(tmp_path, synthetic_csv):
    run_dir = tmp_path / "run"
    overrides = [o for o in TINY if o != "logger=none"]
    result = run_script(
        "pipeline.py",
        *overrides,
        "logger=wandb",
        "data=csv",
        f"data.path={synthetic_csv}",
        "cluster.k=3",
        "logger.group=g1",
        "logger.tags=[t1]",
        f"hydra.run.dir={run_dir}",
        env={"SPOTIPY_CLIENT_SECRET": SECRET, "WANDB_API_KEY": SECRET},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    files = [p for p in runs[0].rglob("*") if p.is_file()]
    assert any(p.suffix == ".wandb" for p in files)
    assert any(p.suffix == ".png" for p in files)  # figures logged as images
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.stdout + result.stderr
