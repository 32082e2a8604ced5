# govlake: two commands for a new machine, `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := false
export SPARK_LOCAL_IP := 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install browser run test lint bench up down status lock clean

install: $(STAMP)

# Re-installs only when the dependency files change; a second `make` costs nothing.
$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17 is needed for Spark: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

# Debian's Chromium, for the tests that open pages as a person would (Data Docs, later dashboards).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium"; exit 1; fi; }

run: install
	$(BIN)/govlake run

lint: install
	$(BIN)/ruff check .

# Starts its own PostgreSQL and S3 server (beside any `make up` stack) and stops them even on failure.
test: install browser lint
	$(BIN)/python -m pytest -p no:cacheprovider tests

# Speed figures (not pass/fail) at city scale: extraction from SQLite and PostgreSQL vs a naive
# baseline, and a one-day run of the extract DAGs under Airflow. Sources are cached in var/bench.
bench: install
	$(BIN)/govlake bench --scale city

# PostgreSQL, the S3 server and Airflow (UI URL printed) on free loopback ports; NO_AIRFLOW=1 skips Airflow.
up: install
	$(BIN)/govlake services up $(if $(NO_AIRFLOW),--no-airflow)

down: install
	$(BIN)/govlake services down

status: install
	$(BIN)/govlake services status

# Regenerates constraints.txt from a clean resolve of pyproject.toml's ranges.
lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install -q '.[dev]'
	{ echo '# Exact versions of every package in .venv, from a working install. Regenerate: make lock'; \
	  var/lock-venv/bin/pip freeze --exclude govlake; } > constraints.txt
	rm -rf var/lock-venv

clean:
	rm -rf $(VENV) var
