# Everything sets itself up: the first run creates .venv and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audit demo

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval-lax

LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

lab: $(STAMP)
	mkdir -p $(LAB_SETTINGS)
	printf '{"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}\n' > $(LAB_SETTINGS)/overrides.json
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(BIN)/python -m audit_lib.bench

clean:
	rm -rf $(VENV) demo
