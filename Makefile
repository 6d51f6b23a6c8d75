# One command sets up and runs each job; every target installs what it needs first.
# `make` / `make report`  -> the default report (Buckinghamshire 2016-17)
# `make test`             -> lint + unit tests + nbval over the stored notebooks, then nbval
#                            again with OpenBLAS's generic kernels (OPENBLAS_CORETYPE=Prescott)

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
KERNEL := cpstats

# One BLAS/OpenMP thread per process: deterministic floats, no oversubscription.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# Another CPU makes OpenBLAS pick other kernels, and fitted numbers move in the last digits:
# the stored outputs must hold under the machine's choice and under the oldest generic one.
PRESCOTT := OPENBLAS_CORETYPE=Prescott

.PHONY: report test lint unit nbval nbval-prescott lab notebooks reference synth bench clean setup

report: setup
	$(BIN)/cpstats report $(ARGS)

setup: $(STAMP)

# The synthetic county's returns (deterministic; ~40 MB, so generated rather than committed).
SYNTHETIC := data/synthetic/cin_census_2017.xml
setup: $(SYNTHETIC)
$(SYNTHETIC): lib/cpstats/synth.py lib/cpstats/io/cin_census_writer.py | $(STAMP)
	$(BIN)/cpstats synth --quiet

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Needs $(PYTHON) (Python 3.11) on PATH" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,dask]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cpstats)" >/dev/null
	rm -f $(VENV)/.installed-* && touch $@

test: setup
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/python -m pytest tests $(NOTEBOOKS) $(NBVAL)
	$(PRESCOTT) $(BIN)/python -m pytest $(NOTEBOOKS) $(NBVAL)

lint: setup
	$(BIN)/ruff check lib tests benchmarks

unit: setup
	$(BIN)/python -m pytest tests

nbval: setup
	$(BIN)/python -m pytest $(NOTEBOOKS) $(NBVAL)

nbval-prescott: setup
	$(PRESCOTT) $(BIN)/python -m pytest $(NOTEBOOKS) $(NBVAL)

lab: setup
	$(BIN)/jupyter lab notebooks/

# Re-execute the stored notebooks in place with the default parameters (what nbval compares).
notebooks: setup
	$(BIN)/cpstats notebooks refresh

reference: setup
	$(BIN)/cpstats reference build

synth: setup
	$(BIN)/cpstats synth

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
