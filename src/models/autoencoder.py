"""MLP autoencoder over the feature matrix: encoder → bottleneck → decoder, optionally denoising.

The bottleneck is the track embedding. Denoising (feature masking and/or Gaussian noise on the inputs, the
target stays clean) pushes the code towards structure shared by several features instead of copying each one.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning.pytorch as pl
import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}


def mlp(dims: Sequence[int], activation: str = "relu", dropout: float = 0.0) -> nn.Sequential:
    """Linear layers through `dims`, with activation (and dropout) between them but not after the last."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: choose from {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def feature_mask(x: torch.Tensor, mask_prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Denoising mask: True where a feature is kept; each entry is dropped with `mask_prob`. Dropped entries are
    set to 0, the mean of a z-scored column."""
    return torch.rand(x.shape, generator=generator, device=x.device) >= mask_prob


def first_tensor(batch: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Feature batches come as a tensor or a 1-tuple from a TensorDataset."""
    return batch if isinstance(batch, torch.Tensor) else batch[0]


class AutoencoderModule(pl.LightningModule):
    """Reconstruct the (clean) features from a corrupted copy; `encode` gives the embedding.

    Args:
        input_dim: number of feature columns (given by the datamodule).
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        bottleneck: embedding size.
        activation: relu | gelu | elu | tanh.
        dropout: dropout between hidden layers.
        mask_prob: denoising: probability of masking each input feature during training.
        masked_loss: score only the masked features (masked-feature modelling): the code then has to carry
            what the *other* features say about a feature, and features no other feature predicts (noise for
            the structure shared across features) stop driving it. Needs `mask_prob` > 0.
        noise_std: denoising: std of Gaussian noise added to inputs during training.
        lr, weight_decay: AdamW settings.
        name: the embedding's name (`embeddings/<name>.parquet`).
    """

    # The metric whose best epoch the training path keeps (ModelCheckpoint), and how often it is computed.
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    monitor_every: int = 1

    def __init__(
        self,
        input_dim: int,
        hidden: Sequence[int] = (64, 64),
        bottleneck: int = 8,
        activation: str = "relu",
        dropout: float = 0.0,
        mask_prob: float = 0.0,
        noise_std: float = 0.0,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        name: str = "autoencoder",
        masked_loss: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        hidden = [int(h) for h in hidden]
        self.name = name
        self.encoder = mlp([input_dim, *hidden, bottleneck], activation, dropout)
        self.decoder = mlp([bottleneck, *reversed(hidden), input_dim], activation, dropout)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def reconstruction(
        self, x: torch.Tensor, noisy: bool, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(bottleneck, mean squared reconstruction error against the clean input).

        With `masked_loss` and `noisy`, the error counts only the masked entries."""
        if not noisy:
            z = self.encoder(x)
            return z, nn.functional.mse_loss(self.decoder(z), x)
        hp = self.hparams
        keep = feature_mask(x, hp.mask_prob, generator)
        source = x * keep.to(x.dtype)
        if hp.noise_std > 0:
            source = source + hp.noise_std * torch.randn_like(x)
        z = self.encoder(source)
        error = (self.decoder(z) - x).pow(2)
        if hp.get("masked_loss", False):
            masked = (~keep).to(x.dtype)
            return z, (error * masked).sum() / masked.sum().clamp_min(1.0)
        return z, error.mean()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        _, loss = self.reconstruction(first_tensor(batch), noisy=True)
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x = first_tensor(batch)
        _, recon = self.reconstruction(x, noisy=False)
        self.log("val/recon", recon, on_epoch=True)
        if self.hparams.get("masked_loss", False):  # same objective as training, with a fixed mask per batch
            generator = torch.Generator(device=x.device).manual_seed(batch_idx)
            _, loss = self.reconstruction(x, noisy=True, generator=generator)
        else:
            loss = recon
        self.log("val/loss", loss, prog_bar=True, on_epoch=True)

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return self.encode(first_tensor(batch))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
