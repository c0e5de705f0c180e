"""Autoencoder and DEC/IDEC building blocks: shapes, denoising, Student-t assignments, target, KL, refinement."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import quiet_trainer
from src.cluster.kmeans import kmeans_centroids
from src.models.autoencoder import AutoencoderModule, feature_mask, mlp
from src.models.datamodule import FeatureDataModule, split_rows
from src.models.dec import DECModule, kl_divergence, soft_assign, target_distribution

finite = st.floats(-5, 5, allow_nan=False, width=32)


def test_mlp_layers_and_bottleneck_shape():
    net = mlp([12, 32, 16, 4])
    assert [m.out_features for m in net if isinstance(m, torch.nn.Linear)] == [32, 16, 4]
    assert not isinstance(net[-1], torch.nn.ReLU)  # no activation on the code
    model = AutoencoderModule(input_dim=12, hidden=[32, 16], bottleneck=4)
    x = torch.randn(7, 12)
    assert model.encode(x).shape == (7, 4)
    assert model.decoder(model.encode(x)).shape == (7, 12)
    with pytest.raises(ValueError, match="activation"):
        mlp([3, 2], activation="swishy")


def test_feature_mask_drops_about_the_requested_share():
    torch.manual_seed(0)
    keep = feature_mask(torch.ones(2000, 12), 0.25)
    assert (~keep).float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert feature_mask(torch.ones(5, 3), 0.0).all()


def test_masked_loss_scores_only_masked_features():
    torch.manual_seed(0)
    model = AutoencoderModule(input_dim=4, hidden=[8], bottleneck=2, mask_prob=0.5, masked_loss=True)
    x = torch.randn(64, 4)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    _, loss = model.reconstruction(x, noisy=True, generator=g1)
    keep = feature_mask(x, 0.5, g2)
    error = (model.decoder(model.encoder(x * keep)) - x).pow(2)
    assert loss.item() == pytest.approx(error[~keep].mean().item(), rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (9, 3), elements=finite), arrays(np.float32, (4, 3), elements=finite))
def test_soft_assignments_are_distributions_peaking_at_the_nearest_centroid(z, mu):
    q = soft_assign(torch.from_numpy(z), torch.from_numpy(mu))
    assert torch.allclose(q.sum(dim=1), torch.ones(9), atol=1e-5)
    assert (q >= 0).all()
    nearest = torch.cdist(torch.from_numpy(z), torch.from_numpy(mu)).argmin(dim=1)
    assert torch.allclose(q.gather(1, nearest[:, None])[:, 0], q.max(dim=1).values)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (10, 4), elements=st.floats(0.015625, 1.0, width=32)))
def test_target_is_a_distribution_and_kl_is_nonnegative(raw):
    q = torch.from_numpy(raw / raw.sum(axis=1, keepdims=True))
    p = target_distribution(q)
    assert torch.allclose(p.sum(dim=1), torch.ones(10), atol=1e-5)
    assert kl_divergence(p, q).item() >= -1e-6
    assert kl_divergence(q, q).item() == pytest.approx(0.0, abs=1e-6)


def test_target_sharpens_when_clusters_are_equally_used():
    q = torch.tensor([[0.6, 0.4], [0.4, 0.6]])
    p = target_distribution(q)
    assert p[0, 0] > q[0, 0] and p[1, 1] > q[1, 1]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 500), st.floats(0, 0.9), st.integers(0, 10))
def test_split_rows_is_a_partition_keeping_a_training_row(n, fraction, seed):
    train, val = split_rows(n, fraction, seed)
    assert len(train) >= 1 and len(set(train) & set(val)) == 0
    assert sorted([*train, *val]) == list(range(n))


def _blobs(n: int = 240, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(3, 6))
    return (centres[rng.integers(0, 3, n)] + rng.normal(0, 0.3, (n, 6))).astype(np.float32)


def test_autoencoder_learns_to_reconstruct():
    pl.seed_everything(0, verbose=False)
    X = _blobs()
    dm = FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=32, val_fraction=0.2)
    model = AutoencoderModule(input_dim=6, hidden=[16], bottleneck=2, lr=1e-2, mask_prob=0.1)
    x_val = torch.from_numpy(X[dm.val_idx])
    before = model.reconstruction(x_val, noisy=False)[1].item()
    quiet_trainer(15).fit(model, datamodule=dm)
    after = model.reconstruction(x_val, noisy=False)[1].item()
    assert after < 0.5 * before


def _dec(centroid_init) -> DECModule:
    """A small DEC over the 6-feature blobs: 3 pre-training epochs, then refinement of 3 centroids."""
    return DECModule(
        input_dim=6,
        hidden=[16],
        bottleneck=3,
        n_clusters=3,
        pretrain_epochs=3,
        lr=1e-2,
        kmeans_n_init=3,
        centroid_init=centroid_init,
    )


def test_dec_initialises_centroids_from_kmeans_then_refines():
    pl.seed_everything(0, verbose=False)
    X = _blobs()
    dm = FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=64, val_fraction=0.2)
    model = _dec(kmeans_centroids)
    trainer = quiet_trainer(6)
    trainer.fit(model, datamodule=dm)
    assert bool(model.initialized) and model.centroids.abs().sum().item() > 0
    assert trainer.fit_loop.min_epochs == 4  # early stopping cannot end pre-training
    q = model.assign(torch.from_numpy(X))
    assert q.shape == (len(X), 3)
    assert q.max(dim=1).values.mean().item() > 0.5  # three clear blobs → confident assignments
    assert len(np.unique(q.argmax(dim=1).numpy())) == 3


def test_dec_takes_the_projects_kmeans_through_its_hook():
    """The caller hands DEC a k-means (here the project's); a wrong shape is one clear error."""
    from src.cluster import fit_kmeans

    pl.seed_everything(0, verbose=False)
    X = _blobs()
    dm = FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=64, val_fraction=0.2)
    calls = []

    def project_kmeans(Z, k, n_init, seed):
        calls.append((Z.shape, k, n_init))
        return fit_kmeans(Z, k, engine="sklearn", n_init=n_init, seed=seed).centroids

    model = _dec(project_kmeans)
    quiet_trainer(5).fit(model, datamodule=dm)
    assert calls == [((int(0.8 * len(X)), 3), 3, 3)] and bool(model.initialized)
    assert "centroid_init" not in model.hparams
    q = model.assign(torch.from_numpy(X))
    assert len(np.unique(q.argmax(dim=1).numpy())) == 3
    bad = DECModule(input_dim=6, hidden=[16], bottleneck=3, n_clusters=3, pretrain_epochs=1)
    bad.centroid_init = lambda Z, k, n, s: np.zeros((k + 1, Z.shape[1]))
    with pytest.raises(ValueError, match="centroid_init returned shape"):
        quiet_trainer(2).fit(bad, datamodule=dm)
    bad.centroid_init = None  # loading a trained DEC needs no k-means; training one does
    with pytest.raises(ValueError, match="needs centroid_init"):
        quiet_trainer(2).fit(bad, datamodule=dm)
