# One-command setup, run and test. Everything a fresh machine needs is installed
# here from requirements.lock (compiled from pyproject.toml with `make lock`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VPY       := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAMP     := $(VENV)/.installed
# The `airflow` extra (pyproject.toml), locked apart: installed over the base set by `make airflow`
# and `make test`, never by `make setup`. Its stamp is newer than $(STAMP), so a `make setup` that
# did not re-sync leaves Airflow in place, and one that did (a changed requirements.lock) is followed
# by a reinstall at the next `make test`.
AIRFLOW_LOCK  := requirements-airflow.lock
AIRFLOW_STAMP := $(VENV)/.airflow-installed
ROWS      ?= 20000
CONFIG    ?= configs/ad_click.yaml
PYTEST_ARGS ?=

# Python 3.10: `python3.10` on PATH (pyenv resolves it through .python-version),
# else pyenv's own install, else the usual system locations.
PYTHON310 := $(shell command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null && command -v python3.10 \
               || ls -1d $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 2>/dev/null | tail -n 1)

.PHONY: help setup browser run lint test test-fast lock clean airflow lock-airflow wheel image

help:
	@echo "make setup      create .venv (Python 3.10) and install the locked dependencies"
	@echo "make run        generate $(ROWS) ad-click rows and run the pipeline end to end"
	@echo "make lint       ruff check, ruff format --check and the import-linter contracts (pyproject.toml)"
	@echo "make test       run the whole test suite, tests/e2e beside the rest (TEST=fast for unit tests only)"
	@echo "make test-fast  unit tests only (no TFX pipeline runs)"
	@echo "make lock       re-resolve requirements.lock from pyproject.toml"
	@echo "make airflow    install Airflow (the 'airflow' extra) from requirements-airflow.lock"
	@echo "make lock-airflow  re-resolve requirements-airflow.lock, base versions as constraints"
	@echo "make wheel      build dist/declarative_tfx-*.whl: the code Dataflow workers and the Vertex image install"
	@echo "make image      build the Vertex AI image (configs/image/Dockerfile; needs a Docker engine)"

setup: $(STAMP) browser

# Debian's Chromium renders the HTML reports in the browser tests (headless, offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: chromium could not be installed; browser tests will be skipped" >&2; \
	  else echo "note: install Debian's chromium (apt-get install chromium) to run the browser tests" >&2; fi; }

# --compile-bytecode: the venv ships .pyc files. Without them every process compiles TensorFlow, TFX and
# Beam from source on import when PYTHONDONTWRITEBYTECODE is set (as on CI): `import tfx.v1, apache_beam`
# took 38-58 s without them and 24.5 s with them, in one run at load 5 on 2 cores.
$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: Python 3.10 not found. TFX 1.16 needs Python 3.10." >&2; \
	  echo "  install it with pyenv:  pyenv install 3.10 && pyenv local 3.10" >&2; \
	  echo "  or Debian/Ubuntu:       apt-get install python3.10 python3.10-venv" >&2; \
	  exit 1; fi
	@if [ ! -x $(VPY) ] || ! $(VPY) -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null; then \
	  echo "creating $(VENV) with $(PYTHON310)"; rm -rf $(VENV); $(PYTHON310) -m venv $(VENV); fi
	@$(VPY) -m pip --version >/dev/null 2>&1 || $(VPY) -m ensurepip -q
	@$(VPY) -m uv --version 2>/dev/null | grep -q "$(UV_VERSION)" || $(VPY) -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VPY) -m uv pip sync --python $(VPY) --compile-bytecode requirements.lock
	$(VPY) -m uv pip install --python $(VPY) --no-deps -e . "uv==$(UV_VERSION)" pip
	@touch $(STAMP)

# Data is generated once per row count: rewriting identical files would change their
# mtime and so ExampleGen's input fingerprint, and defeat caching on the next `make run`.
DATA_STAMP := data/ad_click/.rows-$(ROWS)

$(DATA_STAMP): | $(STAMP)
	rm -rf data/ad_click
	$(VPY) -m pipelines.datagen ad_click --rows $(ROWS) --out data/ad_click --seed 7
	@touch $@

# configs/ad_click_images.yaml reads ads with banners (`datagen ad_click --images`) from their own folder.
IMAGES_STAMP := data/ad_click_images/.rows-$(ROWS)

