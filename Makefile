# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CATCHALL_HOME ?= $(CURDIR)/var

.PHONY: install browser run test test-sqlite test-postgres lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Debian's chromium for the browser tests (tests/web drive it with Playwright; Playwright's own browser
## downloads are not used). Installed with apt only when missing; root runs apt directly, others via sudo.
CHROMIUM := /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-liberation
browser: $(CHROMIUM)

$(CHROMIUM):
	@echo "$(CHROMIUM) is missing: installing Debian's $(BROWSER_PACKAGES) with apt-get (browser tests)"
	@SUDO=$$([ "$$(id -u)" -eq 0 ] || echo "sudo -n"); \
	 { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	   && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      $(BROWSER_PACKAGES) >/dev/null; } \
	 && test -x $(CHROMIUM) \
	 || { echo "error: could not install Debian's chromium to $(CHROMIUM), which the browser tests" \
	      "(tests/web) need. Install it as root: apt-get install chromium fonts-liberation;" \
	      "or skip those tests with: $(BIN)/pytest -m 'not browser'" >&2; exit 1; }

## Serve the API and pages on 127.0.0.1:8000 (builds the default world and model on first run).
run: install
	$(BIN)/catchall serve --host 127.0.0.1 --port 8000

## The whole suite on SQLite, then the database tests again on PostgreSQL when CATCHALL_TEST_POSTGRES_URL is set.
test: install browser
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$CATCHALL_TEST_POSTGRES_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	 else echo "CATCHALL_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

test-sqlite: install
	$(BIN)/pytest -n 2 --dist loadgroup -q

test-postgres: install
	CATCHALL_TEST_DATABASE=postgres $(BIN)/pytest -n 2 --dist loadgroup -q -m db

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

bench: install
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
