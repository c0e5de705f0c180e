"""Atomic file writes shared by every layer."""
