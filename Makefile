# hubsense: `make demo` runs the demo, `make test` the whole test suite.
# Both bootstrap what they need on a fresh Debian machine (run as root).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEBS := mosquitto mosquitto-clients
# podman, runc, debootstrap: tests/deploy/test_image.py builds and runs the Dockerfile for real
TEST_DEBS := $(DEBS) influxdb chromium podman runc debootstrap
BENCH_DEBS := $(TEST_DEBS) wrk

.PHONY: demo test bench lint venv debs test-debs bench-debs clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

debs:
	@scripts/ensure-debs $(DEBS)

test-debs:
	@scripts/ensure-debs $(TEST_DEBS)

bench-debs:
	@scripts/ensure-debs $(BENCH_DEBS)

demo: venv debs
	$(VENV)/bin/hubsense demo

test: venv test-debs
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: venv bench-debs
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
