"""The two-tower model behind the recommender interface: train on train, keep the best validation epoch."""

from __future__ import annotations

import functools
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.interactions import RecData
from src.models.fit import best_checkpoint, fit_model
from src.models.two_tower import TwoTowerModule
from src.models.two_tower_data import TwoTowerDataModule
from src.recsys.base import Recommender
from src.recsys.retrieval import InnerProductIndex

log = logging.getLogger(__name__)


@dataclass
class TwoTowerRecommender(Recommender):
    """Fit a `TwoTowerModule` through the one training path (`src.models.fit.fit_model`): Lightning's
    `ModelCheckpoint` keeps the epoch with the best `val/recall@100` (evaluated every `model.eval_every` epochs),
    whose weights are loaded back.

    `model` is the model config (configs/model/two_tower.yaml) as a partial, or a dict of TwoTowerModule
    arguments; `features` (when set) overrides its item inputs (ablations); `datamodule` holds TwoTowerDataModule
    arguments; `max_minutes` (optional) stops training after that wall-clock budget (Lightning's `max_time`),
    keeping the best validated epoch so far. `checkpoint_dir` keeps the checkpoint
    (a run directory's `checkpoints/<name>`); without one it lives in a temporary directory.
    """

    model: Callable[..., TwoTowerModule] | Mapping[str, Any] = field(default_factory=dict)
    datamodule: dict = field(default_factory=dict)
    features: Sequence[str] | None = None
    max_epochs: int = 20
    max_minutes: float | None = None
    accelerator: str = "cpu"
    seed: int = 0
    progress: bool = False
    checkpoint_dir: str | None = None
    name: str = "two_tower"
    uses_validation: bool = True

    def _trainer(self, directory: Path, checkpointing: bool) -> Callable[..., pl.Trainer]:
        return functools.partial(
            pl.Trainer,
            default_root_dir=str(directory),
            enable_checkpointing=checkpointing,
            max_epochs=self.max_epochs,
            max_time=None if not self.max_minutes else timedelta(minutes=float(self.max_minutes)),
            accelerator=self.accelerator,
            devices=1,
            enable_progress_bar=self.progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )

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
        make = self.model if callable(self.model) else functools.partial(TwoTowerModule, **self.model)
        args = {} if self.features is None else {"features": list(self.features)}
        module = make(**self.dm.model_kwargs(), **args, name=self.name)
        with _checkpoint_dir(self.checkpoint_dir) as directory:
            callbacks = [c for c in [best_checkpoint(module, directory)] if c is not None]
            started = time.perf_counter()
            result = fit_model(
                module, self.dm, self._trainer(directory, bool(callbacks)), callbacks, directory
            )
            self.train_seconds = time.perf_counter() - started
            self.checkpoint = result.checkpoint if self.checkpoint_dir else None
        epochs = result.trainer.current_epoch
        self.samples_per_second = self.dm.targets_per_epoch * epochs / max(self.train_seconds, 1e-9)
        self.best_val = result.metrics.get("val/recall@100")
        self.module = result.model.cpu().eval()
        self._items = self.module.all_item_vectors()
        self._index = InnerProductIndex(self._items)
        log.info(
            "%s: trained %d epochs in %.1fs (%.0f samples/s), best val recall@100 %s",
            self.name,
            epochs,
            self.train_seconds,
            self.samples_per_second,
            self.best_val,
        )
        return self

    @classmethod
    def from_module(cls, module: TwoTowerModule, name: str = "two_tower") -> TwoTowerRecommender:
        """A fitted recommender around an already trained module (e.g. loaded from a run's checkpoint)."""
        out = cls(name=name)
        out.module = module.cpu().eval()
        out._n_items = int(module.hparams.n_items)
        out._items = out.module.all_item_vectors()
        out._index = InnerProductIndex(out._items)
        return out

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.module.retrieve(history, k, self._items, self._index)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        return self.module.score_candidates(history, candidates, self._items)

    @property
    def item_vectors(self) -> np.ndarray:
        return self._items

    def __getstate__(self) -> dict[str, Any]:
        """Pickles as the fitted model only: the data module (the training data itself) stays behind."""
        state = dict(self.__dict__)
        state.pop("dm", None)
        return state


@contextmanager
def _checkpoint_dir(path: str | None) -> Iterator[Path]:
    """The given checkpoint directory, or a temporary one removed after the best weights were loaded."""
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="two_tower_") as tmp:
        yield Path(tmp)
