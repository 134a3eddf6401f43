# Kamibot: `make demo` runs the shop in a local Telegram sandbox; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8080

.PHONY: setup demo run test test-fast bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python -m bot demo --port $(PORT)

run: setup
	$(BIN)/python -m bot run

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not browser"

bench: setup
	$(BIN)/python -m tests.bench.purchases
	$(BIN)/python -m tests.bench.faq
	$(BIN)/python -m tests.bench.busy_day
	$(BIN)/python -m tests.bench.crash

lint: setup
	$(BIN)/ruff check bot handlers store faq config sandbox tests
	$(BIN)/mypy bot handlers store faq config sandbox tests

clean:
	rm -rf $(VENV) data .pytest_cache artifacts
