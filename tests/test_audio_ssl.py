"""Self-supervised objectives of the audio model (SCARF, VIME), the marginal corruption they share, the PCA
baseline, and a tiny like-for-like comparison with the new variants (the pipeline trains `scarf` in
tests/test_embed_pipeline.py)."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import quiet_trainer, run_script
from src.embeddings.pca import principal_axes
from src.models.autoencoder import AutoencoderModule, info_nce, marginal_corruption
from src.models.datamodule import FeatureDataModule
from src.models.ensemble import AutoencoderEnsemble

TINY_SSL = ["embedding.trainer.max_epochs=2", "embedding.batch_size=64"]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=st.floats(-9, 9, width=32)),
    st.floats(0, 1),
    st.integers(0, 2**31 - 1),
)
def test_marginal_corruption_draws_each_entry_from_its_own_column(x, prob, seed):
    """Property: every entry of the view is a value of the same column of the batch; uncorrupted entries are
    unchanged; the mask has the input's shape."""
    x_t = torch.from_numpy(x)
    view, mask = marginal_corruption(x_t, prob, torch.Generator().manual_seed(seed))
    assert view.shape == mask.shape == x_t.shape and mask.dtype == torch.bool
    assert torch.equal(view[~mask], x_t[~mask])
    for j in range(x.shape[1]):
        assert set(view[:, j].tolist()) <= set(x[:, j].tolist())


def test_marginal_corruption_rate_and_resampled_marginals():
    gen = torch.Generator().manual_seed(0)
    x = torch.stack([torch.arange(4000.0), -torch.arange(4000.0) - 1], dim=1)  # columns of disjoint values
    view, mask = marginal_corruption(x, 0.3, gen)
    assert mask.float().mean().item() == pytest.approx(0.3, abs=0.02)
    # a corrupted entry takes another row's value of its column (never the other column's)
    assert (view[:, 0] >= 0).all() and (view[:, 1] < 0).all()
    assert (view[mask[:, 0], 0] != x[mask[:, 0], 0]).float().mean() > 0.99
    full, all_mask = marginal_corruption(x, 1.0, gen)
    assert all_mask.all()
    assert abs(full[:, 0].mean().item() - x[:, 0].mean().item()) < 0.05 * x[:, 0].std().item()


def test_info_nce_prefers_aligned_views():
    torch.manual_seed(0)
    a = torch.randn(32, 8)
    assert info_nce(a, a, 0.1) < info_nce(a, torch.randn(32, 8), 0.1)
    assert info_nce(a, a, 0.1).item() >= 0


@pytest.mark.parametrize("objective", ["scarf", "vime"])
def test_objective_shapes_and_validation_loss_is_deterministic(objective):
    model = AutoencoderModule(input_dim=6, hidden=[16], bottleneck=3, objective=objective, corrupt_prob=0.4)
    x = torch.randn(20, 6)
    assert model.encode(x).shape == (20, 3)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert model.objective_loss(x, g1).item() == pytest.approx(model.objective_loss(x, g2).item())
    if objective == "vime":
        total, recon, bce = model.vime_loss(x)
        assert total.item() == pytest.approx(recon.item() + bce.item(), rel=1e-5)
        assert model.mask_head(model.encode(x)).shape == (20, 6)
    else:
        assert model.projector(model.encode(x)).shape == (20, 32)


def test_unknown_objective_is_an_error():
    with pytest.raises(ValueError, match="objective"):
        AutoencoderModule(input_dim=4, objective="simclr")


