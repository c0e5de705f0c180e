"""Two-tower model: data batches, loss, ablation switches, cold-start encoding, and learning on synthetic playlists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import synthetic_tracks
from src.data.interactions import rec_data
from src.data.sources import CsvSource
from src.data.split import split_interactions
from src.models.two_tower import TwoTowerModule
from src.models.two_tower_data import ItemVocab, TwoTowerDataModule, stable_hash
from src.recsys import RandomRecommender
from src.recsys.evaluate import evaluate_recommender
from src.recsys.two_tower import TwoTowerRecommender


@pytest.fixture(scope="module")
def style_data(tmp_path_factory):
    """Style-pure playlists: 3 audio styles × 4 playlists, so content predicts membership."""
    frame = synthetic_tracks(n=360)
    frame["playlist_id"] = frame["playlist_genre"] + "-" + (frame.index % 4).astype(str)
    path = tmp_path_factory.mktemp("tt") / "tracks.csv"
    frame.to_csv(path, index=False)
    catalog = CsvSource(path=str(path), user_column="playlist_id").load()
    return catalog, rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=0))


def _module(dm: TwoTowerDataModule, **kw) -> TwoTowerModule:
    module = TwoTowerModule(**dm.model_kwargs(), n_negatives=64, **kw)
    module.set_items(dm.items, dm.target_logq, dm.vocab)
    return module


def test_batches_split_context_and_targets(style_data):
    _, data = style_data
    dm = TwoTowerDataModule.from_data(data, batch_size=4, max_context=10)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert batch["context"].shape == (4, 10) and len(batch["target"]) == len(batch["owner"])
    for i in range(4):
        ctx = set(batch["context"][i][batch["context"][i] >= 0].tolist())
        targets = set(batch["target"][batch["owner"] == i].tolist())
        assert targets and not ctx & targets  # the held-out targets are never in the query
        user_train = set(data.train[dm.train_users].nonzero()[1].tolist())
        assert targets <= user_train
    val = next(iter(dm.val_dataloader()))
    val_items = set(data.val.nonzero()[1].tolist())
    assert set(val["target"].tolist()) <= val_items


def test_vocab_only_knows_training_tracks():
    tracks = pd.DataFrame(
        {
            "track_id": ["a", "b", "c"],
            "artist": ["X", "Y", "Z"],
            "album": ["p", "q", "r"],
            "tags": ["rock|pop", "", "jazz"],
        }
    )
    vocab = ItemVocab.fit(tracks, np.array([True, True, False]), id_buckets=100, max_tags=3)
    enc = vocab.encode(tracks, np.zeros((3, 0)))
    assert enc["artist"][2] == 0 and enc["album"][2] == 0 and enc["tags"][2].sum() == 0  # cold → unknown
    assert enc["artist"][0] > 0 and (enc["tags"][0] > 0).sum() == 2
    assert (stable_hash(np.array(["a", "a", "b"]), 100) == stable_hash(np.array(["a", "a", "b"]), 100)).all()
    assert stable_hash(np.array(["a"]), 100)[0] >= 1


@pytest.mark.parametrize(
    "features,pooling",
    [
        (["id"], "lse"),
        (["artist", "album", "dense"], "mean"),
        (["id", "artist", "album", "tags", "dense"], "lse"),
    ],
)
def test_loss_is_finite_and_outputs_are_unit_vectors(style_data, features, pooling):
    _, data = style_data
    dm = TwoTowerDataModule.from_data(data, batch_size=6, max_context=12)
    dm.setup()
    module = _module(dm, features=features, pooling=pooling)
    batch = next(iter(dm.train_dataloader()))
    loss = module._loss(batch)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    vecs = module.all_item_vectors()
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-4)
    assert list(module.embeds) == [f for f in features if f not in ("dense", "tags")]  # no tags in this data


def test_logq_lowers_popular_in_batch_items(style_data):
    _, data = style_data
    dm = TwoTowerDataModule.from_data(data, batch_size=6)
    dm.setup()
    assert dm.target_logq.max() <= 0 and np.isfinite(dm.target_logq).all()
    with pytest.raises(ValueError, match="pooling"):
        TwoTowerModule(**dm.model_kwargs(), pooling="max")


def test_cold_tracks_are_embedded_from_content(style_data):
    catalog, data = style_data
    dm = TwoTowerDataModule.from_data(data)
    dm.setup()
    module = _module(dm).eval()
    new = catalog.tracks.iloc[:3].assign(track_id=["new-1", "new-2", "new-3"])
    vecs = module.encode_tracks(new, dm.transformer.transform(new))
    assert vecs.shape == (3, module.hparams.dim) and np.isfinite(vecs).all()
    content = _module(dm, features=["artist", "album", "dense"]).eval()
    a = content.encode_tracks(new, dm.transformer.transform(new))
    b = content.encode_tracks(new.assign(track_id=["x", "y", "z"]), dm.transformer.transform(new))
    np.testing.assert_allclose(a, b, atol=1e-6)  # content-only: the id never matters
    np.testing.assert_allclose(a, content.all_item_vectors()[:3], atol=1e-5)  # same as the catalogue rows


def test_hybrid_two_tower_learns_style_playlists(style_data):
    _, data = style_data
    model = TwoTowerRecommender(
        max_epochs=12, model={"n_negatives": 128, "eval_every": 4}, datamodule={"batch_size": 4}
    )
    metrics = evaluate_recommender(model, data)
    rand = evaluate_recommender(RandomRecommender(), data)
    assert metrics["recall@50_cold"] > rand["recall@50_cold"] + 0.1
    assert model.best_val is not None and model.samples_per_second > 0


def test_playlists_per_epoch_cap_draws_a_fresh_subset_each_epoch(tmp_path):
    from src.data.interactions import rec_data
    from src.data.sources import CsvSource
    from src.data.split import split_interactions
    from src.models.two_tower_data import TwoTowerDataModule

    frame = synthetic_tracks(n=400)
    frame["playlist_id"] = frame["playlist_genre"] + "-" + (frame.index % 4).astype(str)
    frame.to_csv(tmp_path / "t.csv", index=False)
    catalog = CsvSource(path=str(tmp_path / "t.csv"), user_column="playlist_id").load()
    data = rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=0))
    dm = TwoTowerDataModule.from_data(data, batch_size=4, max_playlists_per_epoch=5)
    dm.setup("fit")
    loader = dm.train_dataloader()
    drawn = [sorted(i for batch in loader.batch_sampler for i in batch) for _ in range(3)]  # three epochs
    assert len(dm.train_users) > 5 and all(len(set(d)) == 5 for d in drawn)
    assert len({tuple(d) for d in drawn}) > 1


class _Reached(Exception):
    """Raised by a forward pre-hook once it has seen the input's device."""


