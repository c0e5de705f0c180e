"""One table across methods: `python scripts/compare.py inputs=[MULTIRUN_DIR_OR_RUN_DIRS]`.

Prints methods × metrics (mean ± std over seeds, best per column in bold) and writes comparison.csv,
comparison.md, comparison.png and sweep_report.html into the run directory; logs the table to W&B.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare")
@clean_errors
def main(cfg: DictConfig) -> None:
    import markdown_it

    from src.report.sweep import plot_comparison, write_sweep_report
    from src.report.tables import flat_table, to_markdown
    from src.tasks.compare import comparison_table, find_runs
    from src.tasks.tracking import start_logger
    from src.utils.io import write_csv, write_text

    inputs = OmegaConf.to_container(cfg.inputs) if not isinstance(cfg.inputs, str) else [cfg.inputs]
    runs = find_runs(inputs)
    metrics = OmegaConf.to_container(cfg.metrics) if cfg.metrics else None
    table = comparison_table(runs, metrics)
    out = run_dir()
    markdown = to_markdown(table)
    write_csv(out / "comparison.csv", flat_table(table))
    write_text(out / "comparison.md", markdown)
    plot = plot_comparison(table, out / "comparison.png")
    html_table = markdown_it.MarkdownIt().enable("table").render(markdown)
    write_sweep_report(runs, table, html_table, plot, out / "sweep_report.html")
    groups = sorted({r.group for r in runs if r.group})
    if cfg.get("logger") and "_target_" in cfg.logger and groups and not cfg.logger.get("group"):
        cfg.logger.group = groups[0]
    logger = start_logger(cfg)
    if logger is not None:
        logger.log_table("comparison", flat_table(table))
        logger.log_figures({"Methods compared": plot})
        logger.finish()
    print(markdown)
    print(f"comparison: {out.resolve() / 'comparison.md'}")


if __name__ == "__main__":
    main()
