"""Figures and HTML reports: per-run report, sweep report, the mean ± std tables."""