def _spy(module: torch.nn.Module, seen: list) -> None:
    def hook(_mod, args):
        seen.append(args[0].device)
        raise _Reached

    module.register_forward_pre_hook(hook)


def test_host_inputs_follow_the_module_device(style_data, monkeypatch):
    """`queries` (mean pooling, used by validation) and `encode_tracks` build tensors from NumPy: they must be
    put on the module's device (trainer=gpu failed with a CPU/CUDA mismatch). Checked without a GPU by making
    the module report the `meta` device and catching the first layer's input before it runs."""
    catalog, data = style_data
    dm = TwoTowerDataModule.from_data(data)
    dm.setup()
    module = _module(dm, pooling="mean").eval()
    items = module.all_item_vectors()
    monkeypatch.setattr(TwoTowerModule, "device", property(lambda self: torch.device("meta")))
    seen: list = []
    _spy(module.query_mlp, seen)
    with pytest.raises(_Reached):
        module.queries(data.train[:4], items)
    _spy(module.embeds["id"], seen)
    new = catalog.tracks.iloc[:3]
    with pytest.raises(_Reached):
        module.encode_tracks(new, dm.transformer.transform(new))
    assert seen == [torch.device("meta")] * 2


@pytest.mark.gpu
def test_mean_pooling_validation_ranks_on_cuda(style_data):
    _, data = style_data
    dm = TwoTowerDataModule.from_data(data)
    dm.setup()
    module = _module(dm, pooling="mean").cuda().eval()
    ranked = module.rank(data.train[:8], 10)
    assert ranked.shape == (8, 10) and (ranked >= 0).all()
