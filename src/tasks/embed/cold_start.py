"""Cold-start embedding: tracks from any audio-feature table → vectors from a trained run directory.

Behind `scripts/embed.py`; also the function downstream code calls:

    from src.tasks.embed.cold_start import embed_file, embed_tracks
    embedding = embed_tracks("outputs/train/runs/X", tracks_df)   # canonical tracks table
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import pandas as pd
import yaml

from src.data.errors import DataError
from src.data.sources import CsvSource, ParquetSource, TableSource
from src.embeddings.store import Embedding
from src.embeddings.stream import EmbeddingWriter, build_index_streaming
from src.models.fit import encode_matrix
from src.tasks.artifacts import available_models, load_trained
from src.utils.io import atomic_path


def resolve_model_name(model_dir: str | Path, name: str | None = None) -> str:
    """`name` if given; else the one the run's config used (`embedding.name`, then `model.name`); else the
    only model in the run directory."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise DataError(
            f"{model_dir}: model_dir is not a directory (expected a training or pipeline run dir)"
        )
    if name:
        return str(name)
    known = available_models(model_dir)
    config_path = model_dir / ".hydra" / "config.yaml"
    if config_path.is_file():
        config = yaml.safe_load(config_path.read_text()) or {}
        for group in ("embedding", "model"):
            used = (config.get(group) or {}).get("name")
            if used in known:
                return str(used)
    if len(known) == 1:
        return known[0]
    if not known:
        raise DataError(
            f"{model_dir}: no trained model here (no models/<name>.json); train one with "
            "scripts/train.py or scripts/pipeline.py embedding=autoencoder"
        )
    raise DataError(
        f"{model_dir}: several trained models ({', '.join(known)}); choose one with model_name=NAME"
    )


def embed_tracks(
    model_dir: str | Path, tracks: pd.DataFrame, model_name: str | None = None, batch_size: int = 8192
) -> Embedding:
    """Embed a canonical `tracks` table (track_id + audio features) with the run's model and transformer."""
    name = resolve_model_name(model_dir, model_name)
    return _embed(load_trained(model_dir, name), name, tracks, batch_size)


def _embed(trained, name: str, tracks: pd.DataFrame, batch_size: int) -> Embedding:
    X = trained.transformer.transform(tracks)
    if hasattr(trained.module, "encode_tracks"):  # two-tower: ids/artists/albums as well as the features
        return Embedding(name, tracks["track_id"].to_numpy(), trained.module.encode_tracks(tracks, X))
    return Embedding(name, tracks["track_id"].to_numpy(), encode_matrix(trained.module, X, batch_size))


@dataclass
class EmbedSummary:
    """What `embed_file` wrote: `rows` vectors of `dim` dims by model `name`, and the index when built."""

    name: str
    rows: int
    dim: int
    path: Path
    index_path: Path | None = None


def embed_file(
    model_dir: str | Path,
    source: TableSource | str | Path,
    output: str | Path,
    model_name: str | None = None,
    index: bool = False,
    batch_size: int = 8192,
    batch_rows: int = 100_000,
    shard_rows: int = 0,
    index_factory: str = "Flat",
    index_train_rows: int = 100_000,
) -> EmbedSummary:
    """Read a CSV/parquet of audio features (same variants and checks as the data layer) `batch_rows` rows at
    a time, embed each batch and append it to `output` (parquet: `track_id`, `vector`; with `shard_rows` > 0
    a directory `output/` of part files), so memory stays bounded whatever the input's size. With `index`,
    also `<output stem>.faiss`: the FAISS index `index_factory` (`Flat` = exact; `IVF4096,PQ16` and the like
    are trained on `index_train_rows` sampled vectors)."""
    output = Path(output)
    if output.suffix != ".parquet":
        raise DataError(f"{output}: output must be a .parquet file")
    if not isinstance(source, TableSource):
        path = Path(source)
        source = ParquetSource(str(path)) if path.suffix == ".parquet" else CsvSource(str(path))
    name = resolve_model_name(model_dir, model_name)  # fail on a bad model_dir before reading a large file
    trained = load_trained(model_dir, name)
    writer = EmbeddingWriter(output, shard_rows)
    dim = 0
    try:
        for catalog in source.iter_catalogs(batch_rows):
            part = _embed(trained, name, catalog.tracks, batch_size)
            writer.write(part.track_ids, part.vectors)
            dim = part.dim
    except BaseException:
        writer.abort()
        raise
    writer.close()
    summary = EmbedSummary(name, writer.rows, dim, output)
    if index:
        built = build_index_streaming(output, index_factory, index_train_rows)
        summary.index_path = output.with_suffix(".faiss")
        with atomic_path(summary.index_path) as tmp:
            faiss.write_index(built, str(tmp))
    return summary
