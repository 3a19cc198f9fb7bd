# Two commands on a fresh machine with python3 and make: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: serve test bench check-upstream record-upstream proxy-upstream openapi openai-spec schemathesis clean

# The virtualenv is rebuilt when the project's dependencies change.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

serve: $(BIN)/.installed
	$(BIN)/gptnb-mock serve --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

# The real upstream against the contracts: free endpoints only, key from GPTNB_API_KEY (a dry run without one).
check-upstream: $(BIN)/.installed
	mkdir -p build
	$(BIN)/gptnb-mock check https://goapi.gptnb.ai $(if $(GPTNB_API_KEY),--report build/upstream.html,--dry-run)

# Real traffic judged and kept: the free endpoints' documented requests through the validating proxy,
# cassettes in build/cassettes, then build/drift.html; key from GPTNB_API_KEY (a dry run without one).
record-upstream: $(BIN)/.installed
	BIN=$(BIN) tools/record_upstream.sh

# The validating proxy in front of the real upstream for your own application (point it at
# http://$(HOST):8010); records into build/cassettes; key from GPTNB_API_KEY (a dry run without one).
proxy-upstream: $(BIN)/.installed
	$(BIN)/gptnb-mock proxy --upstream https://goapi.gptnb.ai --host $(HOST) --record build/cassettes $(if $(GPTNB_API_KEY),,--dry-run)

# The contracts as one OpenAPI 3.1 document (a running mock serves it at /__mock/openapi.json).
openapi: $(BIN)/.installed
	mkdir -p build
	$(BIN)/gptnb-mock openapi --server http://$(HOST):$(PORT) --output build/openapi.json

# Fuzz a fresh mock with schemathesis, from the OpenAPI document it serves (about a minute).
# MAX_EXAMPLES=20 SEED=1 make schemathesis; SCHEMATHESIS_ARGS="--include-tag openai" narrows it.
schemathesis: $(BIN)/.installed
	BIN=$(BIN) tools/schemathesis_run.sh $(SCHEMATHESIS_ARGS)

# Refresh tests/specs/openai-openapi.json from OpenAI's published document: make openai-spec SPEC=path/to/openapi.yaml
openai-spec: $(BIN)/.installed
	$(BIN)/python tools/openai_spec.py $(SPEC) > tests/specs/openai-openapi.json

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
