# Two set-up commands: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_PACKAGE := $(VENV)/.installed-package

.PHONY: run test lint bench screenshots package clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

$(STAMP_PACKAGE): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[package]'
	touch $@ $(STAMP_RUN)

# The window needs Qt's system libraries (X11/xcb, GL, fonts): installed with apt-get when
# missing (packaging/linux/qt-system-libs.sh says which, from ldd on the installed Qt).
run: $(STAMP_RUN)
	bash tools/ensure-qt-runtime-deps.sh $(BIN)/python
	$(BIN)/pkt-wallet

test: $(STAMP_TEST)
	bash tools/ensure-test-system-deps.sh $(BIN)/python
	$(BIN)/python -m pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check spv app miner tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# The desktop bundle (PyInstaller one-dir) in dist/pkt-wallet/ and its .tar.gz: packaging/README.md
package: $(STAMP_PACKAGE)
	bash packaging/build-linux.sh $(BIN)/python

bench: $(STAMP_RUN)
	$(BIN)/python bench/chain_core.py

# Under Xvfb with the xcb platform and a window manager (openbox) for the title bars.
screenshots: $(STAMP_TEST)
	bash tools/ensure-test-system-deps.sh $(BIN)/python
	bash tools/ensure-screenshot-deps.sh
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info
