# Set-up and everyday commands. Each target creates .venv when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test eval lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned to the CPU wheel; then the project and its dev extras.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/pipeline.py hydra.run.dir=outputs/demo

# The layers contract (import-linter, pyproject.toml) runs first: an upward import fails the suite.
# Two pytest workers (pytest-xdist), one test file per worker at a time: most of the suite's time is end-to-end
# script runs that spend seconds importing torch/sklearn on one core. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# Continuous evaluation: standard experiments and every recommender, fixed seeds, checked against
# benchmarks/expected_metrics.json.
EVAL_EXPERIMENTS ?= baseline_raw,autoencoder,hybrid
EVAL_SEEDS ?= 0,1,2
EVAL_DIR ?= outputs/eval/sweep
eval: $(STAMP)
	rm -rf $(EVAL_DIR)
	$(BIN)/python scripts/pipeline.py -m experiment=$(EVAL_EXPERIMENTS) seed=$(EVAL_SEEDS) progress=false \
		hydra.sweep.dir=$(EVAL_DIR)
	$(BIN)/python scripts/compare.py inputs=[$(EVAL_DIR)] hydra.run.dir=$(EVAL_DIR)/../compare logger=none
	$(BIN)/python scripts/check_metrics.py inputs=[$(EVAL_DIR)] methods=[$(EVAL_EXPERIMENTS)] \
		hydra.run.dir=$(EVAL_DIR)/../check
	$(BIN)/python scripts/evaluate_recsys.py split_seeds=[$(EVAL_SEEDS)] hydra.run.dir=$(EVAL_DIR)/../evaluate_recsys
	$(BIN)/python scripts/check_metrics.py inputs=[$(EVAL_DIR)/../evaluate_recsys] methods=[evaluate_recsys] \
		hydra.run.dir=$(EVAL_DIR)/../check_recsys

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/ruff format --check src scripts tests benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix src scripts tests benchmarks
	$(BIN)/ruff format src scripts tests benchmarks

clean:
	rm -rf outputs multirun wandb .pytest_cache