$(IMAGES_STAMP): | $(STAMP)
	rm -rf data/ad_click_images
	$(VPY) -m pipelines.datagen ad_click --images --rows $(ROWS) --out data/ad_click_images --seed 7
	@touch $@

run: setup $(DATA_STAMP) $(if $(findstring ad_click_images,$(CONFIG)),$(IMAGES_STAMP))
	$(VPY) -m pipelines.run --config $(CONFIG) --summary runs/ad_click_summary.json

# All three checks run even when one fails, so one pass shows every problem. Needs only the
# venv (not the browser). `.venv/bin/ruff check .` shows each finding in full; fix with
# `ruff check --fix .` and `ruff format .`.
lint: $(STAMP)
	@status=0; \
	echo "ruff check ."; $(VENV)/bin/ruff check --output-format concise . || status=1; \
	echo "ruff format --check ."; $(VENV)/bin/ruff format --check --output-format concise . || status=1; \
	echo "lint-imports"; $(VENV)/bin/lint-imports --no-logo || status=1; \
	exit $$status

airflow: $(AIRFLOW_STAMP)

# --no-deps: the lock is the whole resolved set (base + Airflow); nothing else is resolved here.
$(AIRFLOW_STAMP): $(AIRFLOW_LOCK) $(STAMP)
	$(VPY) -m uv pip install --python $(VPY) --no-deps --compile-bytecode -r $(AIRFLOW_LOCK)
	@touch $@

# The base lock is the constraint set, so Airflow moves no base version, except two that cannot
# hold: opentelemetry-* (Airflow's OTLP exporter needs protobuf<5 releases, TFX pins protobuf 3.20)
# and rich, kept at the base version over flask-limiter's <14 bound (import-linter needs >=14).
lock-airflow: setup
	grep -v '^opentelemetry-' requirements.lock > $(VENV)/airflow-constraints.txt
	grep '^rich==' requirements.lock > $(VENV)/airflow-overrides.txt
	$(VPY) -m uv pip compile pyproject.toml --extra airflow --extra dev --python-version 3.10 \
	  --python-platform x86_64-unknown-linux-gnu --no-header \
	  -c $(VENV)/airflow-constraints.txt --override $(VENV)/airflow-overrides.txt -o $(AIRFLOW_LOCK)

# Two pytest sessions side by side: the pipeline runs (tests/e2e, one session, so its runs are
# shared by every test that reads them) and everything else, whose output is shown when both
# end. A pipeline run keeps about one core busy, so the second session fills the other core.
test: setup $(AIRFLOW_STAMP)
ifeq ($(TEST),fast)
	$(VPY) -m pytest -m "not slow" $(PYTEST_ARGS)
else
	@tmp=$$(mktemp -d); \
	$(VPY) -m pytest --ignore=tests/e2e --basetemp=$$tmp/rest $(PYTEST_ARGS) > $$tmp/rest.log 2>&1 & rest=$$!; \
	$(VPY) -m pytest tests/e2e --basetemp=$$tmp/e2e $(PYTEST_ARGS); e2e=$$?; \
	wait $$rest; other=$$?; \
	echo "==== the tests outside tests/e2e, run alongside ===="; cat $$tmp/rest.log; rm -rf $$tmp; \
	echo "tests/e2e: exit $$e2e; the rest: exit $$other"; \
	exit $$(( e2e || other ))
endif

test-fast: setup
	$(VPY) -m pytest -m "not slow" $(PYTEST_ARGS)

lock: setup
	$(VPY) -m uv pip compile pyproject.toml --extra dev --python-version 3.10 \
	  --python-platform x86_64-unknown-linux-gnu --no-header -o requirements.lock

clean:
	rm -rf $(VENV) runs data .pytest_cache

# The worker wheel: Dataflow stages it (beam.dataflow.extra_package), the Vertex image installs it.
# Offline: the venv's setuptools builds it (no build isolation, nothing downloaded).
wheel:
	$(VPY) -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check -q -w dist .

# Not runnable on the development machine (no Docker engine): run it where Docker runs, then push.
IMAGE ?= declarative-tfx:0.1.0
image: wheel
	docker build -f configs/image/Dockerfile -t $(IMAGE) .
