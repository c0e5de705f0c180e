"""Shared Lightning plumbing for every trainable model: callbacks, loggers, saved-model manifests, the fit loop."""
