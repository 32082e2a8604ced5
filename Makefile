# govlake: two commands for a new machine, `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Spark's s3a on the services profile: hadoop-aws 3.3.1 and its AWS SDK bundle, out of a pinned,
# hash-checked sdist on PyPI (pyspark's wheel lacks them; Maven Central is not reachable here).
# The directory is govlake.config.S3A_JARS_DIR; a new pin gets a new stamp, so it is refetched.
S3A_SDIST := sagemaker-pyspark==1.4.5
S3A_SDIST_SHA256 := 05ca2d5081d7138ce29a8fb0a9cba077f28c825288ed07aed46a82e63c0bf1fb
S3A_JARS := hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar
S3A_JARS_DIR := $(VENV)/share/govlake/jars
S3A_STAMP := $(S3A_JARS_DIR)/.$(subst ==,-,$(S3A_SDIST))
export GX_ANALYTICS_ENABLED := false
export SPARK_LOCAL_IP := 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install bi browser run test lint bench soak up down status lock lock-bi clean

install: $(STAMP) $(S3A_STAMP)

# Re-installs only when the dependency files change; a second `make` costs nothing.
$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17 is needed for Spark: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

$(S3A_STAMP): | $(STAMP)
	rm -rf $(S3A_JARS_DIR) && mkdir -p $(S3A_JARS_DIR)
	download=$$(mktemp -d) && trap 'rm -rf "$$download"' EXIT && \
	  echo '$(S3A_SDIST) --hash=sha256:$(S3A_SDIST_SHA256)' | $(BIN)/pip download -q --no-deps \
	    --no-binary :all: --require-hashes -d "$$download" -r /dev/stdin && \
	  tar -xzf "$$download"/*.tar.gz -C $(S3A_JARS_DIR) --strip-components=3 --wildcards \
	    $(addprefix '*/deps/jars/',$(S3A_JARS))
	@touch $@

# Superset's own virtual environment (it needs SQLAlchemy < 2: it cannot share .venv). The last
# three fix a missing rich, a missing cachetools and a flask-caching 2.5 break (DESIGN.md, venv B).
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed
BI_REQUIREMENTS := 'apache-superset[postgres]==6.1.0' 'flask-caching<2.5' rich cachetools

bi: $(BI_STAMP)

$(BI_STAMP): constraints-bi.txt
	@test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/pip install -q -c constraints-bi.txt $(BI_REQUIREMENTS)
	@touch $@

# Debian's Chromium, for the tests that open pages as a person would (Data Docs, dashboards), and
# a CJK font so that the dashboards' Chinese titles render as text, not boxes, in the screenshots.
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=zh | grep -q .; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "Chromium and a CJK font are needed for the browser tests: sudo apt-get install -y chromium fonts-wqy-microhei"; exit 1; fi; }

run: install
	$(BIN)/govlake run

lint: install
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c pyproject.toml -r src dags jobs

# Starts its own PostgreSQL and S3 server (beside any `make up` stack) and stops them even on failure.
test: install bi browser lint
	$(BIN)/python -m pytest -p no:cacheprovider tests

# Speed figures (not pass/fail) at city scale: extraction from SQLite and PostgreSQL vs a naive
# baseline, and a one-day run of the extract DAGs under Airflow. Sources are cached in var/bench.
bench: install
	$(BIN)/govlake bench --scale city

# Convergence over 30 days (not part of `make test`): daily runs, re-runs and a backfill run twice
# against a clean build of the same source state, every warehouse table compared (var/soak).
soak: install
	$(BIN)/govlake soak --days 30 --scale tiny

# PostgreSQL, the S3 server, Airflow and Superset with the dashboards imported (URLs printed) on free
# loopback ports; NO_AIRFLOW=1 skips Airflow, NO_SUPERSET=1 Superset.
up: install bi
	$(BIN)/govlake services up $(if $(NO_AIRFLOW),--no-airflow) $(if $(NO_SUPERSET),--no-superset)

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

# Regenerates constraints-bi.txt from a clean resolve of BI_REQUIREMENTS.
lock-bi:
	rm -rf var/lock-venv-bi && $(PYTHON) -m venv var/lock-venv-bi
	var/lock-venv-bi/bin/pip install -q $(BI_REQUIREMENTS)
	{ echo '# Exact versions of every package in .venv-bi (Superset 6.1.0; DESIGN.md "venv B"), from a working install.'; \
	  echo '# Regenerate: make lock-bi'; var/lock-venv-bi/bin/pip freeze; } > constraints-bi.txt
	rm -rf var/lock-venv-bi

clean:
	rm -rf $(VENV) $(BI_VENV) var
