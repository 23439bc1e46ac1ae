# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates its own virtual environment (.venv) and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-quick soak lint typecheck pytest vectors schemas clean help i18n i18n-check i18n-extract i18n-help

# Tests run in this many worker processes: most of them wait on sockets, databases and hub
# processes, so more workers than the 2 cores of a small machine still shortens the run.
TEST_WORKERS ?= 4

# The tests start hundreds of `pgs` processes (hubs and CLI commands), each importing the package
# afresh. Where PYTHONDONTWRITEBYTECODE is set, each would compile every module of it again (about
# a second of CPU per process): compile them once before the tests (__pycache__ is not committed).
COMPILED := pgs_hub hub crypto protocols migrations

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	$(BIN)/python -m pgs_hub.hub.i18n_build compile
	touch $(STAMP)

# The texts people read live in hub/locale/<lang>/LC_MESSAGES/*.po (gettext, managed with Babel);
# the compiled .mo files are generated (see .gitignore), here and by the wheel's build (setup.py).
i18n: $(STAMP)  ## compile the language catalogs (hub/locale/*/LC_MESSAGES/*.mo)
	$(BIN)/python -m pgs_hub.hub.i18n_build compile

i18n-check: $(STAMP)  ## fail listing every key used in code but missing, every text missing in a language, every placeholder mismatch
	$(BIN)/python -m pgs_hub.hub.i18n_build check

i18n-help: $(STAMP)  ## after a help text changed: write the English help entries from the command tree, list what each language must translate or review
	$(BIN)/python -m pgs_hub.hub.i18n_build help

i18n-extract: $(STAMP)  ## the keys the code uses, as a gettext template (hub/locale/messages.pot) for translators' tools
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k say -k _t -k html_text -k _ask -k _maybe \
		-k step -k _refused:3 -k config_error -k keyed --omit-header -o hub/locale/messages.pot .

demo: $(STAMP) i18n  ## run the offline demo (keys, seal, open, refuse)
	$(BIN)/pgs demo

test: $(STAMP) i18n  ## ruff, mypy, import layers, then the whole pytest suite (parallel, then serial)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m compileall -q -j 0 $(COMPILED)
	$(BIN)/pytest -m "not serial" -n $(TEST_WORKERS) --dist worksteal
	$(BIN)/pytest -m serial

test-quick: $(STAMP) i18n  ## the inner loop: ruff, then the tests that need no hub process, browser or fault (about a minute)
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not (e2e or browser or fault or slow or serial)" -n 2 -q

# The security families recorded outside tests/security (tests/security/figures.py) run too, so
# that both tables are complete.
SECURITY_ELSEWHERE := tests/crypto/test_properties.py tests/crypto/test_wycheproof.py \
	tests/auth/test_httpsig.py tests/e2e/test_access_matrix.py tests/e2e/test_bad_input.py

soak: $(STAMP)  ## long fault and security runs (PGS_SOAK=1); prints the figures per fault and family
	PGS_SOAK=1 $(BIN)/pytest tests/faults tests/security $(SECURITY_ELSEWHERE) -q

vectors: $(STAMP)  ## regenerate our own envelope test vectors
	$(BIN)/python tests/vectors/make_envelope_vectors.py

schemas: $(STAMP)  ## regenerate docs/schemas/ from the protocol models
	$(BIN)/pgs schema --out docs/schemas/pgs-1

.PHONY: bench bench-quick bench-log

# The benchmarks also need the `bench` extra (matplotlib, for the chart): a stamp of their own, so
# that `make test` never installs it. The $(STAMP) rule removes it whenever pyproject.toml changes.
BENCH_STAMP := $(VENV)/.installed-bench-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## full hub benchmark vs a bare aiohttp baseline (minutes); JSON + PNG in bench/results/
	$(BIN)/python -m bench.hub_bench

bench-quick: $(BENCH_STAMP)  ## the same hub benchmark, small sizes (< 1 min)
	$(BIN)/python -m bench.hub_bench --quick

bench-log: $(STAMP)  ## audit-log benchmark alone: 10^6 entries (minutes); figures in bench/results/
	$(BIN)/python bench/log_bench.py

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
