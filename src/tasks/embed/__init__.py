"""Embedders the pipeline instantiates from `configs/embedding/` (`embedder(ctx) -> Embedding`): raw features,
autoencoders, the two-tower model, the hybrid, and cold-start embedding with a trained run."""