def _correlated(n: int = 400, seed: int = 0) -> np.ndarray:
    """Two latent factors behind six features: something for the objectives to find."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    W = rng.normal(size=(2, 6))
    return (z @ W + 0.1 * rng.normal(size=(n, 6))).astype(np.float32)


@pytest.mark.parametrize("objective", ["scarf", "vime"])
def test_objective_decreases_on_a_toy_problem(objective):
    pl.seed_everything(0, verbose=False)
    X = _correlated()
    dm = FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=64, val_fraction=0.2)
    model = AutoencoderModule(input_dim=6, hidden=[32], bottleneck=4, lr=5e-3, objective=objective)
    x_val = torch.from_numpy(X[dm.val_idx])
    before = model.objective_loss(x_val, torch.Generator().manual_seed(0)).item()
    quiet_trainer(15).fit(model, datamodule=dm)
    after = model.objective_loss(x_val, torch.Generator().manual_seed(0)).item()
    assert after < 0.8 * before


def test_ensemble_concatenates_independent_members_and_reloads_from_its_checkpoint(tmp_path):
    """The ensemble trains on the mean objective, embeds as members × bottleneck, and a checkpoint reloads
    (load_from_checkpoint is how scripts/embed.py and `checkpoint=RUN_DIR` get it back) to the same vectors."""
    pl.seed_everything(0, verbose=False)
    X = _correlated()
    dm = FeatureDataModule.from_arrays(X, [f"t{i}" for i in range(len(X))], batch_size=64, val_fraction=0.2)
    model = AutoencoderEnsemble(
        6, members=3, hidden=[16], bottleneck=2, mask_prob=0.5, masked_loss=True, lr=5e-3
    )
    x = torch.from_numpy(X[dm.val_idx])
    assert model.encode(x).shape == (len(x), 6)
    first, second = (m.encoder[0].weight for m in model.members[:2])
    assert not torch.equal(first, second)  # independently initialised
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert model.objective_loss(x, g1).item() == pytest.approx(model.objective_loss(x, g2).item())
    before = model.objective_loss(x, torch.Generator().manual_seed(0)).item()
    trainer = quiet_trainer(10)
    trainer.fit(model, datamodule=dm)
    assert model.objective_loss(x, torch.Generator().manual_seed(0)).item() < 0.8 * before
    trainer.save_checkpoint(tmp_path / "ens.ckpt")
    loaded = AutoencoderEnsemble.load_from_checkpoint(tmp_path / "ens.ckpt", map_location="cpu")
    model.eval(), loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(x), model.encode(x))
    with pytest.raises(ValueError, match="members"):
        AutoencoderEnsemble(6, members=0)


def test_split_seed_fixes_the_validation_tracks_across_training_seeds():
    X = _correlated(100)
    a = FeatureDataModule.from_arrays(X, list(range(100)), seed=1, split_seed=0)
    b = FeatureDataModule.from_arrays(X, list(range(100)), seed=2, split_seed=0)
    assert np.array_equal(a.val_idx, b.val_idx)


def test_whitened_pca_has_unit_variance_axes():
    X = _correlated(500)
    Z = principal_axes(X, whiten=True)
    np.testing.assert_allclose(np.cov(Z.T, ddof=1), np.eye(6), atol=1e-3)
    assert principal_axes(X, n_components=2).shape == (500, 2)


@pytest.mark.slow
def test_compare_audio_embeddings_tiny(tmp_path, bundled_sample):
    out = tmp_path / "cmp"
    result = run_script(
        "compare_audio_embeddings.py",
        "data=bundled",
        f"data.path={bundled_sample}",
        "embeddings=[raw,pca,scarf,vime]",
        "inputs=[audio,year]",
        "seeds=[0,1]",
        "ks=[3]",
        "stability_seeds=2",
        "silhouette_size=200",
        "cluster.n_init=1",
        '+overrides.scarf=["trainer.max_epochs=2"]',
        '+overrides.vime=["trainer.max_epochs=2"]',
        f"hydra.run.dir={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 4 * 2 * 2 and runs["nmi_genre@k3"].notna().all()
    # epochs trained are reported per learned run (the cap of 2 here), none for raw / pca
    learned = runs["embedding"].isin(["scarf", "vime"])
    assert (runs.loc[learned, "epochs"] == 2).all() and runs.loc[~learned, "epochs"].isna().all()
    selection = json.loads((out / "selection.json").read_text())
    assert set(selection["choice"]) == {"audio", "year"}
    assert selection["choice"]["audio"] in {"scarf [audio]", "vime [audio]"}
