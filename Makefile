# Everything sets itself up: the first run creates .venv and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab bench clean lock

# Installs the exact bytes requirements.lock names (every package pinned, with its sha256), then the project
# itself without resolving anything: two fresh clones a year apart run on the same packages.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock after changing pyproject.toml's dependencies (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

demo: $(STAMP)
	$(BIN)/audit demo

# One worker per core, at most four (several tests start notebook kernels, batch processes or a local Dask
# cluster of their own); each test module and each notebook stays on one worker, its cells in order.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadscope tests notebooks --nbval-lax

LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

lab: $(STAMP)
	mkdir -p $(LAB_SETTINGS)
	printf '{"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}\n' > $(LAB_SETTINGS)/overrides.json
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(BIN)/python -m audit_lib.bench

clean:
	rm -rf $(VENV) demo
