"""DEC / IDEC refinement of the autoencoder's bottleneck (Xie et al. 2016; Guo et al. 2017).

Phase 1 (`pretrain_epochs`): plain (denoising) autoencoder training. Phase 2: centroids are initialised by
k-means on the bottleneck of the training tracks; each track gets a soft assignment q to the centroids
(Student-t kernel), the target p sharpens q (p ∝ q² / cluster frequency), and the encoder and centroids
minimise KL(p ‖ q). IDEC keeps the reconstruction loss (`recon_weight` > 0) so the space stays faithful to
the features; DEC drops it (`recon_weight` = 0).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import nn

from src.models.autoencoder import AutoencoderModule, first_tensor

log = logging.getLogger(__name__)


def soft_assign(z: torch.Tensor, centroids: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """q_ij ∝ (1 + ‖z_i − μ_j‖² / α)^(−(α+1)/2), rows sum to 1 (Student-t kernel of DEC)."""
    dist2 = torch.cdist(z, centroids).pow(2)
    q = (1.0 + dist2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """p_ij ∝ q_ij² / f_j with f_j = Σ_i q_ij: sharpens confident assignments, evens out cluster sizes."""
    weight = q.pow(2) / q.sum(dim=0, keepdim=True).clamp_min(1e-12)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) averaged over rows (the DEC clustering loss); p is a fixed target."""
    p = p.detach()
    return (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(dim=1).mean()


def gather_rows(strategy: Any, rows: torch.Tensor, world_size: int) -> torch.Tensor:
    """Every rank's rows, concatenated in rank order, on every rank (shards may differ in length: padded to
    the longest for the collective, then trimmed). One rank: `rows` itself."""
    if world_size <= 1:
        return rows
    sizes = strategy.all_gather(torch.tensor([len(rows)], device=rows.device)).reshape(-1).tolist()
    padded = rows.new_zeros((int(max(sizes)), rows.shape[1]))
    padded[: len(rows)] = rows
    every = strategy.all_gather(padded).reshape(len(sizes), -1, rows.shape[1])
    return torch.cat([every[r, : int(n)] for r, n in enumerate(sizes)])


CentroidInit = Callable[[np.ndarray, int, int, int], np.ndarray]  # (codes, k, n_init, seed) -> k centroids


def reset_monitors(trainer) -> None:
    """Forget the pre-training phase's best scores: the refined objective is not comparable with it."""
    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping):
            callback.wait_count = 0
            callback.best_score = torch.tensor(np.inf if callback.monitor_op == torch.lt else -np.inf)
        elif isinstance(callback, ModelCheckpoint):
            callback.best_model_score = None
            callback.best_k_models = {}
            callback.kth_best_model_path = ""
            callback.kth_value = torch.tensor(np.inf if callback.mode == "min" else -np.inf)


