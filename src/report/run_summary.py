"""What a run was, in the words the report opens with; the pipeline saves the same record as `run.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

K_METHODS = {
    "knee": "chosen at the knee of the elbow (inertia) curve",
    "silhouette": "chosen by the best silhouette (the elbow curve had no knee)",
    "fixed": "fixed by the configuration",
}


@dataclass(frozen=True)
class RunSummary:
    """Data, embedding and k of one pipeline run: enough to read its numbers and to rerun it."""

    source: str  # where the catalogue came from (the loader's description)
    n_tracks: int
    n_source_playlists: int  # playlists (interaction users) in the data; 0 when it has none
    embedding: str
    embedding_dim: int
    learned_from_playlists: bool  # the embedding saw playlist membership: label metrics are in-sample
    k: int
    k_method: str  # a key of K_METHODS
    k_reason: str  # the sentence choose_k wrote, or why k was fixed
    seed: int

    @property
    def k_words(self) -> str:
        return K_METHODS.get(self.k_method, self.k_method)

    def to_dict(self) -> dict:
        return asdict(self)
