# Everything runs from a virtualenv at .venv, created on first use from the pinned requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: running a function (make invoke) needs only the runtime requirements; the checks add
# the development tools and the churn report's chart extra.
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
FUNCTION ?= alert_failures
EVENT ?= events/cmq_topic_job_failed.json
DEPLOYED := shared $(wildcard functions/*)

.PHONY: test lint typecheck compat pytest invoke invoke-all local bench package serverless policy fuzz doctor settings-doc clean

$(RUNTIME_STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP) requirements-dev.txt requirements-report.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  -r requirements.txt -r requirements-dev.txt -r requirements-report.txt
	touch $(STAMP)

test: lint typecheck compat pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each function folder is its own code root in SCF (three index.py files), so each is checked on its own.
# Tests import each function's own package (alerting, retrying, churn) with its folder on the path.
FUNCTION_PATHS := functions/alert_failures:functions/retry_interrupted:functions/log_node_churn
typecheck: $(STAMP)
	MYPYPATH=$(FUNCTION_PATHS) $(BIN)/mypy shared tools tests bench localcloud
	for dir in functions/*; do (cd $$dir && MYPYPATH=../.. ../../$(BIN)/mypy --config-file ../../pyproject.toml --cache-dir ../../.mypy_cache . ) || exit 1; done

# The deployed code must run on SCF's Python 3.9 and 3.10: vermin checks the minimum version, and a
# real 3.9 interpreter, when the machine has one, byte-compiles it and runs each handler on a sample
# (stdlib only: without their optional settings the handlers need no third-party package).
PY39 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.9*/bin/python3.9 /usr/bin/python3.9 /usr/local/bin/python3.9))
# log_node_churn's stream reads times with datetime.fromisoformat, which reads fewer forms before 3.11:
# tests/churn_paths.py holds it to the reference path under each SCF runtime the machine has.
PY310 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10))
compat: $(STAMP)
	$(BIN)/vermin --no-tips --violations --target=3.9- --eval-annotations $(DEPLOYED)
ifneq ($(PY39),)
	$(PY39) -m compileall -q $(DEPLOYED) >/dev/null
	for fn in alert_failures retry_interrupted log_node_churn; do \
	  $(PY39) -m tools.invoke $$fn events/cmq_topic_multi_record_mixed.json --env-file /dev/null >/dev/null || exit 1; done
	$(PY39) -m tools.invoke retry_interrupted events/cmq_topic_job_failed_interrupted.json --env-file /dev/null 2>&1 \
	  | grep -q '"retried": 1' || { echo "retry_interrupted did not retry under $(PY39)"; exit 1; }
	@echo "python 3.9: retry_interrupted signed and sent its Batch and Tag calls with the standard library alone"
	$(PY39) -m tests.churn_paths
	@echo "python 3.9 ($(PY39)): compiled and invoked every handler"
else
	@echo "no python3.9 on this machine: vermin's check only"
endif
ifneq ($(PY310),)
	$(PY310) -m tests.churn_paths
endif

pytest: $(STAMP)
	$(BIN)/python -m pytest

# Run one function on one event file, the way SCF calls it (no cloud account needed).
invoke: $(RUNTIME_STAMP)
	$(BIN)/python -m tools.invoke $(FUNCTION) $(EVENT)

# Every function on every sample (events/ and events/delivery/) against the local cloud: one line each,
# a summary, exit 1 on an unexpected failure.
invoke-all: $(RUNTIME_STAMP)
	$(BIN)/python -m tools.invoke --all

# The local cloud as a server on 127.0.0.1 with a page showing what each channel received, rendered.
PORT ?= 8787
local: $(RUNTIME_STAMP)
	$(BIN)/python -m localcloud.server --port $(PORT)

# What serverless.yml deploys: build/<function>/ with its code, shared/, the runtime deps it imports and
# bytecode for the runtime. RUNTIME=Python3.10 builds (and renders) for that runtime instead.
RUNTIME ?= Python3.9
package: $(STAMP)
	$(BIN)/python -m tools.package --runtime $(RUNTIME)

# Rewrite serverless.yml for a delivery path: queue (default), http or cmq.
DELIVERY ?= queue
serverless: $(STAMP)
	$(BIN)/python -m tools.render_serverless --delivery $(DELIVERY) --runtime $(RUNTIME) > serverless.yml.tmp && mv serverless.yml.tmp serverless.yml
	$(BIN)/python -m tools.render_serverless --env-example > .env.example

# The execution role's least-privilege CAM policy, for the path and features chosen:
#   make policy REGION=ap-guangzhou UIN=100000000001 TOPIC=batch-events [FEATURES="ALERT_ENRICH RETRY_RULES"]
policy: $(STAMP)
	$(BIN)/python -m tools.cam_policy --region "$(REGION)" --uin "$(UIN)" --topic "$(TOPIC)" \
	  --delivery $(DELIVERY) $(foreach f,$(FEATURES),--feature $(f))

# Checks the settings in the environment and .env before any event comes: unknown names ("did you mean"),
# every function's configuration through its own loader, the effective settings with secrets masked.
#   make doctor [DELIVERY=queue] [DOCTOR_FLAGS="--cloud --send-test"]
doctor: $(STAMP)
	$(BIN)/python -m tools.doctor $(if $(filter command line environment,$(origin DELIVERY)),--delivery $(DELIVERY)) $(DOCTOR_FLAGS)

# docs/settings.md is generated from the settings the code reads (a test fails when it drifts).
settings-doc: $(STAMP)
	$(BIN)/python -m tools.settings_reference --write

# Never part of `make test`: a long campaign of hostile inputs (100,000 by default) across the three
# handlers and the three delivery paths; prints escaped exceptions and unaccounted records, exit 1 on any.
FUZZ_COUNT ?= 100000
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python -m tools.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

# Never part of `make test`: timings are the machine's; the report gives ratios to a same-run baseline.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

# make bench BENCH_ARGS=--quick for a smoke run; results go to build/bench/results.json (untracked).
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
