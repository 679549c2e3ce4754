# gaitcnn task runner. The first target that needs Python creates .venv and installs the project.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gaitcnn-installed
DATA_ROOT ?=
QUICK ?=
# FRAMEWORK=tflearn: train the CNNs with tflearn, the paper's framework (own process, paper CNN
# only); results then go to results/tflearn/ (default OUT). Default: keras.
FRAMEWORK ?=
FW_ARGS = $(if $(FRAMEWORK),--framework $(FRAMEWORK))
OUT ?= results$(if $(filter tflearn,$(FRAMEWORK)),/tflearn)
# BUDGET=hour: the drivers' documented cuts (bfloat16, fewer Figure 6/7/9 points) that fit
# Tables 1-2 and Figures 6-9 in an hour on 2 cores; the default of reproduce-all (FULL=1: the
# paper's whole protocol, over four hours here). Empty for the single targets: the paper's.
BUDGET ?=
BUDGET_ARGS = $(if $(BUDGET),--budget $(BUDGET))
PYTEST_ARGS ?= -n 2
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help install test test-all lint format ci bench reproduce-table1 reproduce-figure6 \
	reproduce-table2 reproduce-figure7 reproduce-figure8 reproduce-figure9 reproduce-comparison \
	reproduce-verification \
	reproduce-all clean
# The drivers share stored runs and must not train the same run twice at once.
.NOTPARALLEL:

help:  ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

$(STAMP): setup.py constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,peers]"
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install gaitcnn with the dev tools and the MiniRocket peer

test: $(STAMP)  ## fast test suite (not slow/gpu/realdata); exit code 5 (no tests) is a failure
	@$(PY) -m pytest -m "not slow and not gpu and not realdata" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-all: $(STAMP)  ## every test, slow ones included
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff lint and format check
	$(VENV)/bin/ruff check gaitcnn tests experiments data_prep benchmarks setup.py
	$(VENV)/bin/ruff format --check gaitcnn tests experiments data_prep benchmarks setup.py

format: $(STAMP)  ## apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix gaitcnn tests experiments data_prep benchmarks setup.py
	$(VENV)/bin/ruff format gaitcnn tests experiments data_prep benchmarks setup.py

ci: lint test  ## what CI runs

bench: $(STAMP)  ## speed benchmarks -> benchmarks/results.json
	$(PY) -m benchmarks.run --out benchmarks/results.json

reproduce-table1: $(STAMP)  ## Table 1: McGill authentication (simulated unless DATA_ROOT=...; QUICK=1 small)
	$(PY) -m experiments.table_1 $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(QUICK),--quick) $(FW_ARGS) $(BUDGET_ARGS) --out $(OUT)/table1$(if $(QUICK),-quick)

reproduce-figure6: $(STAMP)  ## Figure 6: different-day accuracy vs training share mu (QUICK=1 small)
	$(PY) -m experiments.figure_6 $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(QUICK),--quick) $(FW_ARGS) $(BUDGET_ARGS) --out $(OUT)/figure6$(if $(QUICK),-quick)

LABEL_ARGS = $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(QUICK),--quick) $(FW_ARGS) $(BUDGET_ARGS) --runs-dir $(OUT)/labeling-runs

reproduce-table2: $(STAMP)  ## Table 2: OU-ISIR labeling at K=744, five methods (simulated unless DATA_ROOT=...)
	$(PY) -m experiments.table_2 $(LABEL_ARGS) --out $(OUT)/table2

reproduce-figure7: $(STAMP)  ## Figure 7: labeling accuracy vs K = 100..600, 744 (Method 3, proposed)
	$(PY) -m experiments.figure_7 $(LABEL_ARGS) --out $(OUT)/figure7

reproduce-figure8: $(STAMP)  ## Figure 8: labeling accuracy vs N probe images (Method 3, proposed)
	$(PY) -m experiments.figure_8 $(LABEL_ARGS) --out $(OUT)/figure8

reproduce-figure9: $(STAMP)  ## Figure 9: N_conv and fl1 width sweeps
	$(PY) -m experiments.figure_9 $(LABEL_ARGS) --out $(OUT)/figure9

# The default is the issue-15 grid: paper, improved, MiniRocket, MultiRocket and RDST on the
# simulator's default, hard and rotated variants (about six hours on 2 cores; finished runs are
# reused). METHODS="... minirocket-invariant improved-invariant" and SETTINGS="... untilted
# android" add rows and data; QUICK=1 runs the first three methods on tiny default data.
reproduce-comparison: $(STAMP)  ## paper vs improved preset vs MiniRocket/MultiRocket/RDST, default/hard/rotated, K = 100 (3 seeds) and 744 (METHODS=, SETTINGS=, SEEDS=; QUICK=1 tiny)
	$(PY) -m experiments.comparison $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(QUICK),--quick) $(if $(SETTINGS),--settings $(SETTINGS)) $(if $(METHODS),--methods $(METHODS)) $(if $(SEEDS),--seeds $(SEEDS)) --out $(OUT)/comparison$(if $(QUICK),-quick)

# QUICK=1: 60 subjects, 2 epochs, the embedding row only; otherwise all 744 and every row. An
# earlier run in the folder is replaced only after asking (on a terminal; else the run stops).
VERIF_ARGS = $(if $(QUICK),--subjects 60 --epochs 2 --method embedding,--subjects 744 --method all)

reproduce-verification: $(STAMP)  ## open-set verification of unseen users, every row (simulated unless DATA_ROOT=...; QUICK=1 small)
	$(PY) -m gaitcnn.verification $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(VERIF_ARGS) --out $(OUT)/verification$(if $(QUICK),-quick)

# Target-specific values reach the prerequisites: reproduce-all runs them under BUDGET=hour
# into results/hour (FULL=1: the paper's protocol into results; QUICK=1: the tiny runs).
reproduce-all: BUDGET = $(if $(FULL)$(QUICK),,hour)
reproduce-all: OUT = results$(if $(filter tflearn,$(FRAMEWORK)),/tflearn)$(if $(FULL)$(QUICK),,/hour)
reproduce-all: reproduce-table1 reproduce-figure6 reproduce-table2 reproduce-figure7 reproduce-figure8 reproduce-figure9  ## every table and figure in an hour (FULL=1: whole protocol), then REPORT.md
	$(PY) -m experiments.report --results $(OUT)

ablation: $(STAMP)  ## paper -> improved preset ablation (simulated; QUICK=1 tiny) -> $(OUT)/ablation
	$(PY) -m experiments.ablation $(if $(QUICK),--quick) --out $(OUT)/ablation$(if $(QUICK),-quick)

clean:  ## remove caches and results (not the venv)
	rm -rf results .pytest_cache .ruff_cache
