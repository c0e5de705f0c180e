"""Track embeddings: a `track_id → float32 vector` table plus a FAISS index, whatever made them."""

from src.embeddings.store import Embedding, build_index, load_embedding, save_embedding

__all__ = ["Embedding", "build_index", "load_embedding", "save_embedding"]
