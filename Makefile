# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates its own virtual environment (.venv) and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test soak lint typecheck pytest vectors schemas clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)  ## run the offline demo (keys, seal, open, refuse)
	$(BIN)/pgs demo

test: $(STAMP)  ## ruff, mypy --strict on the pure cores, then the whole pytest suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

soak: $(STAMP)  ## long fault and security runs (PGS_SOAK=1); prints the figures per fault and family
	PGS_SOAK=1 $(BIN)/pytest tests/faults tests/security -q

vectors: $(STAMP)  ## regenerate our own envelope test vectors
	$(BIN)/python tests/vectors/make_envelope_vectors.py

schemas: $(STAMP)  ## regenerate docs/schemas/ from the protocol models
	$(BIN)/pgs schema --out docs/schemas/pgs-1

.PHONY: bench bench-log

bench: $(STAMP)  ## quick benchmark of the audit log against a real hub (20,000 entries, < 1 min)
	$(BIN)/python bench/log_bench.py --quick

bench-log: $(STAMP)  ## full audit-log benchmark: 10^6 entries (minutes); figures in bench/results/
	$(BIN)/python bench/log_bench.py

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
