# akhbar: `make demo` installs and runs the demo crawl; `make test` installs and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install bytecode demo test test-fast lint format bench db-start db-stop clean

install: $(STAMP)

# pip 23 silently skips lxml_html_clean (trafilatura then fails to import), so the venv's
# pip is upgraded and uv installs the exact versions pinned in requirements.lock.
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set, every crawler and worker process
# would otherwise recompile its imports from source (seconds of CPU each).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

# The project's own modules, compiled as an installed package would be (the editable install
# is not): with PYTHONDONTWRITEBYTECODE set, each crawl and worker process would otherwise
# compile them anew (about 0.3 CPU-s a process). Only changed files are compiled again.
bytecode: install
	@$(BIN)/python -m compileall -q -j 0 akhbar api cli crawlers db migrations pipelines scheduler.py >/dev/null

demo: install bytecode
	$(BIN)/akhbar demo

test: install bytecode
	$(BIN)/python -m pytest

# Everything but the tests that start real processes (marked slow): for quick checks while working.
test-fast: install bytecode
	$(BIN)/python -m pytest -m "not slow"

# lint-imports: the layer contracts of pyproject.toml (docs/architecture.md, "Layers").
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install bytecode
	$(BIN)/python bench/crawl_bench.py

db-start: install
	$(BIN)/akhbar db start

db-stop: install
	$(BIN)/akhbar db stop

# Stops the embedded database and removes it with the virtualenv.
clean:
	-$(BIN)/akhbar db stop
	rm -rf $(VENV) var
