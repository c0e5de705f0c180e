"""MLP encoder over the feature matrix with one of three self-supervised objectives; the bottleneck is the
track embedding.

- `reconstruction`: a (denoising / masked-feature) autoencoder. Denoising (feature masking and/or Gaussian noise
  on the inputs, the target stays clean) pushes the code towards structure shared by several features instead of
  copying each one; `masked_loss` scores only the masked features.
- `scarf` (Bahri et al., ICLR 2022): InfoNCE between a track and a view of it whose corrupted features are
  redrawn from the features' empirical marginals (`marginal_corruption`), through a projection head. The code
  must keep what identifies a track when any subset of its features is replaced by a plausible value.
- `vime` (Yoon et al., NeurIPS 2020): from the marginal-corrupted view, estimate which features were replaced
  (mask estimation) and reconstruct the clean features.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning.pytorch as pl
import torch
from torch import nn

OBJECTIVES = ("reconstruction", "scarf", "vime")
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


def marginal_corruption(
    x: torch.Tensor, corrupt_prob: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted copy, mask True where corrupted). Each entry is corrupted with `corrupt_prob` and then takes the
    same column's value from a uniformly drawn row of the batch: a draw from that feature's empirical marginal,
    so a corrupted track still looks like a track feature by feature (zeros would be an easy tell) and only the
    dependence between features is broken (SCARF, VIME)."""
    n, d = x.shape
    mask = torch.rand((n, d), generator=generator, device=x.device) < corrupt_prob
    rows = torch.randint(0, n, (n, d), generator=generator, device=x.device)
    return torch.where(mask, x.gather(0, rows), x), mask


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE (NT-Xent without same-view negatives): row i of `a` and of `b` are positives, the other
    rows of the batch negatives; cosine similarity over `temperature`."""
    a = nn.functional.normalize(a, dim=1)
    b = nn.functional.normalize(b, dim=1)
    logits = a @ b.T / temperature
    target = torch.arange(len(a), device=a.device)
    return 0.5 * (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target))


def first_tensor(batch: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Feature batches come as a tensor or a 1-tuple from a TensorDataset."""
    return batch if isinstance(batch, torch.Tensor) else batch[0]


class ObjectiveSteps(pl.LightningModule):
    """The steps every audio model shares: train on `objective_loss`, embed with `encode`, one AdamW over all
    parameters (`lr`, `weight_decay` hyper-parameters). Subclasses define `objective_loss`, `encode` and their
    validation."""

    # The metric whose best epoch the training path keeps (ModelCheckpoint), and how often it is computed.
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    monitor_every: int = 1

    def objective_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self.objective_loss(first_tensor(batch))
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return self.encode(first_tensor(batch))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )


class AutoencoderModule(ObjectiveSteps):
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
        objective: `reconstruction` (the autoencoder above), `scarf` (contrastive) or `vime` (mask estimation +
            reconstruction); the last two corrupt with `marginal_corruption`.
        corrupt_prob: `scarf` / `vime`: probability of redrawing each feature from its marginal.
        temperature: `scarf`: InfoNCE temperature.
        projection_dim: `scarf`: width of the projection head the loss is computed on (the embedding is the
            bottleneck before it, as in SimCLR/SCARF).
        mask_weight: `vime`: weight of the mask-estimation loss against feature reconstruction (VIME's α).
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
        masked_loss: bool = False,
        objective: str = "reconstruction",
        corrupt_prob: float = 0.3,
        temperature: float = 0.1,
        projection_dim: int = 32,
        mask_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}: choose from {list(OBJECTIVES)}")
        self.save_hyperparameters()
        hidden = [int(h) for h in hidden]
        self.name = name
        self.encoder = mlp([input_dim, *hidden, bottleneck], activation, dropout)
        self.decoder = mlp([bottleneck, *reversed(hidden), input_dim], activation, dropout)
        width = hidden[-1] if hidden else bottleneck
        if objective == "scarf":
            self.projector = mlp([bottleneck, width, projection_dim], activation)
        if objective == "vime":
            self.mask_head = mlp([bottleneck, width, input_dim], activation)

    @property
    def objective_name(self) -> str:
        return self.hparams.get("objective", "reconstruction")

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

    def scarf_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """InfoNCE between the clean track and its marginal-corrupted view, on the projection head."""
        view, _ = marginal_corruption(x, self.hparams.corrupt_prob, generator)
        return info_nce(
            self.projector(self.encoder(x)), self.projector(self.encoder(view)), self.hparams.temperature
        )

    def vime_loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(total, feature reconstruction MSE, mask-estimation BCE) from the marginal-corrupted view."""
        view, mask = marginal_corruption(x, self.hparams.corrupt_prob, generator)
        z = self.encoder(view)
        recon = nn.functional.mse_loss(self.decoder(z), x)
        mask_bce = nn.functional.binary_cross_entropy_with_logits(self.mask_head(z), mask.to(x.dtype))
        return recon + self.hparams.mask_weight * mask_bce, recon, mask_bce

    def objective_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training objective on a batch (a fixed `generator` makes it a deterministic validation loss)."""
        if self.objective_name == "scarf":
            return self.scarf_loss(x, generator)
        if self.objective_name == "vime":
            return self.vime_loss(x, generator)[0]
        return self.reconstruction(x, noisy=True, generator=generator)[1]

    def validation_step(self, batch, batch_idx: int) -> None:
        x = first_tensor(batch)
        if self.objective_name != "scarf":  # a SCARF model trains no decoder
            _, recon = self.reconstruction(x, noisy=False)
            self.log("val/recon", recon, on_epoch=True)
        if self.objective_name == "reconstruction" and not self.hparams.get("masked_loss", False):
            loss = recon
        else:  # same objective as training, with fixed corruption per batch
            generator = torch.Generator(device=x.device).manual_seed(batch_idx)
            loss = self.objective_loss(x, generator)
        self.log("val/loss", loss, prog_bar=True, on_epoch=True)
