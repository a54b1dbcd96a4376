# Two entry points for a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test unit notebooks refresh-notebooks bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Settings this JupyterLab starts with (a user's own settings still win); Binder uses them too.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

$(LAB_OVERRIDES): binder/overrides.json $(STAMP)
	install -D -m 644 $< $@

## Start JupyterLab on notebooks/ (creates .venv and installs on first run), as Binder does:
## the notebooks replay their cassettes, and changed prompts go live (binder/start says how).
## Options go through LAB_ARGS: make lab LAB_ARGS="--port 8899 --no-browser"
lab: $(STAMP) $(LAB_OVERRIDES)
	binder/start $(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## Every test: unit, integration against the emulator, real kernels, notebooks under nbval.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests
	JUPYTER_LLM_DATA_DIR=$$(mktemp -d) JUPYTER_LLM_CASSETTE_MODE=replay $(BIN)/python -m pytest --nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg

unit: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests

## Notebooks under strict nbval, answered from their cassettes (x.ipynb -> x.llm.jsonl): no gateway needed.
notebooks: $(STAMP)
	JUPYTER_LLM_DATA_DIR=$$(mktemp -d) JUPYTER_LLM_CASSETTE_MODE=replay $(BIN)/python -m pytest --nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg

## Re-record notebooks/ with the built-in emulator: new cassettes and saved outputs (`jupyter-llm record`).
refresh-notebooks: $(STAMP)
	$(BIN)/python tools/refresh_notebooks.py

## Benchmarks against the emulator; writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
