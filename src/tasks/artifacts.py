"""Trained-model manifests (`models/<name>.json` in a run directory) and loading a model back for embedding.

A manifest names the LightningModule class, its checkpoint and the fitted feature transformer, so
`scripts/embed.py` can map new tracks without knowing how the run was configured.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from src.data.errors import DataError
from src.data.features import FeatureTransformer
from src.recsys.rerank import RerankedRecommender
from src.utils.io import write_json

MANIFEST_DIR = "models"


def class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def write_manifest(
    run_dir: Path,
    name: str,
    model: pl.LightningModule,
    checkpoint: Path,
    features: Path,
    dim: int,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Record a trained model; paths are stored relative to the run dir so the directory can be moved."""
    run_dir = Path(run_dir)
    return write_json(
        run_dir / MANIFEST_DIR / f"{name}.json",
        {
            "name": name,
            "class": class_path(model),
            "checkpoint": str(Path(checkpoint).resolve().relative_to(run_dir.resolve())),
            "features": str(Path(features).resolve().relative_to(run_dir.resolve())),
            "dim": int(dim),
            "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        },
    )


def available_models(run_dir: Path) -> list[str]:
    return sorted(p.stem for p in (Path(run_dir) / MANIFEST_DIR).glob("*.json"))


@dataclass
class TrainedModel:
    """A model loaded from a run directory with the transformer that produced its inputs."""

    name: str
    module: pl.LightningModule
    transformer: FeatureTransformer
    manifest: dict[str, Any]


def load_trained(run_dir: str | Path, name: str) -> TrainedModel:
    """Load `models/<name>.json` from `run_dir`: the module (eval mode, CPU) and its feature transformer."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST_DIR / f"{name}.json"
    if not path.is_file():
        known = available_models(run_dir)
        raise DataError(
            f"{run_dir}: no trained model '{name}' ({path} missing); "
            f"models here: {', '.join(known) if known else 'none (not a training run directory?)'}"
        )
    manifest = json.loads(path.read_text())
    module_name, _, cls_name = manifest["class"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), cls_name)
    checkpoint = run_dir / manifest["checkpoint"]
    if not checkpoint.is_file():
        raise DataError(f"{run_dir}: checkpoint {checkpoint} listed in {path} is missing")
    module = cls.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=False)
    module.eval()
    transformer = FeatureTransformer.load(run_dir / manifest["features"])
    return TrainedModel(name, module, transformer, manifest)


def reranker_path(run_dir: str | Path, tower: str) -> Path:
    return Path(run_dir) / MANIFEST_DIR / f"{tower}_reranker.joblib"


def save_reranker(run_dir: str | Path, model: RerankedRecommender, tower: str) -> Path:
    """Save a fitted re-ranker beside the run's two-tower manifest (the tower itself stays in its checkpoint:
    it is detached here and re-attached from that checkpoint by `load_reranker`)."""
    import joblib

    detached = model.detached(tower)
    path = reranker_path(run_dir, tower)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(detached, tmp)
    tmp.replace(path)
    return path


def load_reranker(run_dir: str | Path, tower: str, module: Any) -> RerankedRecommender | None:
    """The run's saved re-ranker with its two-tower retriever rebuilt from `module`; None when there is none."""
    import joblib

    from src.recsys.two_tower import TwoTowerRecommender

    path = reranker_path(run_dir, tower)
    if not path.exists():
        return None
    model = joblib.load(path)
    if not isinstance(model, RerankedRecommender):
        raise DataError(f"{path}: not a saved re-ranker")
    model.attach(tower, TwoTowerRecommender.from_module(module, name=tower))
    return model
