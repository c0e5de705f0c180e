"""Embed new tracks with a trained model (cold start, no interactions needed):

    python scripts/embed.py model_dir=RUN_DIR input=FILE.csv output=OUT.parquet [data.id_column=COL]
    python scripts/embed.py ... shard_rows=1000000 index=true index_factory="IVF4096,PQ16"   # a large catalogue

RUN_DIR is a `scripts/train.py` run or a `scripts/pipeline.py embedding=autoencoder|dec|idec` run; when it holds
several models the one its config used is taken (`model_name=NAME` picks another). The input goes through the
data layer (note-name keys, Major/Minor, `?` … accepted; what was dropped or imputed is logged), `batch_rows` rows
at a time, so memory stays bounded whatever the size of the input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.data.errors import DataError  # noqa: E402
from src.tasks.entry import clean_errors, log  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="embed")
@clean_errors
def main(cfg: DictConfig) -> None:
    from hydra.utils import instantiate

    from src.tasks.embed.cold_start import embed_file

    missing = [k for k in ("model_dir", "input", "output") if OmegaConf.is_missing(cfg, k)]
    if missing:
        raise DataError(
            f"missing argument(s): {', '.join(f'{k}=...' for k in missing)} "
            "(usage: scripts/embed.py model_dir=RUN_DIR input=FILE.csv output=OUT.parquet)"
        )
    source = instantiate(cfg.data, _convert_="all")
    out = embed_file(
        cfg.model_dir,
        source,
        cfg.output,
        cfg.model_name,
        index=cfg.index,
        batch_size=cfg.batch_size,
        batch_rows=cfg.batch_rows,
        shard_rows=cfg.shard_rows,
        index_factory=cfg.index_factory,
        index_train_rows=cfg.index_train_rows,
    )
    log.info("embedded %d tracks with '%s' (%d dims)", out.rows, out.name, out.dim)
    print(
        f"embeddings: {Path(cfg.output).resolve()} ({out.rows} tracks × {out.dim} dims, model '{out.name}')"
    )
    if out.index_path is not None:
        print(f"index: {out.index_path.resolve()} ({cfg.index_factory})")


if __name__ == "__main__":
    main()
