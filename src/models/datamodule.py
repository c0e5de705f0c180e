"""Feature-matrix datamodule: catalogue source → fitted features → train/val tensors (one row per track).

Validation tracks (a seeded fraction of the catalogue) are held out of training *and* of fitting the feature
transformer, so `val/recon` is an honest, label-free model-selection criterion.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from src.data.errors import DataError
from src.data.features import FeatureConfig, FeatureTransformer
from src.data.sources import Catalog, TableSource

log = logging.getLogger(__name__)


def split_rows(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) row indices; at least one row stays in train, val may be empty."""
    if n < 1:
        raise DataError("no tracks to train on")
    rng = np.random.default_rng(seed)
    n_val = min(int(round(val_fraction * n)), n - 1) if val_fraction > 0 else 0
    order = rng.permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


class FeatureDataModule(pl.LightningDataModule):
    """Tracks as rows of the feature matrix. Built from a catalogue source (`scripts/train.py`) or from a
    ready matrix (`from_arrays`, used inside the pipeline where features are already fitted).

    Args:
        source: a catalogue source (the `data` config group, e.g. `CsvSource`).
        features: the feature configuration (the `features` config group).
        batch_size: training batch size.
        val_fraction: share of tracks held out for validation (reconstruction) and early stopping.
        num_workers: DataLoader workers.
        seed: seed of the train/val split and of the shuffling.
        split_seed: seed of the train/val split alone (None: `seed`); a fixed one holds the same validation
            tracks out of models trained with different seeds, so they can be compared on them.
        output_dir: where the fitted transformer is saved (`features.joblib`), if given.
    """

    def __init__(
        self,
        source: TableSource | None = None,
        features: FeatureConfig | None = None,
        batch_size: int = 256,
        val_fraction: float = 0.1,
        num_workers: int = 0,
        seed: int = 0,
        output_dir: str | Path | None = None,
        split_seed: int | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.features = features or FeatureConfig()
        self.batch_size = int(batch_size)
        self.val_fraction = float(val_fraction)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.split_seed = self.seed if split_seed is None else int(split_seed)
        self.output_dir = Path(output_dir) if output_dir else None
        self.catalog: Catalog | None = None
        self.transformer: FeatureTransformer | None = None
        self.X: np.ndarray | None = None
        self.track_ids: np.ndarray | None = None
        self.train_idx = self.val_idx = np.empty(0, dtype=np.int64)

    @classmethod
    def from_arrays(
        cls,
        X: np.ndarray,
        track_ids: Sequence[Any],
        transformer: FeatureTransformer | None = None,
        **kwargs: Any,
    ) -> FeatureDataModule:
        dm = cls(**kwargs)
        dm.X = np.ascontiguousarray(X, dtype=np.float32)
        dm.track_ids = np.asarray(track_ids).astype(str)
        dm.transformer = transformer
        dm.train_idx, dm.val_idx = split_rows(len(dm.X), dm.val_fraction, dm.split_seed)
        return dm

    def setup(self, stage: str | None = None) -> None:
        if self.X is not None:
            return
        if self.source is None:
            raise DataError("FeatureDataModule needs a catalogue source or arrays")
        self.catalog = self.source.load()
        tracks = self.catalog.tracks
        self.train_idx, self.val_idx = split_rows(len(tracks), self.val_fraction, self.split_seed)
        self.transformer = FeatureTransformer(self.features).fit(tracks.iloc[self.train_idx])
        self.X = self.transformer.transform(tracks)
        self.track_ids = tracks["track_id"].astype(str).to_numpy()
        if self.output_dir is not None:
            self.transformer.save(self.output_dir / "features.joblib")
        log.info(
            "datamodule: %d tracks × %d features (%d train, %d val)",
            *self.X.shape,
            len(self.train_idx),
            len(self.val_idx),
        )

    def model_kwargs(self) -> dict[str, Any]:
        """What a model needs to know about the data to be built (here: the input width)."""
        if self.X is None:
            self.setup("fit")
        assert self.X is not None
        return {"input_dim": int(self.X.shape[1])}

    def _loader(self, rows: np.ndarray, shuffle: bool) -> DataLoader:
        assert self.X is not None
        data = TensorDataset(torch.from_numpy(self.X[rows]))
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            data,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            generator=generator,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_idx, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        rows = self.val_idx if len(self.val_idx) else self.train_idx
        return self._loader(rows, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        assert self.X is not None
        return self._loader(np.arange(len(self.X)), shuffle=False)
