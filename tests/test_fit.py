"""The one training path: best checkpoint by the model's own metric, final weights otherwise; callbacks from
config watch the model's metric when they say `monitor: null`."""

from __future__ import annotations

import functools

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from omegaconf import OmegaConf

from src.models.autoencoder import AutoencoderModule
from src.models.datamodule import FeatureDataModule
from src.models.fit import PeriodicEarlyStopping, best_checkpoint, fit_model, predict_vectors
from src.tasks.fit import build_callbacks


def _data() -> FeatureDataModule:
    X = np.random.default_rng(0).normal(size=(200, 5)).astype(np.float32)
    return FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=50, val_fraction=0.2)


def _trainer(epochs: int, directory) -> functools.partial:
    return functools.partial(
        pl.Trainer,
        max_epochs=epochs,
        accelerator="cpu",
        default_root_dir=str(directory),
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def test_best_checkpoint_follows_the_models_monitor(tmp_path):
    model = AutoencoderModule(input_dim=5, hidden=[8], bottleneck=2)
    ckpt = best_checkpoint(model, tmp_path)
    assert (ckpt.monitor, ckpt.mode) == ("val/loss", "min")

    class Never(AutoencoderModule):
        monitor_every = 0

    assert best_checkpoint(Never(input_dim=5, hidden=[8], bottleneck=2), tmp_path) is None


def test_fit_model_returns_the_best_epochs_weights(tmp_path):
    pl.seed_everything(0, verbose=False)
    model = AutoencoderModule(input_dim=5, hidden=[8], bottleneck=2, lr=1e-2)
    dm = _data()
    callbacks = [best_checkpoint(model, tmp_path)]
    result = fit_model(model, dm, _trainer(4, tmp_path), callbacks, tmp_path)
    assert result.checkpoint.is_file() and result.checkpoint.name == "best.ckpt"
    assert result.metrics["val/loss"] == float(callbacks[0].best_model_score)
    saved = torch.load(result.checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    for key, value in result.model.state_dict().items():
        torch.testing.assert_close(value, saved[key])
    vectors = predict_vectors(result.model, dm)
    assert vectors.shape == (200, 2)


def test_fit_model_saves_final_weights_without_a_checkpoint(tmp_path):
    model = AutoencoderModule(input_dim=5, hidden=[8], bottleneck=2)
    trainer = functools.partial(_trainer(1, tmp_path), enable_checkpointing=False)
    result = fit_model(model, _data(), trainer, [], tmp_path)
    assert result.checkpoint == tmp_path / "final.ckpt" and result.checkpoint.is_file()


def test_config_callbacks_with_null_monitor_watch_the_model(tmp_path):
    cfg = OmegaConf.create(
        {
            "model_checkpoint": {
                "_target_": "lightning.pytorch.callbacks.ModelCheckpoint",
                "monitor": None,
                "every_n_epochs": 1,
            },
            "early_stopping": {
                "_target_": "src.models.fit.PeriodicEarlyStopping",
                "monitor": None,
                "patience": 2,
            },
            "off": None,
        }
    )
    model = AutoencoderModule(input_dim=5, hidden=[8], bottleneck=2)
    ckpt, stop = build_callbacks(cfg, model, model_checkpoint={"dirpath": str(tmp_path)})
    assert isinstance(ckpt, ModelCheckpoint) and isinstance(stop, EarlyStopping)
    assert (ckpt.monitor, ckpt.mode, ckpt.dirpath) == ("val/loss", "min", str(tmp_path))
    assert stop.monitor == "val/loss" and stop.every_n_epochs == 1

    class Sparse(AutoencoderModule):  # a metric computed every 5 epochs (like the two-tower's recall@100)
        monitor = "val/recall@100"
        monitor_mode = "max"
        monitor_every = 5

    ckpt, stop = build_callbacks(cfg, Sparse(input_dim=5, hidden=[8], bottleneck=2))
    assert (ckpt.monitor, ckpt.mode, ckpt._every_n_epochs) == ("val/recall@100", "max", 5)
    assert stop.monitor == "val/recall@100" and stop.every_n_epochs == 5


class _EveryThird(pl.LightningModule):
    """Logs `val/score` every third epoch only, improving each time (like the two-tower's recall@100)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        return (self.w - 1).pow(2).sum()

    def validation_step(self, batch, batch_idx):
        pass

    def on_validation_epoch_end(self) -> None:
        if (self.current_epoch + 1) % 3 == 0:
            self.log("val/score", float(self.current_epoch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=2)

    def val_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(2, 1), batch_size=2)


def test_periodic_early_stopping_ignores_epochs_without_the_metric(tmp_path):
    # a plain EarlyStopping would see the stale value on the two epochs in between and stop after patience=2
    stop = PeriodicEarlyStopping(monitor="val/score", mode="max", patience=2, every_n_epochs=3)
    trainer = _trainer(12, tmp_path)(callbacks=[stop], logger=False, enable_checkpointing=False)
    trainer.fit(_EveryThird())
    assert trainer.current_epoch == 12 and stop.wait_count == 0
    never = PeriodicEarlyStopping(
        monitor="val/absent", patience=1, every_n_epochs=0
    )  # never computed: no error
    _trainer(2, tmp_path)(callbacks=[never], logger=False, enable_checkpointing=False).fit(_EveryThird())
