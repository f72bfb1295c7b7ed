# The two commands a new user needs: `make demo` and `make test`.
# Both bootstrap .venv with everything scones needs on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.scones-installed

# The CIFAR-100 subset shipped beside this repository in the development
# workspace; a real user's machine downloads the official archive instead.
SHARED_ARCHIVE := $(wildcard ../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz)
ifneq ($(SHARED_ARCHIVE),)
export SCONES_CIFAR_SOURCE ?= $(abspath $(SHARED_ARCHIVE))
endif

.PHONY: demo test lint install clean benchmarks

demo: $(STAMP)
	$(BIN)/scones demo

# The tests, then the checks: ruff (style, imports, likely bugs) and mypy (types).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup
	@$(MAKE) --no-print-directory lint

# Both checkers always run (one report of everything), and either failing fails the target.
lint: $(STAMP)
	@status=0; \
	echo "$(BIN)/ruff check src tests benchmarks"; $(BIN)/ruff check src tests benchmarks || status=1; \
	echo "$(BIN)/mypy src/scones"; $(BIN)/mypy src/scones || status=1; \
	exit $$status

install: $(STAMP)

# torch is pinned in pyproject.toml (torch==2.13.0 is a CPU build); an open
# range would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	@touch $(STAMP)

benchmarks: $(STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .scones .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
