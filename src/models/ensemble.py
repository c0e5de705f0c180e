"""Several audio autoencoders trained side by side; the embedding is their bottlenecks concatenated.

Why: one masked-feature autoencoder's clusters depend on its initialisation. Models trained with different seeds
agree only moderately on k-means clusters of the same held-out tracks (`val_seed_ari` ≈ 0.55,
docs/results.md), which is the variance of a single run, not structure of the data. Concatenating independently
initialised members averages their squared distances, so k-means on the ensemble sees what the members share.
It is the standard variance-reduction remedy and needs no label to motivate it.

Each member is an `AutoencoderModule` with its own initialisation and its own masks or corruptions. The loss is
the members' mean, so all of them train in one optimiser, one Lightning module, one checkpoint. `encode`
concatenates, so `scripts/embed.py` and the pipeline use the ensemble like any other audio model.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from src.models.autoencoder import AutoencoderModule, ObjectiveSteps, first_tensor


class AutoencoderEnsemble(ObjectiveSteps):
    """`members` copies of `AutoencoderModule(input_dim, **member)`, trained together on the mean of their
    objectives; the embedding is their concatenated bottlenecks (``members × bottleneck`` dims).

    Args:
        input_dim: number of feature columns (given by the datamodule).
        members: how many autoencoders.
        lr, weight_decay: AdamW settings (one optimiser over every member).
        name: the embedding's name.
        member: every other `AutoencoderModule` argument (objective, masks, widths…), the same for each member.
    """

    def __init__(
        self,
        input_dim: int,
        members: int = 3,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        name: str = "autoencoder",
        **member: Any,
    ) -> None:
        super().__init__()
        if int(members) < 1:
            raise ValueError(f"members must be ≥ 1, got {members}")
        self.save_hyperparameters()
        self.name = name
        self.members = nn.ModuleList(
            AutoencoderModule(input_dim, lr=lr, weight_decay=weight_decay, name=name, **member)
            for _ in range(int(members))
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.encode(x) for m in self.members], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def objective_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean of the members' objectives (each draws its own masks, or the same fixed ones for validation)."""
        if generator is None:
            return torch.stack([m.objective_loss(x) for m in self.members]).mean()
        seed = int(generator.initial_seed())
        losses = []
        for i, m in enumerate(self.members):
            g = torch.Generator(device=x.device).manual_seed(seed * len(self.members) + i)
            losses.append(m.objective_loss(x, g))
        return torch.stack(losses).mean()

    def validation_step(self, batch, batch_idx: int) -> None:
        """The training objective with fixed corruption per batch, as each member scores it alone."""
        x = first_tensor(batch)
        generator = torch.Generator(device=x.device).manual_seed(batch_idx)
        self.log("val/loss", self.objective_loss(x, generator), prog_bar=True, on_epoch=True)
