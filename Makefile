# 乡信 (Xiangxin). The target names are a contract: the README, .ci/run and the benchmarks use them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
MODEL  := models/xiangxin.tar.gz
STAMP  := $(VENV)/.installed-lock

# Rasa must never phone home, and TensorFlow's start-up chatter hides real errors.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
# Progress bars of training epochs flood CI logs; keep them for people at a terminal.
ifdef CI
export TQDM_DISABLE := 1
endif

# What a model is trained from; a change to any of these retrains on the next `make setup`.
TRAINING_INPUTS := config.yml domain.yml $(shell find data nlu -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) 2>/dev/null | sort)

.PHONY: help setup venv db dictionary train run run-scaled test-scale test lint unit validate integration stories holdout bench shell screenshots lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: venv ## Create/refresh .venv, migrate and seed the knowledge DB, regenerate the dictionary, train if needed
	@$(MAKE) --no-print-directory db dictionary
	@$(MAKE) --no-print-directory $(MODEL)

venv: $(STAMP) ## Create/refresh .venv from requirements.lock (only when the lock changed)

# Reinstall only when the lock changes: a second run takes no time.
$(STAMP): requirements.lock
	@test -x $(PY) || { py310=$$(scripts/find-python310) && echo "Creating $(VENV) with $$py310" && $$py310 -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

db: venv ## Migrate the knowledge DB to the newest schema and add any missing seed data
	$(PY) -m knowledge migrate
	$(PY) -m knowledge seed

dictionary: venv ## Regenerate the jieba dictionary and NLU lookups from the knowledge base
	$(PY) -m knowledge export-dictionary

# Trained through rasa_extensions.cli, Rasa's command line with our fixes: DIET's training step traces without
# a persistent gradient tape (rasa_extensions/fast_training.py, the same weights in less time).
TRAIN := $(PY) -m rasa_extensions.cli train --fixed-model-name xiangxin --out models

train: venv ## Train the Rasa model now (setup trains only when the data changed)
	@$(MAKE) --no-print-directory dictionary
	$(TRAIN)
	@touch $(MODEL)

$(MODEL): $(TRAINING_INPUTS) | venv
	$(TRAIN)
	@touch $@

# Checks settings.py first (a bad value stops here), then writes what Rasa needs from it into var/local.env.
run: setup ## Start the Rasa server, the action server, the gateway and the console; Ctrl-C stops them all
	@$(PY) -m scripts.local_env var/local.env
	$(VENV)/bin/honcho --procfile Procfile --env var/local.env start

# The scaled layout on this machine (README "Scaling out"): nginx, two Rasa servers, two action servers, two
# gateways, PostgreSQL for both databases, Redis as the lock store. Configuration generated under var/scaled/.
run-scaled: setup ## Start the scaled stack (nginx, 2 Rasa, 2 action servers, 2 gateways, PostgreSQL, Redis); Ctrl-C stops it
	@$(PY) -m scripts.local_env var/local.env
	@$(PY) -m scripts.scaled_stack var/scaled --create-databases
	@set -a && . var/scaled/scaled.env && set +a && $(PY) -m knowledge migrate && $(PY) -m knowledge seed
	$(VENV)/bin/honcho --procfile var/scaled/Procfile --app-root . --env var/local.env,var/scaled/scaled.env start

test-scale: $(MODEL) ## Two Rasa servers on one PostgreSQL and Redis: 100 interleaved farmers, with and without affinity
	$(PY) -m pytest -m scale tests/scale

# Cheapest first, so a typo fails in seconds. The unit tests (one core, no model) run while the model trains
# (when it must): on two cores that saves most of the unit tests' minutes on a fresh clone. --output-sync keeps
# each one's output together.
test: lint ## Everything CI runs, cheapest first: lint; knowledge DB, dictionary and data validation; unit tests while the model trains (if needed); integration tests, test stories, held-out NLU
	@$(MAKE) --no-print-directory db dictionary validate
	@echo "Unit tests while the model trains (when it must); each one's output shows when it ends…"
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit $(MODEL)
	@$(MAKE) --no-print-directory integration stories holdout

lint: venv ## Ruff over the whole tree, then mypy over our packages (pyproject.toml lists them)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Every SQLAlchemy 2.0 incompatibility of our code as its own warning (pyproject.toml hides only Rasa's).
unit integration: export SQLALCHEMY_WARN_20 := 1

unit: venv ## pytest without the integration suite (needs no model and no running Rasa)
	$(PY) -m pytest -m "not integration and not scale"

validate: venv ## rasa data validate: training data, domain and rules agree
	$(RASA) data validate --fail-on-warnings

integration: $(MODEL) ## pytest's integration suite: real Rasa and action servers on the model (trains first if needed)
	$(PY) -m pytest -m "integration and not scale"

# Through rasa_extensions.cli: Rasa's command line with our fixes (the model loads a minute faster here).
stories: $(MODEL) ## rasa test core on tests/test_stories.yml; any wrong prediction fails
	$(PY) -m rasa_extensions.cli test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out var/results/core

holdout: $(MODEL) ## Score the held-out NLU sentences of tests/nlu_holdout.yml; fails under 95% intent accuracy or product F1
	$(PY) -m scripts.holdout_report --model $(MODEL) --nlu tests/nlu_holdout.yml --out var/results/holdout.json

# `make bench BENCH=e2e_bench` runs one (bench/e2e_bench.py: our stack against stock Rasa, a few minutes).
bench: setup ## Run the benchmarks (BENCH=name… for some); each prints a JSON report
	$(PY) -m bench $(BENCH)

shell: setup ## Talk to the bot in this terminal (starts the action server alongside)
	@$(PY) -m scripts.local_env var/local.env
	$(VENV)/bin/honcho --env var/local.env start actions & trap 'kill %1' EXIT; \
	  $(VENV)/bin/honcho --env var/local.env run $(RASA) shell --model $(MODEL) --endpoints endpoints.yml

screenshots: venv ## Photograph the console's main pages into docs/screenshots/ (headless Debian chromium)
	$(PY) scripts/screenshots.py

lock: ## Re-resolve requirements.in into requirements.lock (needs the package index)
	rm -rf var/lock-venv && $$(scripts/find-python310) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Generated by 'make lock' from requirements.in with Python 3.10: every installed version, pinned."; \
	  echo "# Install with: pip install -r requirements.lock"; \
	  var/lock-venv/bin/pip freeze --all | grep -vE '^(pip)=='; } > requirements.lock

clean: ## Remove the virtual environment, models and local data
	rm -rf $(VENV) models/*.tar.gz var
