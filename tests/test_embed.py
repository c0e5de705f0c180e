"""scripts/embed.py (cold start): messy CSV variants, consistency with training, model choice, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_tracks
from helpers import run_script
from src.data.errors import DataError
from src.embeddings.store import load_embedding
from src.tasks.embed.cold_start import embed_file, embed_tracks, resolve_model_name

NOTES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny training run on the synthetic catalogue, shared by the tests below."""
    root = tmp_path_factory.mktemp("embed")
    data = root / "train.csv"
    synthetic_tracks().to_csv(data, index=False)
    run_dir = root / "run"
    result = run_script(
        "train.py",
        "logger=none",
        "progress=false",
        "data=csv",
        f"data.path={data}",
        "trainer.max_epochs=2",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, data


def _messy(path):
    frame = synthetic_tracks(n=40, seed=3).drop(columns=["track_id"])
    frame.insert(0, "song_id", [f"new-{i}" for i in range(len(frame))])
    frame["key"] = [NOTES[k] for k in frame["key"]]
    frame["mode"] = np.where(frame["mode"] == 1, "Major", "Minor")
    frame = frame.astype(object)
    frame.loc[3, "energy"] = "?"
    frame.loc[5, "tempo"] = "0"
    frame.loc[7, "valence"] = "NaN"
    frame.loc[9, "loudness"] = "-7.5e0"
    frame.to_csv(path, index=False)
    return frame


def test_embed_messy_csv(tmp_path, trained_run):
    run_dir, _ = trained_run
    frame = _messy(tmp_path / "messy.csv")
    out = tmp_path / "out" / "new.parquet"
    result = run_script(
        "embed.py",
        f"model_dir={run_dir}",
        f"input={tmp_path / 'messy.csv'}",
        f"output={out}",
        "data.id_column=song_id",
        "index=true",
        f"hydra.run.dir={tmp_path / 'log'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "40 tracks × 8 dims" in result.stdout
    emb = load_embedding(out)
    assert list(emb.track_ids) == list(frame["song_id"])
    assert emb.vectors.shape == (40, 8) and np.isfinite(emb.vectors).all()
    assert out.with_suffix(".faiss").exists()
    assert "imputed" in (tmp_path / "log" / "embed.log").read_text()  # what was imputed is reported


def test_embed_matches_training_embeddings(tmp_path, trained_run):
    run_dir, data = trained_run
    summary = embed_file(run_dir, data, tmp_path / "again.parquet")
    out = load_embedding(summary.path)
    assert summary.rows == len(out.track_ids) and summary.name == "autoencoder"
    trained = load_embedding(run_dir / "embeddings" / "autoencoder.parquet")
    assert list(out.track_ids) == list(trained.track_ids)
    np.testing.assert_allclose(out.vectors, trained.vectors, rtol=1e-5, atol=1e-5)
    tracks = pd.read_csv(data).head(5).rename(columns={"track_name": "name"})
    small = embed_tracks(run_dir, tracks)  # the Python API on a canonical table
    np.testing.assert_allclose(small.vectors, trained.vectors[:5], rtol=1e-5, atol=1e-5)


def test_model_choice(tmp_path, trained_run):
    run_dir, _ = trained_run
    assert resolve_model_name(run_dir) == "autoencoder"
    with pytest.raises(DataError, match="no trained model 'dec'.*autoencoder"):
        embed_tracks(run_dir, synthetic_tracks(n=5), model_name="dec")
    with pytest.raises(DataError, match="not a directory"):
        resolve_model_name(tmp_path / "nowhere")


def test_embed_bad_file_exits_2(tmp_path, trained_run):
    run_dir, _ = trained_run
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary\x00garbage")
    result = run_script(
        "embed.py",
        f"model_dir={run_dir}",
        f"input={bad}",
        f"output={tmp_path / 'o.parquet'}",
        f"hydra.run.dir={tmp_path / 'log'}",
    )
    assert result.returncode == 2
    assert "not a text table" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"song,energy\nx,0.5\n", "missing required column"),
        (b"", "empty"),
    ],
)
def test_embed_file_bad_tables(tmp_path, trained_run, content, expected):
    run_dir, _ = trained_run
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=expected):
        embed_file(run_dir, bad, tmp_path / "o.parquet")
    with pytest.raises(DataError, match="must be a .parquet"):
        embed_file(run_dir, bad, tmp_path / "o.csv")
    with pytest.raises(DataError, match="no trained model here"):  # model checked before reading the input
        embed_file(tmp_path, bad, tmp_path / "o.parquet")


def test_embed_streams_batches_into_shards_and_a_compressed_index(tmp_path, trained_run):
    """Small batches and shards give the same vectors as one pass; a factory index is built beside them."""
    import faiss

    from src.embeddings.stream import iter_vectors

    run_dir, data = trained_run
    whole = load_embedding(embed_file(run_dir, data, tmp_path / "one.parquet").path)
    out = tmp_path / "sharded.parquet"
    summary = embed_file(
        run_dir,
        data,
        out,
        batch_rows=70,
        shard_rows=100,
        index=True,
        index_factory="IVF4,SQ8",
        index_train_rows=200,
    )
    assert summary.rows == 300 and sorted(p.name for p in out.iterdir())[0] == "part-00000.parquet"
    assert len(list(out.iterdir())) == 3
    ids = np.concatenate([i for i, _ in iter_vectors(out)])
    vecs = np.concatenate([v for _, v in iter_vectors(out)])
    assert list(ids) == list(whole.track_ids)
    np.testing.assert_allclose(vecs, whole.vectors, rtol=1e-5, atol=1e-5)
    index = faiss.read_index(str(summary.index_path))
    assert index.ntotal == 300 and "IVF" in type(index).__name__
