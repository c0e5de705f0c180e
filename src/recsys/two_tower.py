"""The two-tower model behind the recommender interface: train on train, early-stop on validation."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.evaluation.recommend import RecData
from src.models.two_tower import FEATURES, TwoTowerModule
from src.models.two_tower_data import TwoTowerDataModule
from src.recsys.base import Recommender

log = logging.getLogger(__name__)


@dataclass
class TwoTowerRecommender(Recommender):
    """Fit a `TwoTowerModule` with a plain Lightning Trainer (CPU by default); keep the best val epoch.

    `model` holds TwoTowerModule arguments (features, dim, temperature, …); `datamodule` TwoTowerDataModule ones.
    """

    features: Sequence[str] = FEATURES
    max_epochs: int = 60
    model: dict = field(default_factory=dict)
    datamodule: dict = field(default_factory=dict)
    accelerator: str = "cpu"
    seed: int = 0
    progress: bool = False
    name: str = "two_tower"
    uses_validation: bool = True

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> TwoTowerRecommender:
        pl.seed_everything(self.seed, verbose=False)
        self._n_items = train.shape[1]
        val = val if val is not None else sp.csr_matrix(train.shape, dtype=np.float32)
        data = RecData(
            items, np.arange(train.shape[0]), train, val, sp.csr_matrix(train.shape, dtype=np.float32)
        )
        self.dm = TwoTowerDataModule.from_data(data, seed=self.seed, **self.datamodule)
        self.dm.setup("fit")
        self.module = TwoTowerModule(
            **self.dm.model_kwargs(), features=list(self.features), name=self.name, **self.model
        )
        trainer = pl.Trainer(
            max_epochs=self.max_epochs,
            accelerator=self.accelerator,
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=self.progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        started = time.perf_counter()
        trainer.fit(self.module, datamodule=self.dm)
        self.train_seconds = time.perf_counter() - started
        self.samples_per_second = (
            self.dm.targets_per_epoch * trainer.current_epoch / max(self.train_seconds, 1e-9)
        )
        self.best_val = self.module.restore_best()
        self.module.cpu().eval()
        self._items = self.module.all_item_vectors()
        log.info(
            "%s: trained %d epochs in %.1fs (%.0f samples/s), best val recall@100 %s",
            self.name,
            trainer.current_epoch,
            self.train_seconds,
            self.samples_per_second,
            self.best_val,
        )
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return self.module.score_histories(history, self._items)

    @property
    def item_vectors(self) -> np.ndarray:
        return self._items
