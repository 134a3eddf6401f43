# Kamibot: `make demo` runs the shop in a local Telegram sandbox; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8080

.PHONY: setup demo run test test-fast bench lint catalogs clean

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
	$(BIN)/python -m tests.bench.tlog
	$(BIN)/python -m tests.bench.settlement

# After changing a text key in the code: extract the keys, merge them into each language's .po
# (a new key arrives untranslated, and the tests say so until someone writes it), and compile.
LOCALES := handlers/locales
catalogs: setup
	$(BIN)/pybabel extract --no-default-keywords -k say:2 -k say_plain:2 -k N_ \
		--project=Kamibot --version=0.1.0 --copyright-holder="Kamibot contributors" \
		--no-location --sort-output --no-wrap -o $(LOCALES)/kamibot.pot bot handlers
	$(BIN)/pybabel update -D kamibot -i $(LOCALES)/kamibot.pot -d $(LOCALES) \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	$(BIN)/pybabel compile -D kamibot -d $(LOCALES) --statistics

lint: setup
	$(BIN)/ruff check bot handlers store faq config sandbox tests
	$(BIN)/mypy bot handlers store faq config sandbox tests

clean:
	rm -rf $(VENV) data .pytest_cache artifacts