class DECModule(AutoencoderModule):
    """Autoencoder + DEC/IDEC clustering head on the bottleneck (same `encode`, so it embeds like the AE).

    Args (besides the autoencoder's):
        n_clusters: number of centroids refined in phase 2.
        alpha: Student-t degrees of freedom.
        pretrain_epochs: epochs of reconstruction-only training before the centroids are initialised.
        recon_weight: weight of the reconstruction loss in phase 2 (IDEC: 1, DEC: 0).
        cluster_weight: weight of KL(p ‖ q) in phase 2 (IDEC's γ, 0.1 in the paper).
        kmeans_n_init: k-means restarts for the centroid initialisation.
        centroid_init: ``(codes, k, n_init, seed) -> centroids``, the k-means that initialises the centroids.
            Models do not import the clustering layer, so the config passes the project's
            (`src.cluster.kmeans.kmeans_centroids`, configs/model/dec.yaml); needed only to train, not to load.
    """

    def __init__(
        self,
        input_dim: int,
        hidden=(64, 64),
        bottleneck: int = 8,
        activation: str = "relu",
        dropout: float = 0.0,
        mask_prob: float = 0.0,
        noise_std: float = 0.0,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        name: str = "dec",
        n_clusters: int = 12,
        alpha: float = 1.0,
        pretrain_epochs: int = 20,
        recon_weight: float = 1.0,
        cluster_weight: float = 0.1,
        kmeans_n_init: int = 10,
        masked_loss: bool = False,
        centroid_init: CentroidInit | None = None,
        objective: str = "reconstruction",
        corrupt_prob: float = 0.3,
        temperature: float = 0.1,
        projection_dim: int = 32,
        mask_weight: float = 1.0,
    ) -> None:
        super().__init__(
            input_dim,
            hidden,
            bottleneck,
            activation,
            dropout,
            mask_prob,
            noise_std,
            lr,
            weight_decay,
            name,
            masked_loss,
            objective=objective,
            corrupt_prob=corrupt_prob,
            temperature=temperature,
            projection_dim=projection_dim,
            mask_weight=mask_weight,
        )
        self.save_hyperparameters(ignore=["centroid_init"])
        self.centroid_init = centroid_init
        self.centroids = nn.Parameter(torch.zeros(n_clusters, bottleneck))
        self.register_buffer("initialized", torch.tensor(False))

    @property
    def refining(self) -> bool:
        return bool(self.initialized)

    def on_fit_start(self) -> None:
        loop = self.trainer.fit_loop
        if (loop.min_epochs or 0) <= self.hparams.pretrain_epochs:  # early stopping must not end pre-training
            loop.min_epochs = self.hparams.pretrain_epochs + 1
        if loop.max_epochs is not None and 0 <= loop.max_epochs <= self.hparams.pretrain_epochs:
            log.warning(
                "max_epochs=%d ≤ pretrain_epochs=%d: no DEC refinement will run",
                loop.max_epochs,
                self.hparams.pretrain_epochs,
            )

    def on_train_epoch_start(self) -> None:
        if not self.refining and self.current_epoch >= self.hparams.pretrain_epochs:
            self.init_centroids()
            reset_monitors(self.trainer)

    @torch.no_grad()
    def init_centroids(self) -> None:
        """k-means (`centroid_init`) on the bottleneck of every training track (clean inputs)."""
        if self.centroid_init is None:
            raise ValueError("DEC/IDEC training needs centroid_init (the k-means for its centroids)")
        was_training = self.training
        self.eval()
        codes = [self.encode(first_tensor(b).to(self.device)) for b in self.trainer.train_dataloader]
        self.train(was_training)
        strategy = self.trainer.strategy
        # Under DDP each rank's loader holds only its shard: k-means runs once, on rank 0, over every rank's
        # codes, and its centroids are broadcast, so all replicas refine the same centroids.
        Z = gather_rows(strategy, torch.cat(codes), self.trainer.world_size).cpu().numpy().astype(np.float64)
        k = min(self.hparams.n_clusters, len(Z))
        found = None
        if self.trainer.is_global_zero:
            seed = int(torch.initial_seed() % 2**31)
            found = torch.as_tensor(np.asarray(self.centroid_init(Z, k, self.hparams.kmeans_n_init, seed)))
        found = strategy.broadcast(found, src=0)
        if tuple(found.shape) != (k, Z.shape[1]):
            raise ValueError(f"centroid_init returned shape {tuple(found.shape)}, expected {(k, Z.shape[1])}")
        centres = found.to(dtype=self.centroids.dtype, device=self.device)
        if k < self.hparams.n_clusters:  # tiny data: repeat centres rather than leave zeros
            centres = centres[torch.arange(self.hparams.n_clusters) % k]
        self.centroids.data.copy_(centres)
        self.initialized.fill_(True)
        log.info("DEC: %d centroids initialised by k-means on %d bottleneck codes", k, len(Z))

    def objective(self, x: torch.Tensor, noisy: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(total loss, reconstruction, KL) of the current phase."""
        z, recon = self.reconstruction(x, noisy)
        if not self.refining:
            # the centroids take part with weight 0, so DDP (which needs every parameter in every loss) can
            # train the pre-training phase without find_unused_parameters
            return recon + 0.0 * self.centroids.sum(), recon, torch.zeros((), device=x.device)
        q = soft_assign(z, self.centroids, self.hparams.alpha)
        kl = kl_divergence(target_distribution(q), q)
        return self.hparams.recon_weight * recon + self.hparams.cluster_weight * kl, recon, kl

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss, recon, kl = self.objective(first_tensor(batch), noisy=True)
        self.log_dict(
            {"train/loss": loss, "train/recon": recon, "train/kl": kl}, on_step=False, on_epoch=True
        )
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        loss, recon, kl = self.objective(first_tensor(batch), noisy=False)
        self.log_dict({"val/recon": recon, "val/kl": kl}, on_epoch=True)
        self.log("val/loss", loss, prog_bar=True, on_epoch=True)

    @torch.no_grad()
    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """Soft assignments q of tracks to the refined centroids."""
        return soft_assign(self.encode(x), self.centroids, self.hparams.alpha)
