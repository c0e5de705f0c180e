"""Cold-start embedding: tracks from any audio-feature table → vectors from a trained run directory.

Behind `scripts/embed.py`; also the function downstream code calls:

    from src.tasks.embed.cold_start import embed_file, embed_tracks
    embedding = embed_tracks("outputs/train/runs/X", tracks_df)   # canonical tracks table
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from src.data.errors import DataError
from src.data.sources import CsvSource, ParquetSource, TableSource
from src.embeddings.store import Embedding, save_embedding
from src.models.fit import encode_matrix
from src.tasks.artifacts import available_models, load_trained


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
    trained = load_trained(model_dir, name)
    X = trained.transformer.transform(tracks)
    if hasattr(trained.module, "encode_tracks"):  # two-tower: ids/artists/albums as well as the features
        return Embedding(name, tracks["track_id"].to_numpy(), trained.module.encode_tracks(tracks, X))
    return Embedding(name, tracks["track_id"].to_numpy(), encode_matrix(trained.module, X, batch_size))


def embed_file(
    model_dir: str | Path,
    source: TableSource | str | Path,
    output: str | Path,
    model_name: str | None = None,
    index: bool = False,
    batch_size: int = 8192,
) -> Embedding:
    """Read a CSV/parquet of audio features (same variants and checks as the data layer), embed, write
    `output` (parquet: `track_id`, `vector`; plus `<output>.faiss` with `index=True`)."""
    output = Path(output)
    if output.suffix != ".parquet":
        raise DataError(f"{output}: output must be a .parquet file")
    if not isinstance(source, TableSource):
        path = Path(source)
        source = ParquetSource(str(path)) if path.suffix == ".parquet" else CsvSource(str(path))
    name = resolve_model_name(model_dir, model_name)  # fail on a bad model_dir before reading a large file
    catalog = source.load()
    embedding = embed_tracks(model_dir, catalog.tracks, name, batch_size)
    save_embedding(Embedding(output.stem, embedding.track_ids, embedding.vectors), output.parent, index=index)
    return embedding
