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


def corrupt(x: torch.Tensor, mask_prob: float = 0.0, noise_std: float = 0.0) -> torch.Tensor:
    """Denoising input: zero each feature with `mask_prob` (the mean of a z-scored column), add N(0, noise_std²)."""
    if mask_prob > 0:
        x = x * (torch.rand_like(x) >= mask_prob).to(x.dtype)
    if noise_std > 0:
        x = x + noise_std * torch.randn_like(x)
    return x


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
        noise_std: denoising: std of Gaussian noise added to inputs during training.
        lr, weight_decay: AdamW settings.
        name: the embedding's name (`embeddings/<name>.parquet`).
    """

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

    def reconstruction(self, x: torch.Tensor, noisy: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(bottleneck, mean squared reconstruction error against the clean input)."""
        source = corrupt(x, self.hparams.mask_prob, self.hparams.noise_std) if noisy else x
        z = self.encoder(source)
        return z, nn.functional.mse_loss(self.decoder(z), x)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        _, loss = self.reconstruction(first_tensor(batch), noisy=True)
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        _, loss = self.reconstruction(first_tensor(batch), noisy=False)
        self.log("val/recon", loss, on_epoch=True)
        self.log("val/loss", loss, prog_bar=True, on_epoch=True)

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return self.encode(first_tensor(batch))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
