"""Metrics over labels, rankings and pairs (docs/evaluation.md). Imports nothing above data; never fits a model."""
