# hubsense: `make demo` runs the demo, `make test` the whole test suite.
# Both bootstrap what they need on a fresh Debian machine (run as root).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-collector
DEBS := mosquitto mosquitto-clients
# podman, runc, debootstrap: tests/deploy/test_image.py builds and runs the Dockerfile for real;
# prometheus: promtool checks and unit-tests deploy/prometheus/alerts.yml (tests/deploy/test_prometheus_rules.py)
TEST_DEBS := $(DEBS) influxdb chromium podman runc debootstrap prometheus
BENCH_DEBS := $(TEST_DEBS) wrk

.PHONY: demo test bench lint venv debs test-debs bench-debs clean

# The demo needs only the collector extra; tests, benchmarks and lint need [dev] (Playwright, ...).
$(DEMO_STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[collector]'
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

venv: $(STAMP)

debs:
	@scripts/ensure-debs $(DEBS)

test-debs:
	@scripts/ensure-debs $(TEST_DEBS)

bench-debs:
	@scripts/ensure-debs $(BENCH_DEBS)

# make demo [PORT=8001] [MQTT_PORT=1884] [RESET=1]
demo: $(DEMO_STAMP) debs
	$(VENV)/bin/hubsense demo $(if $(PORT),--port $(PORT)) $(if $(MQTT_PORT),--mqtt-port $(MQTT_PORT)) $(if $(RESET),--reset)

test: venv test-debs
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: venv bench-debs
	@for b in $$(grep -l '__name__ == "__main__"' bench/*.py); do echo "== $$b"; $(PY) $$b || exit 1; done

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
